"""Receptive field against depth, read off an Analysis (the recurrences themselves are in explorer.analysis.rows).

Distill's "Computing Receptive Fields of Convolutional Neural Networks" (Araujo, Norris and Sim, 2019):
r_l = r_{l-1} + (F_l - 1) j_{l-1},  j_l = j_{l-1} S_l,  start_l = start_{l-1} + ((F_l - 1) / 2 - P_l) j_{l-1},
along the height and along the width (they differ for non-square kernels or strides), with the input at
r = 1, j = 1, start = 0.5 (pixel p spans [p, p + 1)).
"""

from __future__ import annotations

from ..analysis.report import kernel_text, shape_text
from ..analysis.rows import Analysis
from ..reference import RECEPTIVE_FIELDS


def windowed_rows(analysis: Analysis) -> list:
    """Convolutions and pools with a window, first calls only: the layers that grow the receptive field."""
    return [
        r
        for r in analysis.rows
        if r.kind in ("conv", "pool")
        and r.call == 1
        and r.kernel is not None
        and not isinstance(r.kernel, str)
        and r.output_shape
        and len(r.output_shape) == 3
    ]


def records(analysis: Analysis) -> list[dict]:
    height, width = analysis.input_shape[1:]
    return [
        {
            "depth": i,
            "layer": r.label,
            "type": r.type,
            "kernel": kernel_text(r),
            "output": shape_text(r.output_shape),
            "receptive field": r.receptive_field,
            "jump": r.jump,
            "start": r.start,
            "receptive field (width)": r.receptive_field_w,
            "jump (width)": r.jump_w,
            "start (width)": r.start_w,
            "sees the whole image": r.receptive_field >= height and r.receptive_field_w >= width,
        }
        for i, r in enumerate(windowed_rows(analysis), start=1)
    ]


def whole_image_at(analysis: Analysis):
    """The first windowed layer whose receptive field covers the whole input (its height and its width), or None."""
    height, width = analysis.input_shape[1:]
    return next(
        (r for r in windowed_rows(analysis) if r.receptive_field >= height and r.receptive_field_w >= width), None
    )


def published(analysis: Analysis) -> list[dict]:
    """The published receptive field of this preset (explorer.reference) beside ours, or [] if none is known."""
    ref = RECEPTIVE_FIELDS.get(analysis.name)
    row = next((r for r in windowed_rows(analysis) if ref and r.name == ref["layer"]), None)
    if row is None:
        return []
    ours = {
        "receptive_field": row.receptive_field,
        "jump": row.jump,
        "effective_padding": row.receptive_field / 2 - row.start,
    }
    return [
        {
            "quantity": q.replace("_", " "),
            "layer": row.name,
            "published": ref[q],
            "ours": ours[q],
            "agrees": ours[q] == ref[q],
            "source": ref["source"],
        }
        for q in ("receptive_field", "jump", "effective_padding")
    ]
