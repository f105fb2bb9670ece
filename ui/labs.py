"""Streamlit helpers for the Labs pages: remembered widgets, formula steps, spec errors, the PyTorch export."""

from __future__ import annotations

import streamlit as st

from explorer.errors import ExplorerError, ShapeError, SpecError
from explorer.labs.arithmetic import compute
from explorer.labs.export import to_pytorch
from explorer.live import analyst
from explorer.registry import Knob
from ui.notices import escape_markdown, show_error
from ui.sidebar import number_box

CODE_LINES_SHOWN = 400


def remember(key: str, default) -> None:
    """Give a widget its last value: Streamlit drops the state of widgets a run does not draw (another page)."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(f"_keep.{key}", default)


def keep(*keys: str) -> None:
    for key in keys:
        if key in st.session_state:
            st.session_state[f"_keep.{key}"] = st.session_state[key]


def knob_input(container, knob: Knob, key: str, label: str | None = None, **kwargs):
    """A number input or select box from a Knob declaration (range, default and help declared once)."""
    if knob.kind == "choice":
        remember(key, knob.default)
        return container.selectbox(label or knob.title, knob.choices, key=key, help=knob.help, **kwargs)
    remember(key, float(knob.default))  # a box of floats: see ui.sidebar.number_box; the knob judges the value
    help_text = f"{knob.help} ({int(knob.low)} to {int(knob.high)})"
    return number_box(container, label or knob.title, key=key, help=help_text, **kwargs)


def steps(step_list: list) -> None:
    """Formula, numbers plugged in, and what PyTorch measured, one line per quantity."""
    for step in step_list:
        measured = step.get("measured")
        check = ""
        if measured is not None:
            check = " — PyTorch: " + (
                f"{measured:,} :green[:material/check_circle: agrees]"
                if measured == step["value"]
                else f"{measured:,} :red[:material/cancel: differs]"
            )
        st.markdown(f"- *{step['quantity']}*: `{step['formula']}` = `{step['numbers']}`{check}")
        if step.get("note"):
            st.info(step["note"], icon=":material/info:")


def spec_error(error: ExplorerError, text: str, origins: dict | None = None) -> None:
    """A parse error (or a layer that collapses the input) with the line of the box it points at."""
    show_error(error)
    line = column = None
    if isinstance(error, SpecError):
        line, column = error.line, error.column
    elif isinstance(error, ShapeError) and origins and error.layer in origins:
        layer = origins[error.layer]
        line, column = layer.line, layer.column
        st.caption(f"'{escape_markdown(error.layer)}' comes from line {line}, column {column} of the box.")
    lines = text.split("\n")
    if line is not None and 1 <= line <= len(lines):
        st.code(f"{lines[line - 1]}\n{' ' * (column - 1)}^", language=None)


@st.cache_data(max_entries=64, show_spinner=False)
def layer_result(setup):
    """explorer.lab.compute, once per setup: moving the window-position slider reruns the page, and a real layer
    on a large input takes seconds (measured: 1.5 s for 64 3x3 kernels on 15x1024x1024)."""
    return compute(setup)


@st.cache_resource(max_entries=128, show_spinner="Writing the PyTorch code…")
def _export(name: str, shape: tuple, knobs: tuple):
    """Once per configuration for the whole server (a resource: handed out as is, not copied per session;
    nothing changes an Export)."""
    return analyst.pool().call(to_pytorch, name, shape, **dict(knobs))  # in an analysis process where there is one


def export_section(name: str, shape: tuple, knobs: dict, key: str) -> None:
    """The network as runnable PyTorch code: what it is, a download, and the code itself."""
    try:
        export = _export(name, tuple(shape), tuple(sorted(knobs.items())))
    except ExplorerError as e:
        show_error(e)
        return
    st.caption(
        f"{escape_markdown(export.explanation)} Run it with `python {export.filename}`: it prints the "
        "output shape and the parameter count, which should match this page."
    )
    st.download_button(
        f"Download {export.filename}",
        export.code,
        export.filename,
        "text/x-python",
        key=f"{key}.download",
        icon=":material/download:",
    )
    lines = export.code.split("\n")
    if len(lines) > CODE_LINES_SHOWN:
        st.caption(f"The first {CODE_LINES_SHOWN} of {len(lines):,} lines; the download has all of them.")
    st.code("\n".join(lines[:CODE_LINES_SHOWN]), language="python", line_numbers=True)
