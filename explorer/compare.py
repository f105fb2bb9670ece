"""Presets of different families side by side, each analysed at its own natural input.

ImageNet networks are compared at 224x224 and CIFAR ones at 32x32: a CIFAR ResNet at 224 or VGG-16 at 32
would be a network nobody trains. The published points of the MobileNet paper's Table 8 are shown beside
ours (explorer.reference), never mixed with them.
"""
from __future__ import annotations

from dataclasses import dataclass

from .analysis import analyze
from .registry import all_presets, lookup
from .reference import MOBILENET_TABLE_8, MOBILENET_TABLE_8_SOURCE

IMAGENET_INPUT = (3, 224, 224)
DEFAULT_PRESETS = ("vgg16", "resnet50", "densenet121", "googlenet", "squeezenet1_0", "mobilenet_v1",
                   "mobilenet_v2", "resnet56", "densenet_bc100_k12", "fractalnet20")


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
        entries.append(Entry(name, a.title, a.family, a.input_shape, why, dataset_of(a.resolved),
                             longest_weight_path(a), a.totals.weight_layers, a.totals.params, a.totals.mult_adds,
                             a.totals.param_mb))
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
    return [PublishedPoint(model, preset, madds * 1e6, params * 1e6) for model, preset, madds, params in
            MOBILENET_TABLE_8]
