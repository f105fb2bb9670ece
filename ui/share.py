"""A "copy link" button on every page: the page's own settings in the link, restored when it is opened.

Pages already mirror their sidebar choice and experiment knobs into st.query_params (ui.sidebar,
ui.experiments.knob_widgets); keep(keys) adds a page's other widgets (lab values, the chosen cut, the lecture
step) the same way: restored from the link on the session's first visit, written back when they change.
The button copies the browser's address (a three-line script; st.code's copy button would add a code
element to every page, which the pages' tests read as their own).
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st


def _parse(text: str, like):
    """A URL value typed like the widget's current value; None when it cannot be read (the widget keeps its own)."""
    try:
        if like is None:  # not drawn yet in this session: a number when it reads as one
            return int(text) if text.lstrip("-").isdigit() else float(text)
        if isinstance(like, bool):
            return {"true": True, "false": False, "1": True, "0": False}.get(text.lower())
        if isinstance(like, int):
            return int(text)
        if isinstance(like, float):
            return float(text)
    except ValueError:
        return None if like is not None else text
    return text


def keep(keys: tuple[str, ...], defaults: dict | None = None) -> None:
    """Restore these widget keys from the link (first run of the session), before the widgets are drawn."""
    flag = "share.restored." + ",".join(keys)
    if st.session_state.get(flag):
        return
    st.session_state[flag] = True
    for key in keys:
        if key in st.query_params:
            like = st.session_state.get(key, (defaults or {}).get(key))
            value = _parse(st.query_params[key], like)
            if value is not None:
                st.session_state[key] = value


def mirror(keys: tuple[str, ...]) -> None:
    """Write these widget values into the URL (after the widgets are drawn)."""
    for key in keys:
        if key in st.session_state:
            value = st.session_state[key]
            text = str(value).lower() if isinstance(value, bool) else str(value)
            if st.query_params.get(key) != text:
                st.query_params[key] = text


def link() -> str:
    base = st.context.url.split("?")[0] if st.context.url else ""
    query = urlencode(st.query_params.to_dict())
    return base + ("?" + query if query else "")


COPY_BUTTON = """
<button class="copy-link" style="font-size:1rem;padding:.35rem .8rem;border-radius:.5rem;border:1px solid #999;
 background:#fff;cursor:pointer">Copy to the clipboard</button> <span class="copy-link-done"></span>
<script>
document.querySelectorAll('button.copy-link').forEach(b => b.onclick = () => {
  const url = window.location.href, done = b.parentElement.querySelector('.copy-link-done');
  const fallback = () => {  // plain http (a classroom server) has no navigator.clipboard
    const t = document.createElement('textarea'); t.value = url; document.body.appendChild(t); t.select();
    const ok = document.execCommand('copy'); t.remove(); return ok; };
  const said = ok => { done.textContent = ok ? 'Copied.' : 'Select the link below and copy it.'; };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).then(() => said(true),
    () => said(fallback()));
  else said(fallback());
});
</script>
"""


def copy_link(keys: tuple[str, ...] = ()) -> None:
    """The button: mirror the page's own keys into the URL, then offer the browser's current address to copy.

    The script copies window.location.href, which Streamlit keeps equal to st.query_params; the caption
    shows the same link as the server wrote it, to read or to select by hand.
    """
    mirror(keys)
    with st.popover("Copy link", icon=":material/link:"):
        st.html(COPY_BUTTON, unsafe_allow_javascript=True)
        st.caption(f"This link opens this page with its settings: `{link()}`")  # urlencoded: no backtick
