"""Architecture Explorer: the router and the shared sidebar. Run with `make run`.

The page scripts live in app_pages/, not pages/: a folder named pages/ switches Streamlit to its legacy
multipage mode, in which a deep link (/compare?family=resnet) on a fresh server runs the page without
this script (no sidebar, no navigation), and AppTest reruns skip this script altogether.
"""

import streamlit as st

from ui import presenter, profile, share, warm
from ui.sidebar import architecture_sidebar


@st.cache_resource(show_spinner=False)
def warm_up():
    """Once per server process, in the background: the first analysis pays PyTorch's one-time costs and the
    first page the imports of pandas, pyarrow and plotly (ui.warm), so that later clicks do not."""
    return warm.in_background()


profile.start()
warm_up()
st.set_page_config(page_title="Architecture Explorer", page_icon=":material/account_tree:", layout="wide")

PAGES = {
    "Lecture": [
        st.Page("app_pages/lecture.py", title="Lecture path", icon=":material/school:", url_path="lecture"),
    ],
    "Architectures": [
        st.Page("app_pages/explore.py", title="Explore", icon=":material/account_tree:", default=True),
        st.Page("app_pages/compare.py", title="Compare", icon=":material/bar_chart:", url_path="compare"),
    ],
    "Labs": [
        st.Page(
            "app_pages/layer_arithmetic.py",
            title="Layer arithmetic",
            icon=":material/calculate:",
            url_path="layer-arithmetic",
        ),
        st.Page("app_pages/exercises.py", title="Exercises", icon=":material/edit_note:", url_path="exercises"),
        st.Page(
            "app_pages/custom_builder.py",
            title="Custom builder",
            icon=":material/construction:",
            url_path="custom-builder",
        ),
    ],
    "Residual networks": [
        st.Page("app_pages/paths.py", title="Residual paths", icon=":material/alt_route:", url_path="paths"),
        st.Page(
            "app_pages/layer_removal.py",
            title="Layer removal",
            icon=":material/layers_clear:",
            url_path="layer-removal",
        ),
    ],
    "Transfer and edge": [
        st.Page("app_pages/transfer.py", title="Transfer learning", icon=":material/swap_horiz:", url_path="transfer"),
        st.Page("app_pages/edge.py", title="Edge computing", icon=":material/memory:", url_path="edge"),
    ],
}

# Pages that do not read the sidebar's architecture: its knobs are folded there.
OWN_SETTINGS = {"lecture", "exercises", "layer-removal", "transfer", "edge"}
# Widgets a page keeps in its link beyond the sidebar and experiment knobs (those mirror themselves).
SHARED = {
    "layer-arithmetic": tuple(
        f"lab.{k}"
        for k in ("kind", "height", "width", "channels", "kernels", "field", "stride", "padding_mode", "padding")
    ),
    "transfer": ("transfer-cut.cut",),
}

page = st.navigation(PAGES)
share.keep(SHARED.get(page.url_path, ()))
presenter.apply()
with profile.section("sidebar"):
    architecture_sidebar(expanded=page.url_path not in OWN_SETTINGS)
link_slot = st.container()  # the copy-link button, filled after the page has written its settings into the URL
try:
    page.run()
finally:
    with link_slot, profile.section("copy link"):
        cells = st.columns([1.6, 2.1, 1.1, 5]) if presenter.presenting() else [st.container()]
        with cells[0]:
            share.copy_link(SHARED.get(page.url_path, ()))
        if page.url_path != "lecture":  # the lecture's own row has them
            presenter.controls(*cells[1:3])
    profile.report(page.url_path or "explore")
