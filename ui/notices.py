"""What the app says when something is wrong: one sentence, the user's text shown as typed, never a traceback."""

from __future__ import annotations

import re

import streamlit as st

from explorer.errors import ExplorerError

_MARKDOWN = re.compile(
    r"[\\`*{}\[\]<>$~|#]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|:(?=[A-Za-z])|^\s*[-+=>!]|&(?=\w)", re.MULTILINE
)


def escape_markdown(text) -> str:
    """Text shown as it is written: markdown, HTML, LaTeX ($) and Streamlit's :colour[...] directives are
    backslash-escaped (CommonMark escapes any ASCII punctuation). Errors and labels quote the user's text."""
    return _MARKDOWN.sub(lambda m: "".join("\\" + ch if not ch.isspace() else ch for ch in m.group(0)), str(text))


def show_error(error: Exception) -> None:
    """The project's errors are one sentence; anything else is a bug, shown without a traceback."""
    if isinstance(error, ExplorerError):
        st.error(escape_markdown(error), icon=":material/error:")
    else:
        st.error(
            escape_markdown(
                f"Something went wrong that should not have ({type(error).__name__}: {error}). "
                "Your settings are kept; change one of them or reload the page."
            ),
            icon=":material/bug_report:",
        )
