"""A SqueezeNet Fire module's cost against its squeeze ratio, counted on PyTorch modules built for each point.

The paper (Section 5.1, Figure 2a) varies SR, the squeeze filters as a share of the expand filters
(s = SR * e), from 0.125 to 1.0 and keeps the rest of the network fixed.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from .analysis import analyze
from .errors import KnobError
from .families.squeezenet import Fire

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
        raise KnobError(f"No squeeze ratio gives this Fire module a squeeze filter: its {e} expand filters are too "
                        f"few; raise base_e.")
    return points


def network_sweep(name: str, input_shape, knobs: dict, ratios=(0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)):
    """(SR, total parameters, multiply-adds) of the whole network for each SR, the axis of the paper's Figure 2a."""
    out = []
    for sr in ratios:
        a = analyze(name, input_shape, **{**knobs, "squeeze_ratio": sr})
        out.append((sr, a.totals.params, a.totals.mult_adds))
    return out
