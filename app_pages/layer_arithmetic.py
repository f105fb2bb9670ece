"""Layer arithmetic: one layer's output volume, parameters and multiply-adds, by formula and by PyTorch."""

import streamlit as st

from explorer.analysis.report import shape_text
from explorer.errors import ExplorerError
from explorer.labs import arithmetic as lab
from explorer.labs import receptive
from ui import charts, labs, network, notices
from ui.sidebar import current_selection

st.title("Layer arithmetic")
st.caption(
    "The lecture's pen-and-paper formulas, one layer at a time: an input A × L × D, K kernels, receptive "
    "field F, stride S, padding P. Each number is computed twice: by the formula with your numbers, and "
    "by PyTorch on the real layer."
)
tab_layer, tab_rf = st.tabs(["One layer", "Receptive field of the sidebar's network"])

with tab_layer:
    K = lab.KNOBS
    c = st.columns(4)
    kind = labs.knob_input(c[0], K["kind"], "lab.kind", format_func=lab.KINDS.get)
    height = labs.knob_input(c[1], K["height"], "lab.height")
    width = labs.knob_input(c[2], K["width"], "lab.width")
    channels = labs.knob_input(c[3], K["channels"], "lab.channels")
    c = st.columns(4)
    kernels_label = {"dense": "K (units)", "dwconv": "K (kernels per channel)"}.get(kind, "K (kernels)")
    kernels = labs.knob_input(
        c[0], K["kernels"], "lab.kernels", label=kernels_label, disabled=kind in ("maxpool", "avgpool")
    )
    windowed = kind != "dense"
    field = labs.knob_input(c[1], K["field"], "lab.field", disabled=not windowed)
    stride = labs.knob_input(c[2], K["stride"], "lab.stride", disabled=not windowed)
    labs.remember("lab.padding_mode", "number")
    mode = c[3].radio(
        "Padding",
        lab.PADDINGS,
        key="lab.padding_mode",
        horizontal=True,
        disabled=not windowed,
        format_func={"number": "P =", "same": "'same'", "valid": "'valid'"}.get,
        help=K["padding_mode"].help,
    )
    padding = labs.knob_input(
        c[3], K["padding"], "lab.padding", disabled=mode != "number" or not windowed, label_visibility="collapsed"
    )
    labs.keep(
        "lab.kind",
        "lab.height",
        "lab.width",
        "lab.channels",
        "lab.kernels",
        "lab.field",
        "lab.stride",
        "lab.padding_mode",
        "lab.padding",
    )
    try:
        setup = lab.LayerSetup.checked(
            kind=kind,
            height=height,
            width=width,
            channels=channels,
            kernels=kernels,
            field=field,
            stride=stride,
            padding_mode=mode,
            padding=padding,
        )
        result = labs.layer_result(setup)
    except ExplorerError as e:
        notices.show_error(e)
        st.stop()

    out = result.output_shape
    volume = f"{out[1]} × {out[2]} × {out[0]}" if len(out) == 3 else f"{out[0]}"
    m = st.columns(3)
    m[0].metric("Output volume (A × L × D)", volume, help=f"PyTorch's shape (C, H, W): {out}.")
    m[1].metric("Parameters", f"{result.params:,}")
    m[2].metric(
        "Multiply-adds",
        f"{result.mult_adds:,}",
        help="Counted by torch.utils.flop_counter on the real layer (FLOPs / 2).",
    )
    st.markdown(f"**Formula, numbers, and PyTorch's measurement** (input {height} × {width} × {channels})")
    side = next((s for s in result.steps if s["latex"]), None)
    if side:
        st.latex(side["latex"])
    labs.steps(result.steps)
    for note in result.notes:
        st.info(note, icon=":material/info:")
    device = (
        "a tensor of zeros"
        if result.device == "cpu"
        else "a tensor on the meta device (too large to compute here: PyTorch computes the shapes and counts only)"
    )
    st.code(
        f"layer = {result.code}\nx = torch.zeros(1, {channels}, {height}, {width})  # (batch, D, A, L)\n"
        f"print(layer(x).shape)  # torch.Size([1, {', '.join(map(str, out))}])",
        language="python",
    )
    st.caption(f"Measured by running {device} through the layer.")

    st.subheader("The sliding window")
    if not windowed:
        st.caption("A dense layer has no window: every output unit sees every input number.")
    elif not lab.picture_fits(setup):
        st.info(
            f"The picture is drawn for padded inputs up to {lab.PICTURE_LIMIT} pixels a side; make A and L "
            "smaller to see the window move.",
            icon=":material/info:",
        )
    else:
        count = len(lab.positions(setup))
        # set before the slider: a new maximum makes a new widget, which would start again at 1
        position = st.session_state.get("lab.step", st.session_state.get("_keep.lab.step", 1))
        st.session_state["lab.step"] = max(1, min(position, count))
        step = st.slider(
            "Window position",
            1,
            max(count, 2),
            key="lab.step",
            disabled=count < 2,
            help="The order in which PyTorch visits the positions: left to right, top to bottom.",
        )
        labs.keep("lab.step")
        st.plotly_chart(charts.sliding_window(setup, step - 1), key="lab.window")
        st.caption(
            lab.picture_caption(setup, step - 1) + " Grey: padding (zeros). Orange: input pixels no window "
            "reaches (PyTorch floors the division). Dots: the centre of every window visited."
        )

with tab_rf:
    selection = current_selection()
    st.caption(
        f"{notices.escape_markdown(selection.title)} at {shape_text(selection.input_shape)}, from the "
        "sidebar. Distill's recurrences (Araujo et al., 2019), along the height and the width: "
        "r = r_in + (F − 1)·j_in, "
        "j = j_in·S, start = start_in + ((F − 1)/2 − P)·j_in, with the input at r = 1, j = 1, start = 0.5."
    )
    analysis = network.analysis_of(selection)
    if analysis is not None:
        whole = receptive.whole_image_at(analysis)
        last = receptive.windowed_rows(analysis)
        if last:
            cols = st.columns(3)
            end = last[-1]
            square = end.receptive_field == end.receptive_field_w and end.jump == end.jump_w
            cols[0].metric(
                "Receptive field of the last window",
                f"{end.receptive_field} px" if square else f"{end.receptive_field} × {end.receptive_field_w} px",
                help=f"After {end.label} (height × width where they differ).",
            )
            cols[1].metric("Jump there", f"{end.jump} px" if square else f"{end.jump} × {end.jump_w} px")
            cols[2].metric(
                "Sees the whole image from",
                whole.label if whole else "never",
                help="The first convolution or pool whose receptive field reaches the input's height and width.",
            )
            for ref in receptive.published(analysis):
                mark = ":green[:material/check_circle: agrees]" if ref["agrees"] else ":red[:material/cancel: differs]"
                st.markdown(
                    f"- **{ref['quantity']}** at {ref['layer']}: published {ref['published']:g} "
                    f"({ref['source']}); ours **{ref['ours']:g}** {mark}"
                )
            st.plotly_chart(charts.receptive_field(analysis), key="lab.rf")
            st.dataframe(receptive.records(analysis), hide_index=True, key="lab.rf.table")
        else:
            st.info("This network has no convolution or pooling window.", icon=":material/info:")
