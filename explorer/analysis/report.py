"""Views of an Analysis: the torchinfo-like text table, table records, CSV. Formatting only, no numbers made here."""

from __future__ import annotations

import csv
import io

from .rows import Analysis, LayerRow


def shape_text(shape) -> str:
    return "x".join(str(s) for s in shape) if shape else ""


def human(n: float, unit: str = "") -> str:
    """138357544 -> '138.36 M'."""
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            return f"{n / size:.2f} {suffix}{unit}"
    return f"{n:g} {unit}".strip()


def kernel_text(row: LayerRow) -> str:
    if not row.kernel or isinstance(row.kernel, str):
        return ""
    text = f"{row.kernel[0]}x{row.kernel[1]}"
    if row.stride:
        text += f"/{row.stride[0]}" if row.stride[0] == row.stride[1] else f"/{row.stride[0]}x{row.stride[1]}"
    if row.padding and not isinstance(row.padding, str) and any(row.padding):
        text += f" p{row.padding[0]}" if row.padding[0] == row.padding[1] else f" p{row.padding[0]}x{row.padding[1]}"
    elif isinstance(row.padding, str):
        text += f" {row.padding}"
    if row.groups and row.groups > 1:
        text += f" g{row.groups}"
    return text


COLUMNS = (
    "#",
    "layer",
    "type",
    "kernel",
    "input",
    "output",
    "params",
    "trainable",
    "mult-adds",
    "receptive field",
    "jump",
    "start",
)


def records(analysis: Analysis) -> list[dict]:
    """One dict per row, for st.dataframe and the CSV download."""
    out = []
    for r in analysis.rows:
        out.append(
            {
                "#": r.index,
                "layer": r.label,
                "type": r.type,
                "kernel": kernel_text(r),
                "input": shape_text(r.input_shape),
                "output": shape_text(r.output_shape) or "not called",
                "params": r.params,
                "trainable": r.trainable,
                "mult-adds": r.mult_adds,
                "receptive field": r.receptive_field,
                "jump": r.jump,  # input pixels between two neighbouring outputs (Distill's j)
                "start": r.start,  # centre of the first output's receptive field, input pixel i spans [i, i + 1)
            }
        )
    return out


def to_csv(analysis: Analysis) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(records(analysis))
    return buf.getvalue()


def to_text(analysis: Analysis, max_rows: int | None = None) -> str:
    """A torchinfo-like summary: one line per layer call, then the totals."""
    t = analysis.totals
    head = (
        f"{analysis.title} ({analysis.name}), input {shape_text(analysis.input_shape)}, "
        f"output {shape_text(analysis.output_shape)}"
    )
    widths = (44, 16, 12, 16, 14, 16)
    names = ("Layer (type)", "Kernel", "Input", "Output", "Param #", "Mult-adds")
    line = "=" * sum(widths)
    lines = [head, line, "".join(n.ljust(w) for n, w in zip(names, widths)), line]
    rows = analysis.rows if max_rows is None else analysis.rows[:max_rows]
    for r in rows:
        params = f"{r.params:,}" if r.shared_with is None else f"(shared #{r.shared_with})"
        cells = (
            f"{r.label} ({r.type})",
            kernel_text(r),
            shape_text(r.input_shape),
            shape_text(r.output_shape) or "not called",
            params,
            (f"{r.mult_adds:,}" + ("*" if r.flop_counted else "")) if r.mult_adds else "",
        )
        lines.append("".join(_fit(c, w) for c, w in zip(cells, widths)).rstrip())
    if max_rows is not None and len(analysis.rows) > max_rows:
        lines.append(f"... {len(analysis.rows) - max_rows} more rows")
    lines += [
        line,
        f"Total params: {t.params:,}",
        f"Trainable params: {t.trainable_params:,}",
        f"Non-trainable params: {t.params - t.trainable_params:,}",
        f"Mult-adds: {t.mult_adds:,} ({human(t.mult_adds)})",
        *(
            [f"  of which measured by torch.utils.flop_counter (rows marked *): {t.measured_mult_adds:,}"]
            if t.measured_mult_adds
            else []
        ),
        f"Buffers (running statistics etc., not parameters): {t.buffers:,}",
        f"Weight layers (conv + FC): {t.weight_layers}",
        f"Params size (MB, fp32): {t.param_mb:,.2f}",
        f"Activations, one image (MB, fp32): {t.activation_mb:,.2f}",
        line,
    ]
    return "\n".join(lines)


def _fit(text: str, width: int) -> str:
    text = str(text)
    return (text if len(text) < width else text[: width - 2] + "…").ljust(width)
