"""Analyses side by side: presets of different families, each at its own natural input; two networks layer by layer.

ImageNet networks are compared at 224x224 and CIFAR ones at 32x32: a CIFAR ResNet at 224 or VGG-16 at 32
would be a network nobody trains. The published points of the MobileNet paper's Table 8 are shown beside
ours (explorer.reference), never mixed with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest

from ..reference import MOBILENET_TABLE_8, MOBILENET_TABLE_8_SOURCE
from ..registry import all_presets, lookup
from .analyzer import analyze
from .report import kernel_text, shape_text
from .rows import Analysis

IMAGENET_INPUT = (3, 224, 224)
DEFAULT_PRESETS = (
    "vgg16",
    "resnet50",
    "densenet121",
    "googlenet",
    "squeezenet1_0",
    "mobilenet_v1",
    "mobilenet_v2",
    "resnet56",
    "densenet_bc100_k12",
    "fractalnet20",
)


def dataset_of(knobs: dict) -> str:
    classes = knobs.get("num_classes")
    return {1000: "ImageNet", 10: "CIFAR-10", 100: "CIFAR-100"}.get(classes, f"{classes} classes")


def natural_input(name: str) -> tuple[tuple, str]:
    """The input a preset is meant for, and why: its declared input, else 224 for ImageNet, else the family's."""
    family, preset = lookup(name)
    knobs = {**family.defaults(), **(preset.knobs if preset else {})}
    if preset is not None and preset.input_shape:
        return tuple(preset.input_shape), "the preset's input"
    if family.input_knob and knobs.get(family.input_knob):
        return family.input_for(knobs), f"its '{family.input_knob}' knob"
    if knobs.get("num_classes") == 1000:
        return IMAGENET_INPUT, "ImageNet size"
    return tuple(family.default_input), f"{family.title}'s usual input"


def longest_weight_path(analysis) -> int:
    """Convolutions and fully connected layers on the longest input-to-output path of the dataflow.

    The depth papers quote: VGG-16 16, ResNet-50 50, GoogLeNet 22, DenseNet-121 121, FractalNet-40 40 + 1
    (its prediction layer), however many weight layers sit on parallel branches.
    """
    depth = {-1: 0}
    for r in analysis.rows:
        if r.kind == "unused":
            continue
        here = 1 if r.kind in ("conv", "linear") else 0
        depth[r.index] = max((depth.get(i, 0) for i in r.inputs), default=0) + here
    return depth.get(analysis.output_row, max(depth.values()))


@dataclass(frozen=True)
class Entry:
    preset: str
    title: str
    family: str
    input_shape: tuple
    why: str
    dataset: str
    depth: int
    weight_layers: int
    params: int
    mult_adds: int
    param_mb: float


def compare(names) -> list[Entry]:
    """Analyse each preset at its natural input (raises the project's errors for unknown names)."""
    entries = []
    for name in names:
        shape, why = natural_input(name)
        a = analyze(name, shape)
        entries.append(
            Entry(
                name,
                a.title,
                a.family,
                a.input_shape,
                why,
                dataset_of(a.resolved),
                longest_weight_path(a),
                a.totals.weight_layers,
                a.totals.params,
                a.totals.mult_adds,
                a.totals.param_mb,
            )
        )
    return entries


def default_selection() -> list[str]:
    presets = all_presets()
    return [name for name in DEFAULT_PRESETS if name in presets]


@dataclass(frozen=True)
class PublishedPoint:
    model: str  # as the paper prints it
    preset: str  # ours, if registered
    mult_adds: float
    params: float
    source: str = MOBILENET_TABLE_8_SOURCE


def table_8() -> list[PublishedPoint]:
    """The MobileNet paper's Table 8 (million mult-adds and parameters), in units."""
    return [
        PublishedPoint(model, preset, madds * 1e6, params * 1e6) for model, preset, madds, params in MOBILENET_TABLE_8
    ]


# -- two networks, layer by layer (the Custom builder's comparison with a preset) ---------------------


def weight_layers(analysis: Analysis) -> list:
    return [r for r in analysis.rows if r.kind in ("conv", "linear") and r.call == 1]


def totals(a: Analysis, b: Analysis) -> list[dict]:
    """One row per total, as text (a table column holds one type)."""
    out = []
    for label, get, fmt in (
        ("parameters", lambda x: x.totals.params, "{:,}"),
        ("multiply-adds", lambda x: x.totals.mult_adds, "{:,}"),
        ("weight layers", lambda x: x.totals.weight_layers, "{:,}"),
        ("activations (MB)", lambda x: x.totals.activation_mb, "{:,.2f}"),
    ):
        diff = get(a) - get(b)
        out.append(
            {
                "quantity": label,
                "yours": fmt.format(get(a)),
                "preset": fmt.format(get(b)),
                "difference": "same" if diff == 0 else ("+" if diff > 0 else "−") + fmt.format(abs(diff)),
            }
        )
    out.append(
        {
            "quantity": "output",
            "yours": shape_text(a.output_shape),
            "preset": shape_text(b.output_shape),
            "difference": "same" if a.output_shape == b.output_shape else "differs",
        }
    )
    return out


def layers(a: Analysis, b: Analysis) -> list[dict]:
    """Weight layer n of one beside weight layer n of the other, and whether they hold the same parameters."""
    rows = []
    for i, (x, y) in enumerate(zip_longest(weight_layers(a), weight_layers(b)), start=1):
        rows.append(
            {
                "#": i,
                "yours": f"{x.name} {kernel_text(x)}".strip() if x else "",
                "your output": shape_text(x.output_shape) if x else "",
                "your params": x.params if x else None,
                "preset": f"{y.name} {kernel_text(y)}".strip() if y else "",
                "preset output": shape_text(y.output_shape) if y else "",
                "preset params": y.params if y else None,
                "same": bool(x and y and x.params == y.params and x.output_shape == y.output_shape),
            }
        )
    return rows
