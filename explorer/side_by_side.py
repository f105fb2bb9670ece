"""Two analyses side by side: totals and weight layers in order (a custom network against a preset)."""
from __future__ import annotations

from itertools import zip_longest

from .analysis import Analysis
from .report import kernel_text, shape_text


def weight_layers(analysis: Analysis) -> list:
    return [r for r in analysis.rows if r.kind in ("conv", "linear") and r.call == 1]


def totals(a: Analysis, b: Analysis) -> list[dict]:
    """One row per total, as text (a table column holds one type)."""
    out = []
    for label, get, fmt in (("parameters", lambda x: x.totals.params, "{:,}"),
                            ("multiply-adds", lambda x: x.totals.mult_adds, "{:,}"),
                            ("weight layers", lambda x: x.totals.weight_layers, "{:,}"),
                            ("activations (MB)", lambda x: x.totals.activation_mb, "{:,.2f}")):
        diff = get(a) - get(b)
        out.append({"quantity": label, "yours": fmt.format(get(a)), "preset": fmt.format(get(b)),
                    "difference": "same" if diff == 0 else ("+" if diff > 0 else "−") + fmt.format(abs(diff))})
    out.append({"quantity": "output", "yours": shape_text(a.output_shape), "preset": shape_text(b.output_shape),
                "difference": "same" if a.output_shape == b.output_shape else "differs"})
    return out


def layers(a: Analysis, b: Analysis) -> list[dict]:
    """Weight layer n of one beside weight layer n of the other, and whether they hold the same parameters."""
    rows = []
    for i, (x, y) in enumerate(zip_longest(weight_layers(a), weight_layers(b)), start=1):
        rows.append({
            "#": i,
            "yours": f"{x.name} {kernel_text(x)}".strip() if x else "",
            "your output": shape_text(x.output_shape) if x else "", "your params": x.params if x else None,
            "preset": f"{y.name} {kernel_text(y)}".strip() if y else "",
            "preset output": shape_text(y.output_shape) if y else "", "preset params": y.params if y else None,
            "same": bool(x and y and x.params == y.params and x.output_shape == y.output_shape),
        })
    return rows
