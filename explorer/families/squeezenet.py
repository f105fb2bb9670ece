"""SqueezeNet (Iandola et al., SqueezeNet: AlexNet-level accuracy with 50x fewer parameters, 2016).

A Fire module squeezes its input with 1x1 convolutions (s filters), then expands with 1x1 and 3x3
convolutions side by side (e1 + e3 filters), concatenated. The paper defines the eight Fire modules by five
metaparameters (Section 5): e_i = base_e + incr_e * floor(i / freq), e3_i = pct_3x3 * e_i, s_i = SR * e_i.
"""

import math
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..analysis.analyzer import analyze
from ..errors import KnobError
from ..reference import published_figure
from ..registry import Family, Knob, register

FIRE_MODULES = 8  # fire2 ... fire9
# SqueezeNet paper, Table 1 (v1.0), and the official v1.1 (github.com/DeepScale/SqueezeNet, torchvision):
# the first convolution (filters, kernel, stride) and the 3x3/2 max pools, named as the paper names them.
MACRO = {
    "1.0": dict(conv1=(96, 7, 2), pools=("maxpool1", "maxpool4", "maxpool8")),
    "1.1": dict(conv1=(64, 3, 2), pools=("maxpool1", "maxpool3", "maxpool5")),
}


def fire_widths(base_e=128, incr_e=128, pct_3x3=0.5, freq=2, squeeze_ratio=0.125) -> list[tuple[int, int, int]]:
    """(s1x1, e1x1, e3x3) of fire2..fire9 from the paper's metaparameters (Section 5, Figure 2)."""
    widths = []
    for i in range(FIRE_MODULES):
        e = base_e + incr_e * (i // freq)
        e3 = round(e * pct_3x3)
        widths.append((round(squeeze_ratio * e), e - e3, e3))
    return widths


class Fire(nn.Module):
    """Squeeze (1x1, s) -> ReLU -> expand 1x1 (e1) and expand 3x3 (e3) -> ReLU, concatenated: e1 + e3 channels."""

    def __init__(self, in_channels, squeeze, expand1x1, expand3x3):
        super().__init__()
        self.squeeze = nn.Conv2d(in_channels, squeeze, 1)
        self.squeeze_relu = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, 1)
        self.expand1x1_relu = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, 3, padding=1)  # padding 1: both expands keep H x W
        self.expand3x3_relu = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_relu(self.squeeze(x))  # (B, s, H, W)
        return torch.cat([self.expand1x1_relu(self.expand1x1(x)), self.expand3x3_relu(self.expand3x3(x))], 1)


def derive(k):
    """Check that every Fire module gets at least one filter of each kind."""
    widths = fire_widths(k["base_e"], k["incr_e"], k["pct_3x3"], k["freq"], k["squeeze_ratio"])
    s, e1, e3 = widths[0]  # fire2 has the fewest filters: e_i only grows with i
    e = e1 + e3
    if s < 1:
        raise KnobError(
            f"With squeeze ratio {k['squeeze_ratio']:g}, fire2 would squeeze to "
            f"{k['squeeze_ratio'] * e:.2f} filters (SR × base_e = {k['squeeze_ratio']:g} × {e}); "
            f"raise the squeeze ratio to at least {math.ceil(500 / e) / 1000:g} or base_e."
        )
    if e3 < 1 or e1 < 1:
        kind = "3x3" if e3 < 1 else "1x1"
        raise KnobError(
            f"With pct_3x3 = {k['pct_3x3']:g} and base_e = {e}, fire2 would get no expand {kind} "
            f"filter ({e} × {k['pct_3x3'] if e3 < 1 else 1 - k['pct_3x3']:.2f} rounds to 0); "
            f"keep pct_3x3 between {math.ceil(50 / e) / 100:g} and {1 - math.ceil(50 / e) / 100:g} "
            f"or raise base_e."
        )
    k["fire_widths"] = tuple(widths)
    return k


