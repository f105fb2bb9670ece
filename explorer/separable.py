"""The MobileNet paper's cost arithmetic, counted on real PyTorch layers and networks.

Section 3.1: a standard F x F convolution from C to O channels on an Fm x Fm map costs F*F*C*O*Fm*Fm
multiply-adds; a depthwise separable one costs F*F*C*Fm*Fm (depthwise) + C*O*Fm*Fm (pointwise), a
ratio of 1/O + 1/F^2. Here the layers are built and torch.utils.flop_counter counts them; the formula
is shown beside, with the numbers plugged in.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .errors import KnobError

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
        return 1 / self.O + 1 / self.F ** 2

    def steps(self) -> list[dict]:
        """The paper's formulas with this layer's numbers plugged in, and their values."""
        F, C, O, Fm = self.F, self.C, self.O, self.Fm
        return [
            {"quantity": "standard convolution", "formula": "F·F·C·O·Fm·Fm",
             "numbers": f"{F}·{F}·{C}·{O}·{Fm}·{Fm}", "value": F * F * C * O * Fm * Fm,
             "measured": self.standard_mult_adds},
            {"quantity": "depthwise separable", "formula": "F·F·C·Fm·Fm + C·O·Fm·Fm",
             "numbers": f"{F}·{F}·{C}·{Fm}·{Fm} + {C}·{O}·{Fm}·{Fm} = "
                        f"{F * F * C * Fm * Fm:,} + {C * O * Fm * Fm:,}",
             "value": F * F * C * Fm * Fm + C * O * Fm * Fm, "measured": self.separable_mult_adds},
            {"quantity": "ratio", "formula": "1/O + 1/F²", "numbers": f"1/{O} + 1/{F}² = 1/{O} + 1/{F * F}",
             "value": self.formula_ratio, "measured": self.ratio},
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
    return LayerCost(F, C, O, Fm, _count(standard, C, Fm), _count(depthwise, C, Fm), _count(pointwise, C, Fm),
                     standard.weight.numel(), depthwise.weight.numel() + pointwise.weight.numel())


def width_resolution_grid(alphas, resolutions, depthwise: bool = True, num_classes: int = 1000) -> list[dict]:
    """Parameters and multiply-adds of the real MobileNet at every (alpha, resolution), by analysing each."""
    from .analysis import analyze

    out = []
    for alpha in alphas:
        for side in resolutions:
            a = analyze("mobilenet_v1", (3, side, side), alpha=alpha, resolution=side, depthwise=depthwise,
                        num_classes=num_classes)
            out.append({"alpha": alpha, "resolution": side, "params": a.totals.params,
                        "mult_adds": a.totals.mult_adds})
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
    return [{"type": kind, "layers": len(rs), "mult-adds": sum(r.mult_adds for r in rs),
             "mult-adds %": 100 * sum(r.mult_adds for r in rs) / total_madds,
             "params": sum(r.params for r in rs), "params %": 100 * sum(r.params for r in rs) / total_params}
            for kind, rs in groups.items()]
