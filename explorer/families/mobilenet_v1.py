"""MobileNet (Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto & Adam, 2017): depthwise separable convolutions.

A standard 3x3 convolution is factored into a 3x3 depthwise convolution (one filter per input channel,
groups = C) and a 1x1 pointwise convolution that mixes the channels: F*F*C*Fm*Fm + C*O*Fm*Fm multiply-adds
instead of F*F*C*O*Fm*Fm. The width multiplier alpha thins every layer (alpha*C channels); the
resolution multiplier rho is the input side (224, 192, 160 or 128 in the paper).
"""

import warnings
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..analysis.analyzer import analyze
from ..errors import KnobError
from ..reference import MOBILENET_V1_SEPARABLE_SAVING
from ..registry import Family, Knob, register

# MobileNet paper, Table 1 (body architecture). After "Conv / s2, 3x3x3x32" come 13 depthwise separable
# layers, each a "Conv dw / s" (3x3 depthwise) then a "Conv / s1" (1x1 pointwise) with these filters:
#   (stride of the depthwise conv, filters of the pointwise conv)
FIRST_CONV = 32  # Conv / s2, 3x3x3x32
TABLE_1 = (
    (1, 64),
    (2, 128),
    (1, 128),
    (2, 256),
    (1, 256),
    (2, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),  # "5x" in the table
    (2, 1024),
    (1, 1024),  # the table prints s2 here, but its output stays 7x7: a misprint, s1 in every implementation
)
# ... then Avg Pool 7x7 (global), FC 1024 x 1000, Softmax.


def width(channels: int, alpha: float) -> int:
    """alpha * C channels, rounded down as the reference implementation (Keras, TF-slim) does."""
    return max(1, int(channels * alpha))


def conv_bn_relu(in_channels, out_channels, kernel_size, stride, groups=1):
    """A convolution, then batch norm and ReLU, as the paper's Figure 3 draws every layer."""
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


def separable(in_channels, out_channels, stride) -> nn.Sequential:
    """Figure 3, right: 3x3 depthwise conv, BN, ReLU; 1x1 pointwise conv, BN, ReLU."""
    dw, dw_bn, dw_relu = conv_bn_relu(in_channels, in_channels, 3, stride, groups=in_channels)
    pw, pw_bn, pw_relu = conv_bn_relu(in_channels, out_channels, 1, 1)
    return nn.Sequential(
        OrderedDict(
            [("dw", dw), ("dw_bn", dw_bn), ("dw_relu", dw_relu), ("pw", pw), ("pw_bn", pw_bn), ("pw_relu", pw_relu)]
        )
    )


def full(in_channels, out_channels, stride) -> nn.Sequential:
    """Figure 3, left: the standard 3x3 convolution it replaces ("Conv MobileNet" of Table 4)."""
    conv, bn, relu = conv_bn_relu(in_channels, out_channels, 3, stride)
    return nn.Sequential(OrderedDict([("conv", conv), ("bn", bn), ("relu", relu)]))


def mobilenet_v1(alpha=1.0, resolution=224, depthwise=True, num_classes=1000, in_channels=3):
    # resolution is the input side (Family.input_knob): it changes no layer, only the input the network sees
    layers = OrderedDict()
    conv, bn, relu = conv_bn_relu(in_channels, width(FIRST_CONV, alpha), 3, 2)
    layers["conv1"] = nn.Sequential(OrderedDict([("conv", conv), ("bn", bn), ("relu", relu)]))
    channels = width(FIRST_CONV, alpha)
    for i, (stride, filters) in enumerate(TABLE_1, start=1):
        out = width(filters, alpha)
        layers[f"block{i}"] = (separable if depthwise else full)(channels, out, stride)
        channels = out
    layers["avgpool"] = nn.AdaptiveAvgPool2d(1)  # "Avg Pool / s1, Pool 7x7" at 224: global
    layers["flatten"] = nn.Flatten()
    layers["fc"] = nn.Linear(channels, num_classes)
    return nn.Sequential(layers)


ALPHAS = {"100": 1.0, "075": 0.75, "050": 0.5, "025": 0.25}  # Table 6
RESOLUTIONS = (224, 192, 160, 128)  # Table 7