def squeezenet(
    version="1.0", base_e=128, incr_e=128, pct_3x3=0.5, freq=2, squeeze_ratio=0.125, num_classes=1000, in_channels=3
):
    widths = derive(dict(base_e=base_e, incr_e=incr_e, pct_3x3=pct_3x3, freq=freq, squeeze_ratio=squeeze_ratio))[
        "fire_widths"
    ]
    macro = MACRO[version]
    filters, kernel, stride = macro["conv1"]
    # ceil_mode: Caffe's rounding of pooled sizes (Table 1, at the paper's 227x227 input: 111 -> 55 -> 27 -> 13)
    layers = [
        ("conv1", nn.Conv2d(in_channels, filters, kernel, stride)),
        ("relu1", nn.ReLU(inplace=True)),
        ("maxpool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
    ]
    channels = filters
    for i, (s, e1, e3) in enumerate(widths, start=2):
        layers.append((f"fire{i}", Fire(channels, s, e1, e3)))
        channels = e1 + e3
        if f"maxpool{i}" in macro["pools"]:
            layers.append((f"maxpool{i}", nn.MaxPool2d(3, 2, ceil_mode=True)))
    layers += [
        ("dropout", nn.Dropout(0.5)),  # "dropout with a ratio of 50% after the fire9 module"
        ("conv10", nn.Conv2d(channels, num_classes, 1)),  # no fully connected layer: a 1x1 conv per class
        ("relu10", nn.ReLU(inplace=True)),
        ("avgpool10", nn.AdaptiveAvgPool2d(1)),  # global average: 13x13 -> 1x1 at 224
        ("flatten", nn.Flatten()),
    ]
    return nn.Sequential(OrderedDict(layers))


register(
    Family(
        name="squeezenet",
        title="SqueezeNet",
        builder=squeezenet,
        knobs=(
            Knob(
                "version",
                "choice",
                "1.0",
                "1.0: the paper's Table 1 (conv1 96 7x7/2, pools after conv1, fire4, "
                "fire8); 1.1: the official repository's (conv1 64 3x3/2, pools after conv1, fire3, fire5), 2.4x "
                "less computation.",
                choices=("1.0", "1.1"),
            ),
            Knob(
                "base_e",
                "int",
                128,
                "base_e: expand filters (1x1 + 3x3) of the first Fire module.",
                8,
                1024,
                step=8,
                label="base_e",
            ),
            Knob(
                "incr_e",
                "int",
                128,
                "incr_e: expand filters added every freq Fire modules.",
                0,
                1024,
                step=8,
                label="incr_e",
            ),
            Knob(
                "pct_3x3",
                "float",
                0.5,
                "pct_3x3: share of the expand filters that are 3x3 (the rest are 1x1).",
                0.01,
                0.99,
                step=0.01,
                label="pct_3x3",
            ),
            Knob("freq", "int", 2, "freq: the expand filters grow every freq Fire modules.", 1, 8, label="freq"),
            Knob(
                "squeeze_ratio",
                "float",
                0.125,
                "SR: squeeze filters as a share of the expand filters, "
                "s = SR x e (the paper's 0.125 gives 16 squeeze filters for 128 expand ones).",
                0.025,
                1.0,
                step=0.025,
                label="squeeze ratio SR",
            ),
            Knob("num_classes", "int", 1000, "Filters of conv10, one per class.", 1, 100000, label="classes"),
        ),
        default_input=(3, 224, 224),
        paper="Iandola, Han, Moskewicz, Ashraf, Dally & Keutzer, SqueezeNet: AlexNet-level accuracy with 50x fewer "
        "parameters and <0.5MB model size, 2016",
        summary="Fire modules squeeze the channels with 1x1 convolutions, then expand with 1x1 and 3x3 "
        "convolutions side by side; no fully connected layer. AlexNet accuracy with "
        f"{published_figure('squeezenet1_0', 'params').value / 1e6:.2f}M parameters (published).",
        derive=derive,
    ),
    presets={"squeezenet1_0": dict(version="1.0"), "squeezenet1_1": dict(version="1.1")},
    titles={
        "squeezenet1_0": "SqueezeNet 1.0 (the paper's Table 1)",
        "squeezenet1_1": "SqueezeNet 1.1 (official repository, torchvision)",
    },
    inputs={"squeezenet1_0": (3, 224, 224), "squeezenet1_1": (3, 224, 224)},
)


# -- the idea: the Fire module's cost against its squeeze ratio ----------------------------------------------------
# A SqueezeNet Fire module's cost against its squeeze ratio, counted on PyTorch modules built for each point.
#
# The paper (Section 5.1, Figure 2a) varies SR, the squeeze filters as a share of the expand filters
# (s = SR * e), from 0.125 to 1.0 and keeps the rest of the network fixed.

PAPER_SR = 0.125  # SqueezeNet's choice (Section 5.1): 16 squeeze filters for 128 expand filters in fire2
SWEEP = tuple(round(0.025 * i, 3) for i in range(1, 41))  # 0.025 ... 1.0


@dataclass(frozen=True)
class FirePoint:
    squeeze_ratio: float
    squeeze: int  # s1x1
    params: int
    mult_adds: int


def fire_cost(in_channels: int, squeeze: int, expand1x1: int, expand3x3: int, side: int) -> tuple[int, int]:
    """Parameters and multiply-adds of one Fire module, built on the meta device, counted by FlopCounterMode."""
    with torch.device("meta"):
        fire = Fire(in_channels, squeeze, expand1x1, expand3x3)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fire(torch.empty(1, in_channels, side, side, device="meta"))
    return sum(p.numel() for p in fire.parameters()), counter.get_total_flops() // 2


def squeeze_sweep(in_channels: int, expand1x1: int, expand3x3: int, side: int, ratios=SWEEP) -> list[FirePoint]:
    """One Fire module (input channels and expand filters fixed) at each squeeze ratio."""
    e = expand1x1 + expand3x3
    points = []
    for sr in ratios:
        squeeze = round(sr * e)
        if squeeze < 1:
            continue  # no squeeze filter at all: not a Fire module
        params, madds = fire_cost(in_channels, squeeze, expand1x1, expand3x3, side)
        points.append(FirePoint(sr, squeeze, params, madds))
    if not points:
        raise KnobError(
            f"No squeeze ratio gives this Fire module a squeeze filter: its {e} expand filters are too "
            f"few; raise base_e."
        )
    return points


def network_sweep(name: str, input_shape, knobs: dict, ratios=(0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)):
    """(SR, total parameters, multiply-adds) of the whole network for each SR, the axis of the paper's Figure 2a."""
    out = []
    for sr in ratios:
        a = analyze(name, input_shape, **{**knobs, "squeeze_ratio": sr})
        out.append((sr, a.totals.params, a.totals.mult_adds))
    return out
