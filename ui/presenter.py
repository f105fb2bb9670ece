"""Presenter mode: the current page readable from the back of a room at 1280x720.

A switch (sidebar and top of the lecture) and ?present=1 (and ?theme=dark) turn it on for the session: body
text at least 20 px, larger metrics, the sidebar collapsed, high contrast, and a dark theme option. Pages ask
presenting() to reduce their controls to the ones the step needs. Streamlit has no API for a page's font size,
so this is CSS written with st.html (which adds no iframe and no height).
"""

from __future__ import annotations

import streamlit as st

KEY, DARK = "present", "present.dark"
BODY_PX = 20

LIGHT_CSS = """
<style>
 html, body, [data-testid="stAppViewContainer"] { font-size: 20px; }
 [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
 [data-testid="stCaptionContainer"], [data-testid="stWidgetLabel"] p, .stAlert p { font-size: 20px !important; }
 [data-testid="stMarkdownContainer"] { color: #000; }
 [data-testid="stCaptionContainer"] { color: #222 !important; }
 [data-testid="stMetricValue"], [data-testid="stMetricValue"] p { font-size: 44px !important; font-weight: 700; }
 [data-testid="stMetricLabel"] p { font-size: 20px !important; }
 h1 { font-size: 2.0rem !important; padding-top: 0 !important; }
 h2, h3 { font-size: 1.5rem !important; }
 section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"]
   { display: none !important; }
 [data-testid="stMainBlockContainer"], .block-container { padding-top: 1.2rem !important; max-width: 100% !important; }
 header[data-testid="stHeader"] { height: 0; min-height: 0; }
 button p { font-size: 20px !important; }
</style>
"""

DARK_CSS = """
<style>
 .stApp, [data-testid="stAppViewContainer"], [data-testid="stHeader"] { background: #0b0b0b !important; }
 .stApp, .stApp p, .stApp li, .stApp h1, .stApp h2, .stApp h3, .stApp label, .stApp span,
 [data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"], [data-testid="stMetricValue"]
   { color: #f5f5f5 !important; }
 .stApp button { background: #222 !important; color: #fff !important; border-color: #888 !important; }
 .stApp code { background: #222 !important; color: #ffe066 !important; }
 [data-testid="stAlert"] div { background-color: #161616 !important; }
 [data-testid="stAlert"] { border: 2px solid #868e96; border-radius: 0.5rem; }
 [data-baseweb="select"] > div, [data-baseweb="popover"] li, .stApp input
   { background-color: #222 !important; color: #fff !important; }
 [data-testid="stExpander"] details, [data-testid="stPopoverButton"] { background: #111 !important; }
 [data-testid="stPopoverBody"] { background: #161616 !important; color: #f5f5f5 !important; }
 [data-testid="stPopoverBody"] span, [data-testid="stPopoverBody"] p { color: #f5f5f5 !important; }
 [data-testid="stPopoverBody"] code { background: #222 !important; color: #ffe066 !important; }
 button.copy-link { background: #222 !important; color: #fff !important; }
</style>
"""


def restore_from_url() -> None:
    """On a session's first run, ?present=1 and ?theme=dark switch the modes on."""
    if "present.url" in st.session_state:
        return
    st.session_state["present.url"] = True
    st.session_state.setdefault(KEY, st.query_params.get("present") == "1")
    st.session_state.setdefault(DARK, st.query_params.get("theme") == "dark")


def presenting() -> bool:
    return bool(st.session_state.get(KEY))


def apply() -> None:
    """The switch in the sidebar, the CSS when on, and the URL kept in step (?present=1)."""
    restore_from_url()
    st.sidebar.toggle("Presenter mode", key=KEY, help="Large text for a projector; the sidebar folds away.")
    if presenting():
        st.html(LIGHT_CSS)
        if st.session_state.get(DARK):
            st.html(DARK_CSS)
        st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]
    if st.session_state.get(DARK) and presenting():
        st.query_params["theme"] = "dark"
    elif "theme" in st.query_params:
        del st.query_params["theme"]


def controls(exit_cell=None, theme_cell=None) -> None:
    """In presenter mode the sidebar is hidden: a button to leave it and the theme switch (in the given cells)."""
    if not presenting():
        return
    if exit_cell is None:
        exit_cell, theme_cell = st.columns([1, 1, 6])[:2]
    exit_cell.button("Exit presenter", key="present.exit", on_click=st.session_state.update, args=({KEY: False},))
    theme_cell.toggle("Dark", key=DARK)
