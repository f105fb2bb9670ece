"""Compare: VGG configurations A to E beside the paper's Table 2, and presets across families."""
import plotly.graph_objects as go
import streamlit as st

from explorer import analyze
from explorer.errors import ExplorerError
from explorer.families.vgg import CONFIGS
from explorer.reference import VGG_TABLE_2
from explorer.report import human
from ui import render
from ui.families_compare import across_families
from ui.sidebar import current_selection


def vgg_view(selection) -> None:
    st.subheader("VGG configurations A to E")
    vgg_knobs = {k: v for k, v in selection.knobs.items() if k != "config"} if selection.family == "vgg" else {}
    shape = selection.input_shape
    st.caption(f"Input {'x'.join(map(str, shape))} from the sidebar"
               + (f", with the sidebar's VGG knobs ({', '.join(f'{k}={v}' for k, v in vgg_knobs.items())})"
                  if vgg_knobs else ", VGG's default knobs (pick the VGG family in the sidebar to change them)")
               + ". Table 2 of the paper counts parameters at 224x224 with 1000 classes.")

    rows, here = [], {}
    try:
        for config in CONFIGS:
            here[config] = analyze("vgg", shape, **{**vgg_knobs, "config": config})
            at_224 = analyze("vgg", (3, 224, 224), config=config)
            rows.append({"configuration": config, "weight layers": here[config].totals.weight_layers,
                         "params (this input)": here[config].totals.params,
                         "mult-adds (this input)": here[config].totals.mult_adds,
                         "params at 224": at_224.totals.params, "Table 2 (millions)": VGG_TABLE_2[config],
                         "ours at 224, millions": round(at_224.totals.params / 1e6)})
    except ExplorerError as e:
        render.show_error(e)
        return

    fig = go.Figure()
    fig.add_bar(name=f"ours at {shape[1]}x{shape[2]}", x=CONFIGS,
                y=[r["params (this input)"] / 1e6 for r in rows])
    fig.add_bar(name="paper, Table 2 (224x224)", x=CONFIGS, y=[r["Table 2 (millions)"] for r in rows])
    fig.update_layout(barmode="group", yaxis_title="parameters (millions)", xaxis_title="configuration",
                      height=380, margin=dict(t=30, b=10))
    st.plotly_chart(fig, key="compare.vgg.params")
    fig2 = go.Figure(go.Bar(x=CONFIGS, y=[r["mult-adds (this input)"] / 1e9 for r in rows],
                            text=[human(r["mult-adds (this input)"]) for r in rows]))
    fig2.update_layout(yaxis_title="multiply-adds (G)", xaxis_title="configuration", height=320,
                       margin=dict(t=30, b=10))
    st.plotly_chart(fig2, key="compare.vgg.madds")
    st.dataframe(rows, hide_index=True, column_config={
        c: st.column_config.NumberColumn(format="localized")
        for c in ("params (this input)", "mult-adds (this input)", "params at 224")})
    here_d = here["D"]
    fc = [r for r in here_d.rows if r.kind == "linear"]
    fc_share = sum(r.params for r in fc) / here_d.totals.params
    small, large = rows[0]["params (this input)"], rows[-1]["params (this input)"]
    st.markdown(f"From A to E the depth grows from {rows[0]['weight layers']} to {rows[-1]['weight layers']} weight "
                f"layers and the parameters by "
                f"{(large - small) / small:.0%} at this input. In configuration D the three fully connected layers "
                f"hold **{fc_share:.0%}** of the parameters, the first one alone "
                f"{fc[0].params / here_d.totals.params:.0%} (its input is the last pool's "
                f"{'x'.join(map(str, fc[0].input_shape))} output, so it grows with the input size: compare 32x32 "
                f"with 224x224).")


selection = current_selection()
st.title("Compare architectures")
tab_vgg, tab_families = st.tabs(["VGG A to E", "Across families"])
with tab_vgg:
    vgg_view(selection)
with tab_families:
    across_families()
