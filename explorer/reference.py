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

# torchvision's googlenet (BN, 3x3 in the "5x5" branch) and SqueezeNet 1.0 / 1.1 at 224, 1000 classes.
# torchvision's "GFLOPS" are multiply-adds (see vgg16 above).
PUBLISHED += [
    Published("googlenet_torchvision", "params", 6_624_904, "torchvision googlenet (num_params)"),
    Published("googlenet_torchvision", "params", 13_004_888, "torchvision GoogLeNet(aux_logits=True)",
              knobs={"aux_logits": True}),
    Published("googlenet_torchvision", "mult_adds", 1.50e9, "torchvision googlenet (1.50 GFLOPS)", tolerance=0.02),
    Published("squeezenet1_0", "params", 1_248_424, "SqueezeNet paper, Table 1; torchvision squeezenet1_0"),
    Published("squeezenet1_0", "mult_adds", 0.82e9, "torchvision squeezenet1_0 (0.82 GFLOPS)", tolerance=0.02),
    Published("squeezenet1_1", "params", 1_235_496, "torchvision squeezenet1_1 (num_params)"),
    Published("squeezenet1_1", "mult_adds", 0.35e9, "torchvision squeezenet1_1 (0.35 GFLOPS)", tolerance=0.02),
]

# GoogLeNet paper (Szegedy et al., CVPR 2015), Table 1: the "params" and "ops" columns exactly as printed,
# in the table's K and M, per row (our module names). Rows without parameters print nothing.
GOOGLENET_TABLE_1_SOURCE = "Szegedy et al., Going Deeper with Convolutions, CVPR 2015, Table 1"
GOOGLENET_TABLE_1 = {  # row: (params in K, ops in M)
    "conv1": (2.7, 34), "conv2": (112, 360),
    "inception3a": (159, 128), "inception3b": (380, 304),
    "inception4a": (364, 73), "inception4b": (437, 88), "inception4c": (463, 100), "inception4d": (580, 119),
    "inception4e": (840, 170),
    "inception5a": (1072, 54), "inception5b": (1388, 71),
    "fc": (1000, 1),
}

# MobileNet paper (Howard et al. 2017), Table 8, "MobileNet Comparison to Popular Models" (ImageNet, 224x224):
# (model as printed, our preset, million mult-adds, million parameters). Published points, not our analyses.
MOBILENET_TABLE_8_SOURCE = "Howard et al., MobileNets, 2017, Table 8"
MOBILENET_TABLE_8 = [
    ("1.0 MobileNet-224", "mobilenet_v1", 569, 4.2),
    ("GoogleNet", "googlenet", 1550, 6.8),
    ("VGG 16", "vgg16", 15300, 138),
]

# SqueezeNet paper (Iandola et al. 2016), Table 2: SqueezeNet's model size, 32-bit, uncompressed.
SQUEEZENET_MODEL_MB = (4.8, "Iandola et al. 2016, Table 2: 32-bit, uncompressed")

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
