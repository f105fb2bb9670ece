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

# Veit, Wilber & Belongie, "Residual Networks Behave Like Ensembles of Relatively Shallow Networks",
# NeurIPS 2016 (published-numbers.md, "Residual paths"): shown beside what the app computes and measures.
VEIT_2016 = {
    "source": "Veit, Wilber & Belongie 2016",
    "resnet110_blocks": 54,  # ResNet-110 on CIFAR-10: three stages of 18 blocks
    "resnet110_paths": 1.8e16,  # "2^54, about 1.8e16"
    "resnet110_mean": 27,
    "resnet110_std": 3.67,
    "effective_low": 5,  # Sec. 5: almost all gradient comes from paths 5 to 17 blocks long ...
    "effective_high": 17,
    "effective_path_share": 0.0045,  # ... which are only 0.45% of all paths
    "single_deletion": "deleting a single block from a trained ResNet-110 barely changes its test error, "
                       "except at the downsampling blocks; deleting a layer of a plain VGG-style network "
                       "drops it to chance (Sec. 4.1, Fig. 3)",
    "k_deletions": "deleting k random blocks degrades the error smoothly (Sec. 4.2, Fig. 5a)",
}
