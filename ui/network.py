"""The analysed network on screen: totals, the published figures beside them, the layer table and a derivation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import analyze
from explorer.analysis.report import human, records, shape_text
from explorer.analysis.rows import memoised
from explorer.errors import ExplorerError
from explorer.lecture import short
from explorer.reference import matches_setting, published_for
from ui.measured import columns as measured_columns
from ui.notices import escape_markdown, show_error
from ui.presenter import presenting
from ui.profile import section
from ui.sidebar import use_input


def analysis_of(selection):
    """explorer.analyze for the sidebar's selection, or None after showing the error."""
    try:
        return analyze(selection.name, selection.input_shape, **selection.knobs)
    except ExplorerError as e:
        show_error(e)
    return None


def totals(analysis) -> None:
    t = analysis.totals
    top = st.columns(3)
    if presenting():  # 138.4 M where space is short; the exact count on hover
        top[0].metric("Parameters", short(t.params), help=f"{t.params:,} parameters of the PyTorch model.")
        top[1].metric("Trainable", short(t.trainable_params), help=f"{t.trainable_params:,}")
    else:
        top[0].metric("Parameters", f"{t.params:,}", help="Every parameter of the PyTorch model, counted once.")
        top[1].metric("Trainable", f"{t.trainable_params:,}")
    top[2].metric(
        "Multiply-adds",
        human(t.mult_adds),
        help=f"{t.mult_adds:,} multiply-adds for one image: "
        "convolutions and fully connected layers, as the VGG and MobileNet papers count them.",
    )
    low = st.columns(3)
    low[0].metric("Weights (fp32)", f"{t.param_mb:,.1f} MB", help="Parameters x 4 bytes (MB = 2^20 bytes).")
    low[1].metric("Activations", f"{t.activation_mb:,.2f} MB", help="Every layer's output for one image at fp32.")
    low[2].metric(
        "Weight layers",
        t.weight_layers,
        help="Convolutions and fully connected layers: the depth the VGG paper counts.",
    )
    st.caption(
        f"Input {shape_text(analysis.input_shape)} → output {shape_text(analysis.output_shape)} · "
        f"{t.rows:,} layer calls"
    )


def _use_setting(shape, family: str | None = None) -> None:
    use_input(shape, family)


def published(analysis) -> None:
    """The paper's figures beside ours, and whether they agree at the published setting."""
    figures = published_for(analysis.name, analysis.family)
    lines, other_inputs = [], set()
    for p in figures:
        ours = analysis.totals.params if p.quantity == "params" else analysis.totals.mult_adds
        what = "parameters" if p.quantity == "params" else "multiply-adds"
        if matches_setting(p, analysis):
            mark = "✓ agrees" if p.agrees(ours) else "✗ differs"
            lines.append(f"- **{what}**: published {p.display()} ({p.source}); ours **{ours:,}**: {mark}")
        elif p.name == analysis.name or (
            p.name == analysis.family and all(analysis.knobs.get(k) == v for k, v in p.knobs.items())
        ):
            lines.append(
                f"- **{what}**: published {p.display()} at {p.setting} ({p.source}); ours at this setting {ours:,}"
            )
            other_inputs.add(p.input_shape)
    if not lines:
        return
    with st.expander("Published figures beside ours", expanded=True):
        st.markdown("\n".join(lines))
        for shape in sorted(other_inputs):
            if tuple(shape) != tuple(analysis.input_shape):
                st.button(
                    f"Analyse at the published input, {shape_text(shape)}",
                    on_click=_use_setting,
                    args=(shape, analysis.family),
                    key=f"published.{shape_text(shape)}",
                )


def table(analysis, key: str, measurement=None):
    """The per-layer table; returns the row whose derivation to show (the selected one, or the first conv).
    With a measurement (explorer.live.latency), the measured columns are added (ui.measured.columns)."""
    with section("records"):
        if measurement is None:  # the frame is built once per analysis for the whole server
            data = memoised(analysis, ("table frame",), lambda: pd.DataFrame(records(analysis)))
        else:
            data = measured_columns(records(analysis), measurement)
    with section("dataframe"):
        state = st.dataframe(
            data,
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key=f"{key}.table",
            height=420,
            column_config={
                "params": st.column_config.NumberColumn(format="localized"),
                "trainable": st.column_config.NumberColumn(format="localized"),
                "mult-adds": st.column_config.NumberColumn(format="localized"),
                "share of time": st.column_config.NumberColumn(format="percent"),
            },
        )
    selected = state.selection.rows if state and state.selection else []
    if selected:
        return analysis.rows[selected[0]]
    return next((r for r in analysis.rows if r.derivation), None)


def derivation(row) -> None:
    if row is None:
        return
    st.markdown(
        f"**{escape_markdown(row.label)}** · {row.type} · {shape_text(row.input_shape)} → "
        f"{shape_text(row.output_shape)}"
    )
    if not row.derivation:
        st.caption(
            "This layer has no pen-and-paper formula: its output has the shape of its input and it has no parameters."
            if row.params == 0
            else "No formula shown for this layer type."
        )
        return
    for step in row.derivation:
        measured = row.measured(step["quantity"])
        check = ""
        if measured is not None:
            check = " · PyTorch: " + (f"{measured:,} ✓" if measured == step["value"] else f"{measured:,} ✗ (differs)")
        st.markdown(f"- *{step['quantity']}*: `{step['formula']}` = `{step['numbers']}`{check}")
        if step["note"]:
            st.info(step["note"])
    if row.shared_with is not None:
        st.caption(f"This is call {row.call} of the module: its parameters are counted at row {row.shared_with}.")