register(
    Family(
        name="mobilenet_v1",
        title="MobileNet v1",
        builder=mobilenet_v1,
        knobs=(
            Knob(
                "alpha",
                "float",
                1.0,
                "Width multiplier: every layer has alpha x its channels (Table 6: 1.0, 0.75, 0.5, 0.25).",
                0.25,
                1.0,
                step=0.05,
                label="width multiplier alpha",
            ),
            Knob(
                "resolution",
                "int",
                224,
                "Input side in pixels, the resolution multiplier rho x 224 (Table 7: 224, 192, 160, 128).",
                128,
                224,
                label="resolution",
            ),
            Knob(
                "depthwise",
                "bool",
                True,
                "Depthwise separable convolutions; off: full 3x3 convolutions, the paper's 'Conv MobileNet' (Table 4).",
                label="depthwise separable",
            ),
            Knob("num_classes", "int", 1000, "Outputs of the last layer.", 1, 100000, label="classes"),
        ),
        default_input=(3, 224, 224),
        paper="Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto & Adam, MobileNets: Efficient "
        "Convolutional Neural Networks for Mobile Vision Applications, 2017",
        summary="Each 3x3 convolution is factored into a 3x3 depthwise convolution and a 1x1 pointwise one: "
        f"{MOBILENET_V1_SEPARABLE_SAVING[0]} to {MOBILENET_V1_SEPARABLE_SAVING[1]} times fewer multiply-adds "
        "(published, Sec. 3.1). A width multiplier alpha and the input resolution trade accuracy for cost.",
        input_knob="resolution",
    ),
    presets={
        "mobilenet_v1": {},
        **{f"mobilenet_v1_{code}": dict(alpha=alpha) for code, alpha in ALPHAS.items() if alpha != 1.0},
        **{f"mobilenet_v1_{side}": dict(resolution=side) for side in RESOLUTIONS if side != 224},
        "conv_mobilenet_v1": dict(depthwise=False),
    },
    titles={
        "mobilenet_v1": "1.0 MobileNet-224",
        **{f"mobilenet_v1_{code}": f"{alpha:g} MobileNet-224" for code, alpha in ALPHAS.items() if alpha != 1.0},
        **{f"mobilenet_v1_{side}": f"1.0 MobileNet-{side}" for side in RESOLUTIONS if side != 224},
        "conv_mobilenet_v1": "Conv MobileNet (full 3x3 convolutions)",
    },
)


# -- the idea: depthwise separable cost, counted on real layers and networks ---------------------------------------
# The MobileNet paper's cost arithmetic, counted on real PyTorch layers and networks.
#
# Section 3.1: a standard F x F convolution from C to O channels on an Fm x Fm map costs F*F*C*O*Fm*Fm
# multiply-adds; a depthwise separable one costs F*F*C*Fm*Fm (depthwise) + C*O*Fm*Fm (pointwise), a
# ratio of 1/O + 1/F^2. Here the layers are built and torch.utils.flop_counter counts them; the formula
# is shown beside, with the numbers plugged in.

LIMITS = {"F": (1, 11), "C": (1, 2048), "O": (1, 2048), "Fm": (1, 512)}


@dataclass(frozen=True)
class LayerCost:
    F: int
    C: int
    O: int
    Fm: int
    standard_mult_adds: int  # counted by FlopCounterMode on nn.Conv2d(C, O, F)
    depthwise_mult_adds: int  # nn.Conv2d(C, C, F, groups=C)
    pointwise_mult_adds: int  # nn.Conv2d(C, O, 1)
    standard_params: int
    separable_params: int

    @property
    def separable_mult_adds(self) -> int:
        return self.depthwise_mult_adds + self.pointwise_mult_adds

    @property
    def ratio(self) -> float:
        """Separable over standard, measured."""
        return self.separable_mult_adds / self.standard_mult_adds

    @property
    def formula_ratio(self) -> float:
        return 1 / self.O + 1 / self.F**2

    def steps(self) -> list[dict]:
        """The paper's formulas with this layer's numbers plugged in, and their values."""
        F, C, O, Fm = self.F, self.C, self.O, self.Fm
        return [
            {
                "quantity": "standard convolution",
                "formula": "F·F·C·O·Fm·Fm",
                "numbers": f"{F}·{F}·{C}·{O}·{Fm}·{Fm}",
                "value": F * F * C * O * Fm * Fm,
                "measured": self.standard_mult_adds,
            },
            {
                "quantity": "depthwise separable",
                "formula": "F·F·C·Fm·Fm + C·O·Fm·Fm",
                "numbers": f"{F}·{F}·{C}·{Fm}·{Fm} + {C}·{O}·{Fm}·{Fm} = {F * F * C * Fm * Fm:,} + {C * O * Fm * Fm:,}",
                "value": F * F * C * Fm * Fm + C * O * Fm * Fm,
                "measured": self.separable_mult_adds,
            },
            {
                "quantity": "ratio",
                "formula": "1/O + 1/F²",
                "numbers": f"1/{O} + 1/{F}² = 1/{O} + 1/{F * F}",
                "value": self.formula_ratio,
                "measured": self.ratio,
            },
        ]


