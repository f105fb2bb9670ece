"""Architecture Explorer: the router and the shared sidebar. Run with `make run`."""
import streamlit as st

from ui.sidebar import architecture_sidebar

st.set_page_config(page_title="Architecture Explorer", page_icon="🧱", layout="wide")

PAGES = {
    "Architectures": [
        st.Page("pages/explore.py", title="Explore", icon="🔎", url_path="explore", default=True),
        st.Page("pages/compare.py", title="Compare", icon="📊", url_path="compare"),
    ],
}

page = st.navigation(PAGES)
architecture_sidebar()
page.run()
