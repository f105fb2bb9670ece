"""Custom builder: write a network in the VGG paper's notation or Keras's, and analyse it like any family."""

import streamlit as st

from explorer import all_presets, analyze, get_family
from explorer.analysis import compare as side_by_side
from explorer.analysis.report import shape_text
from explorer.errors import ExplorerError
from explorer.notation import MAX_LAYERS, origins
from ui import graphs, labs, network, notices, sidebar
from ui.sidebar import CUSTOM, current_selection

URL_KEY = "net"  # this page's own query parameter: the text of the box
URL_LIMIT = 4000  # characters: longer links are cut by some browsers and servers
BOX = "builder.spec"
family = get_family("custom")

st.title("Custom builder")
st.caption(
    "Write a network one layer per line or separated by commas: in the VGG paper's notation (conv3-64, "
    "maxpool, LRN, FC-4096, soft-max) or Keras's (Conv2D(16, 5), MaxPooling2D(2), Flatten, Dense(120)...). "
    "It goes through the same analysis as every family; the input size is the sidebar's."
)

if not st.session_state.get("builder.url_read"):  # a shared link fills the box once, on arrival
    st.session_state["builder.url_read"] = True
    if URL_KEY in st.query_params:
        st.session_state[f"_keep.{BOX}"] = st.query_params[URL_KEY]
labs.remember(BOX, family.knob("spec").default)


def _fill_box():
    name = st.session_state["builder.preset"]
    if name in family.presets:
        st.session_state[BOX] = family.presets[name].knobs["spec"]


def _open_in_explore():
    sidebar.choose("custom", CUSTOM, {"spec": st.session_state[BOX]})
    st.session_state["builder.goto"] = True


left, right = st.columns([3, 2])
left.selectbox(
    "Fill the box with",
    ["—"] + list(family.presets),
    key="builder.preset",
    on_change=_fill_box,
    format_func=lambda n: "choose a preset…" if n == "—" else family.presets[n].title,
)
text = left.text_area("Layers", key=BOX, height=300, help=family.knob("spec").help)
labs.keep(BOX)
if len(text) <= URL_LIMIT and st.query_params.get(URL_KEY) != text:
    st.query_params[URL_KEY] = text
elif len(text) > URL_LIMIT:
    st.query_params.pop(URL_KEY, None)
    left.caption(f"Longer than {URL_LIMIT:,} characters: too long for the page's link; download the code instead.")
with right.expander("The notation", expanded=True):
    st.markdown(
        "- **Paper** (Table 1): `conv3-64` is 64 kernels 3×3, stride 1, padding that keeps the size, then ReLU; "
        "`maxpool` is 2×2 stride 2; `LRN`; `FC-4096` (flattens first; ReLU except on the last); `soft-max`.\n"
        '- **Keras**: `Conv2D(16, (5, 5), strides=1, padding="same", activation="relu")`, '
        "`DepthwiseConv2D(3)`, `MaxPooling2D(2)`, `AveragePooling2D`, `GlobalAveragePooling2D`, `Flatten`, "
        '`Dense(120, activation="relu")`, `Dropout(0.5)`, `BatchNormalization`, `ReLU`, `Softmax`, '
        '`name="..."`. PyTorch-style `padding=2` works too, and Keras code pasted as it is: '
        "`model.add(layers.Conv2D(6, 5))`.\n"
        f"- `#` starts a comment. At most {MAX_LAYERS:,} layers."
    )
right.button(
    "Open in Explore",
    on_click=_open_in_explore,
    icon=":material/account_tree:",
    help="Puts this network in the sidebar (family 'Custom network') and opens the Explore page.",
)
if st.session_state.pop("builder.goto", False):
    st.switch_page("app_pages/explore.py")

selection = current_selection()
shape = sidebar.declared_input(family, {"spec": text}) or selection.input_shape  # input_shape= wins
try:
    analysis = analyze("custom", shape, spec=text)
except ExplorerError as e:
    try:
        where = origins(text, shape[0])
    except ExplorerError:
        where = None
    labs.spec_error(e, text, where)
    st.stop()

network.totals(analysis)
tab_graph, tab_table, tab_compare, tab_code = st.tabs(
    ["Layer graph", "Shapes and parameters", "Compare with a preset", "PyTorch code"]
)
with tab_graph:
    graphs.graph(analysis, key="builder.graph")
with tab_table:
    row = network.table(analysis, key="builder")
    network.derivation(row)
with tab_compare:
    catalogue = all_presets()  # a copy of the registry's dict: taken once, not once per option shown
    presets = sorted(p for p in catalogue if p not in family.presets)
    shown = sidebar.shown_preset()  # the sidebar's preset, also with a knob changed from it
    labs.remember("builder.compare", shown if shown in presets else "vgg16")
    other_name = st.selectbox("Preset", presets, key="builder.compare", format_func=lambda n: catalogue[n].title)
    labs.keep("builder.compare")
    try:
        other = analyze(other_name, shape)
    except ExplorerError as e:
        notices.show_error(e)
    else:
        st.dataframe(side_by_side.totals(analysis, other), hide_index=True, key="builder.compare.totals")
        rows = side_by_side.layers(analysis, other)
        same = sum(r["same"] for r in rows)
        st.caption(
            f"Weight layers in order, at {shape_text(shape)}: {same} of {len(rows)} have "
            "the same output and the same parameters."
        )
        st.dataframe(rows, hide_index=True, key="builder.compare.layers")
with tab_code:
    labs.export_section("custom", shape, {"spec": text}, key="builder.code")