def _count(module: nn.Module, C: int, Fm: int) -> int:
    x = torch.empty(1, C, Fm, Fm, device="meta")
    with torch.no_grad(), FlopCounterMode(display=False) as counter, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'same' padding with an even F: PyTorch warns about a padded copy
        module(x)
    return counter.get_total_flops() // 2  # the counter reports 2 FLOPs per multiply-add


def layer_cost(F: int, C: int, O: int, Fm: int) -> LayerCost:
    """Build a standard and a depthwise separable layer (stride 1, 'same' padding, no bias) and count both."""
    for name, value in (("F", F), ("C", C), ("O", O), ("Fm", Fm)):
        low, high = LIMITS[name]
        if not low <= int(value) <= high:
            raise KnobError(f"{name} must be between {low} and {high}; got {value}.")
    with torch.device("meta"):  # shapes only: no weights are allocated
        standard = nn.Conv2d(C, O, F, padding="same", bias=False)
        depthwise = nn.Conv2d(C, C, F, padding="same", groups=C, bias=False)
        pointwise = nn.Conv2d(C, O, 1, bias=False)
    return LayerCost(
        F,
        C,
        O,
        Fm,
        _count(standard, C, Fm),
        _count(depthwise, C, Fm),
        _count(pointwise, C, Fm),
        standard.weight.numel(),
        depthwise.weight.numel() + pointwise.weight.numel(),
    )


def width_resolution_grid(alphas, resolutions, depthwise: bool = True, num_classes: int = 1000) -> list[dict]:
    """Parameters and multiply-adds of the real MobileNet at every (alpha, resolution), by analysing each."""
    out = []
    for alpha in alphas:
        for side in resolutions:
            a = analyze(
                "mobilenet_v1",
                (3, side, side),
                alpha=alpha,
                resolution=side,
                depthwise=depthwise,
                num_classes=num_classes,
            )
            out.append({"alpha": alpha, "resolution": side, "params": a.totals.params, "mult_adds": a.totals.mult_adds})
    return out


def cost_by_layer_type(analysis) -> list[dict]:
    """The MobileNet paper's Table 2 for the analysed network: share of multiply-adds and parameters per layer type."""
    groups: dict[str, list] = {}
    for r in analysis.rows:
        if r.kind == "conv":
            if r.groups and r.groups > 1 and r.groups == r.input_shape[0]:
                kind = f"Conv DW {r.kernel[0]}x{r.kernel[1]}"
            else:
                kind = f"Conv {r.kernel[0]}x{r.kernel[1]}"
        elif r.kind == "linear":
            kind = "Fully Connected"
        else:
            continue
        groups.setdefault(kind, []).append(r)
    total_madds = sum(r.mult_adds for rs in groups.values() for r in rs) or 1
    total_params = sum(r.params for rs in groups.values() for r in rs) or 1  # weight layers only, as Table 2
    return [
        {
            "type": kind,
            "layers": len(rs),
            "mult-adds": sum(r.mult_adds for r in rs),
            "mult-adds %": 100 * sum(r.mult_adds for r in rs) / total_madds,
            "params": sum(r.params for r in rs),
            "params %": 100 * sum(r.params for r in rs) / total_params,
        }
        for kind, rs in groups.items()
    ]
