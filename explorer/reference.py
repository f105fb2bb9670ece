"""Published figures (shared/reference/published-numbers.md): what the tests check and the UI shows beside ours.

These are the only numbers typed in anywhere: the papers' own, each with its source and setting.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Published:
    name: str  # a preset or family
    quantity: str  # "params" or "mult_adds"
    value: float
    source: str
    input_shape: tuple = (3, 224, 224)
    knobs: dict = field(default_factory=dict)
    tolerance: float = 0.0  # relative; 0 means the integer must match exactly
    rounding: float = 0.0  # the paper rounds to this unit (e.g. 1e6 for "138M")

    def agrees(self, ours: float) -> bool:
        if self.rounding:
            return abs(ours - self.value) <= self.rounding / 2
        if self.tolerance:
            return abs(ours - self.value) <= self.tolerance * self.value
        return int(ours) == int(self.value)

    @property
    def setting(self) -> str:
        knobs = ", ".join(f"{k}={v}" for k, v in self.knobs.items())
        return "x".join(map(str, self.input_shape)) + (f", {knobs}" if knobs else "")

    def display(self) -> str:
        if self.rounding:
            return f"{self.value / self.rounding:g}{'M' if self.rounding == 1e6 else ''}"
        if self.tolerance:
            from .report import human

            return f"{human(self.value)} (±{self.tolerance:.0%})"
        return f"{int(self.value):,}"


PUBLISHED: list[Published] = [
    Published("vgg16", "params", 138_357_544, "VGG paper Table 2 (138M); torchvision vgg16; Keras VGG16"),
    Published("vgg16", "mult_adds", 15.47e9, "torchvision vgg16 (15.47 GFLOPS, which are multiply-adds); "
              "MobileNet paper Table 8: 15,300M", tolerance=0.02),
    Published("resnet50", "params", 25_557_032, "torchvision resnet50"),
    Published("resnet50", "mult_adds", 4.09e9, "torchvision resnet50 (v1.5)", tolerance=0.02),
    Published("densenet121", "params", 7_978_856, "torchvision densenet121"),
    Published("resnet56", "params", 853_018, "He et al. 2016, Table 6 (0.85M)", input_shape=(3, 32, 32)),
    Published("densenet40_k12", "params", 1.0e6, "DenseNet paper, Table 2", input_shape=(3, 32, 32),
              tolerance=0.03),
    Published("densenet_bc100_k12", "params", 0.8e6, "DenseNet paper, Table 2", input_shape=(3, 32, 32),
              tolerance=0.06),
]
# VGG paper, Table 2: "Number of parameters (in millions)" for configurations A, A-LRN, B, C, D, E at 224.
VGG_TABLE_2 = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}
PUBLISHED += [Published("vgg", "params", m * 1e6, "VGG paper, Table 2", knobs={"config": c}, rounding=1e6)
              for c, m in VGG_TABLE_2.items()]

# The lecture's paper-and-pen exercise at 3x32x32: (layer, output C x H x W, parameters).
LECTURE_EXERCISE = [("conv1", (6, 28, 28), 456), ("pool1", (6, 14, 14), 0), ("conv2", (16, 10, 10), 2416),
                    ("pool2", (16, 5, 5), 0)]


def published_for(name: str, family: str) -> list[Published]:
    """Published figures for a preset (or for its family, e.g. the VGG configurations)."""
    return [p for p in PUBLISHED if p.name in (name, family)]


def matches_setting(p: Published, analysis) -> bool:
    """True when the analysis was made at the published setting (input and knobs)."""
    if tuple(analysis.input_shape) != tuple(p.input_shape):
        return False
    from .registry import lookup

    family, preset = lookup(p.name)
    wanted = {**family.defaults(), **(preset.knobs if preset else {}), **p.knobs}
    return all(analysis.knobs.get(k) == v for k, v in wanted.items())

# Receptive field, effective stride (our jump) and effective padding at the last layer before the classifier,
# computed by the library of Araujo, Norris & Sim ("Computing Receptive Fields of Convolutional Neural Networks",
# Distill 2019), table of github.com/google-research/receptive_field: vgg_16 (TF-Slim) 212, 32, 90. Effective
# padding P: the first output's window starts at input pixel -P, i.e. P = r / 2 - start in our convention.
RECEPTIVE_FIELDS = {
    "vgg16": {"layer": "block5.pool", "receptive_field": 212, "jump": 32, "effective_padding": 90,
              "source": "Araujo, Norris & Sim, Distill 2019 (google-research/receptive_field)"},
}
