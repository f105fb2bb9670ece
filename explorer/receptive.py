"""Receptive field against depth, read off an Analysis (the recurrences themselves are in explorer.analysis).

Distill's "Computing Receptive Fields of Convolutional Neural Networks" (Araujo, Norris and Sim, 2019):
r_l = r_{l-1} + (F_l - 1) j_{l-1},  j_l = j_{l-1} S_l,  start_l = start_{l-1} + ((F_l - 1) / 2 - P_l) j_{l-1},
along the height, with the input at r = 1, j = 1, start = 0.5 (pixel p spans [p, p + 1)).
"""
from __future__ import annotations

from .analysis import Analysis
from .report import kernel_text, shape_text


def windowed_rows(analysis: Analysis) -> list:
    """Convolutions and pools with a window, first calls only: the layers that grow the receptive field."""
    return [r for r in analysis.rows if r.kind in ("conv", "pool") and r.call == 1 and r.kernel is not None
            and not isinstance(r.kernel, str) and r.output_shape and len(r.output_shape) == 3]


def records(analysis: Analysis) -> list[dict]:
    height = analysis.input_shape[1]
    return [{"depth": i, "layer": r.label, "type": r.type, "kernel": kernel_text(r),
             "output": shape_text(r.output_shape), "receptive field": r.receptive_field, "jump": r.jump,
             "start": r.start, "sees the whole height": r.receptive_field >= height}
            for i, r in enumerate(windowed_rows(analysis), start=1)]


def whole_image_at(analysis: Analysis):
    """The first windowed layer whose receptive field covers the input's height, or None."""
    return next((r for r in windowed_rows(analysis) if r.receptive_field >= analysis.input_shape[1]), None)


def figure(analysis: Analysis):
    """Plotly: receptive field and jump after each convolution or pool, with the input height for scale."""
    import plotly.graph_objects as go

    rows = windowed_rows(analysis)
    depth = list(range(1, len(rows) + 1))
    names = [r.label for r in rows]
    fig = go.Figure()
    fig.add_scatter(x=depth, y=[r.receptive_field for r in rows], mode="lines+markers", name="receptive field r",
                    customdata=[[n, kernel_text(r)] for n, r in zip(names, rows)],
                    hovertemplate="%{customdata[0]} (%{customdata[1]})<br>r = %{y}<extra></extra>")
    fig.add_scatter(x=depth, y=[r.jump for r in rows], mode="lines", name="jump j", line=dict(dash="dot"),
                    customdata=names, hovertemplate="%{customdata}<br>j = %{y}<extra></extra>")
    height = analysis.input_shape[1]
    fig.add_hline(y=height, line=dict(color="#868e96", dash="dash"),
                  annotation_text=f"input height {height}", annotation_position="top left")
    whole = whole_image_at(analysis)
    if whole is not None:
        x = rows.index(whole) + 1
        fig.add_vline(x=x, line=dict(color="#c92a2a", dash="dot"),
                      annotation_text=f"{whole.label} sees the whole height", annotation_position="bottom right")
    fig.update_layout(height=380, margin=dict(t=30, b=10, l=10, r=10), xaxis_title="convolution or pooling layer",
                      yaxis_title="input pixels", legend=dict(orientation="h", y=1.08))
    return fig


def published(analysis: Analysis) -> list[dict]:
    """The published receptive field of this preset (explorer.reference) beside ours, or [] if none is known."""
    from .reference import RECEPTIVE_FIELDS

    ref = RECEPTIVE_FIELDS.get(analysis.name)
    row = next((r for r in windowed_rows(analysis) if ref and r.name == ref["layer"]), None)
    if row is None:
        return []
    ours = {"receptive_field": row.receptive_field, "jump": row.jump,
            "effective_padding": row.receptive_field / 2 - row.start}
    return [{"quantity": q.replace("_", " "), "layer": row.name, "published": ref[q], "ours": ours[q],
             "agrees": ours[q] == ref[q], "source": ref["source"]} for q in ("receptive_field", "jump",
                                                                              "effective_padding")]
