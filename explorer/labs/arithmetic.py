"""The layer arithmetic lab: one layer, its formulas with the numbers plugged in, and PyTorch's measurement.

The lecture's notation: an input A x L x D (height, width, channels), K kernels, receptive field F, stride S,
padding P. compute() builds the real nn layer, runs a tensor through it (a real one for lecture sizes, a
meta-device one beyond), counts its parameters and its multiply-adds (torch.utils.flop_counter), and puts the
pen-and-paper derivation (explorer.formulas) beside each number. ui.charts.sliding_window draws the sliding window.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..analysis import formulas
from ..errors import KnobError, ShapeError
from ..layers import SamePad2d
from ..registry import Knob

KINDS = {
    "conv": "convolution",
    "maxpool": "max pooling",
    "avgpool": "average pooling",
    "dwconv": "depthwise convolution",
    "dense": "dense (fully connected)",
}
PADDINGS = ("number", "same", "valid")

# Each setting declared once: the page's widgets read range, default and help from here.
KNOBS = {
    k.name: k
    for k in (
        Knob("kind", "choice", "conv", "The layer type.", choices=tuple(KINDS), label="layer"),
        Knob("height", "int", 32, "A: the input's height in pixels.", 1, 1024, label="A (height)"),
        Knob("width", "int", 32, "L: the input's width in pixels.", 1, 1024, label="L (width)"),
        Knob("channels", "int", 3, "D: the input's depth (channels).", 1, 2048, label="D (channels)"),
        Knob(
            "kernels",
            "int",
            6,
            "K: kernels of a convolution (its output channels); units of a dense layer; "
            "kernels per input channel (depth multiplier) of a depthwise convolution.",
            1,
            4096,
            label="K",
        ),
        Knob("field", "int", 5, "F: the receptive field, an F x F window.", 1, 64, label="F (receptive field)"),
        Knob("stride", "int", 1, "S: how far the window moves at each step.", 1, 64, label="S (stride)"),
        Knob(
            "padding_mode",
            "choice",
            "number",
            "A number P of zeros on each side, or Keras's 'same' (output ⌈A / S⌉) or 'valid' (no padding).",
            choices=PADDINGS,
            label="padding",
        ),
        Knob("padding", "int", 0, "P: zeros added on each side.", 0, 64, label="P (padding)"),
    )
}
REAL_TENSOR_LIMIT = 1 << 24  # input elements: beyond this PyTorch computes the shapes on the meta device
# Multiply-adds run for real at most: 2e8 take ~0.2 s on this 2-core CPU (measured: 64 3x3 kernels on
# 15x1024x1024, 9e9 multiply-adds, took 1.5 s); beyond it the meta device gives the same shapes and counts at once.
REAL_WORK_LIMIT = 2 * 10**8
PICTURE_LIMIT = 40  # padded sides up to this are drawn cell by cell


@dataclass(frozen=True)
class LayerSetup:
    kind: str = "conv"
    height: int = 32
    width: int = 32
    channels: int = 3
    kernels: int = 6
    field: int = 5
    stride: int = 1
    padding_mode: str = "number"
    padding: int = 0

    @classmethod
    def checked(cls, **values) -> LayerSetup:
        """Coerce and range-check each setting with its Knob (strings from a URL too), or raise KnobError."""
        return cls(**{name: KNOBS[name].coerce(value) for name, value in values.items()})

    @property
    def windowed(self) -> bool:
        return self.kind != "dense"

    @property
    def pads(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right)) zeros actually added."""
        if self.padding_mode == "valid" or not self.windowed:
            return (0, 0), (0, 0)
        if self.padding_mode == "same":
            return (
                formulas.same_padding(self.height, self.field, self.stride),
                formulas.same_padding(self.width, self.field, self.stride),
            )
        return (self.padding, self.padding), (self.padding, self.padding)

    @property
    def out_hw(self) -> tuple[int, int]:
        (t, b), (l, r) = self.pads
        return (
            (self.height + t + b - self.field) // self.stride + 1,
            (self.width + l + r - self.field) // self.stride + 1,
        )


def module(setup: LayerSetup) -> nn.Module:
    """The PyTorch layer a student would write for this setup."""
    s = setup
    P = s.padding if s.padding_mode == "number" else 0
    if s.kind == "dense":
        return nn.Sequential(nn.Flatten(), nn.Linear(s.channels * s.height * s.width, s.kernels))
    if s.kind in ("maxpool", "avgpool") and P > s.field // 2:
        raise KnobError(
            f"PyTorch pads a pooling window by at most half its size (F / 2 = {s.field // 2}); "
            f"got P = {P}. Lower P or widen F."
        )
    if s.kind == "avgpool" and s.padding_mode == "same":
        raise KnobError(
            "'same' average pooling has no PyTorch equivalent (Keras leaves the padded zeros out of "
            "each mean): choose a number P or 'valid'."
        )
    if s.kind == "conv":
        layer = nn.Conv2d(s.channels, s.kernels, s.field, s.stride, P)
    elif s.kind == "dwconv":
        layer = nn.Conv2d(s.channels, s.channels * s.kernels, s.field, s.stride, P, groups=s.channels)
    else:
        layer = (nn.MaxPool2d if s.kind == "maxpool" else nn.AvgPool2d)(s.field, s.stride, P)
    if s.padding_mode == "same":
        if s.stride == 1 and s.kind != "maxpool":  # PyTorch's own 'same'
            layer = nn.Conv2d(layer.in_channels, layer.out_channels, s.field, 1, "same", groups=layer.groups)
        else:
            return nn.Sequential(
                SamePad2d(s.field, s.stride, value=float("-inf") if s.kind == "maxpool" else 0.0), layer
            )
    return layer


def code(setup: LayerSetup) -> str:
    """The layer as one line of PyTorch (what module() builds)."""
    s = setup
    if s.kind == "dense":
        return f"nn.Sequential(nn.Flatten(), nn.Linear({s.channels} * {s.height} * {s.width}, {s.kernels}))"
    P = s.padding if s.padding_mode == "number" else 0
    pad = f", padding={P}" if P else ""
    if s.kind in ("conv", "dwconv"):
        out = s.kernels if s.kind == "conv" else f"{s.channels} * {s.kernels}"
        groups = f", groups={s.channels}" if s.kind == "dwconv" else ""
        stride = f", stride={s.stride}" if s.stride != 1 else ""
        if s.padding_mode == "same" and s.stride == 1:
            return f"nn.Conv2d({s.channels}, {out}, {s.field}, padding='same'{groups})"
        line = f"nn.Conv2d({s.channels}, {out}, {s.field}{stride}{pad}{groups})"
    else:
        line = f"nn.{'MaxPool2d' if s.kind == 'maxpool' else 'AvgPool2d'}({s.field}, stride={s.stride}{pad})"
    if s.padding_mode == "same":
        value = ", value=float('-inf')" if s.kind == "maxpool" else ""
        return f"nn.Sequential(SamePad2d({s.field}, stride={s.stride}{value}), {line})"
    return line


@dataclass
class LabResult:
    setup: LayerSetup
    output_shape: tuple  # measured by PyTorch: (C, H, W) or (units,)
    params: int
    mult_adds: int
    steps: list  # formulas' steps, each with "measured" (PyTorch's number) added
    code: str
    device: str  # "cpu" (a real tensor) or "meta"
    notes: list = field(default_factory=list)


def compute(setup: LayerSetup) -> LabResult:
    """The layer's output, parameters and multiply-adds: formula, numbers, and PyTorch's measurement."""
    s = setup
    _check_fits(s)
    shape = (s.channels, s.height, s.width)
    weights = s.kernels * s.channels * (s.field**2 if s.windowed else s.height * s.width)
    positions = (s.height * s.width) // (s.stride**2) if s.windowed else 1  # about the output's positions
    small = (
        math.prod(shape) <= REAL_TENSOR_LIMIT
        and weights <= REAL_TENSOR_LIMIT
        and weights * max(positions, 1) <= REAL_WORK_LIMIT
    )
    device = "cpu" if small else "meta"  # meta: PyTorch's own shape rules, without allocating gigabytes
    with torch.device(device):
        layer = module(s)
        x = torch.zeros(1, *shape)
    with torch.no_grad(), FlopCounterMode(display=False) as counter, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*padding='same' with even kernel.*")  # a speed note
        out = tuple(layer(x).shape[1:])
    params = sum(p.numel() for p in layer.parameters())
    mult_adds = counter.get_total_flops() // 2  # a multiply-add is two FLOPs
    steps = _steps(s, layer, shape, out, x)
    measured = {
        "output side": out[1] if len(out) == 3 else None,
        "output height": out[1] if len(out) == 3 else None,
        "output width": out[2] if len(out) == 3 else None,
        "output channels": out[0] if len(out) == 3 else None,
        "output units": out[0] if len(out) == 1 else None,
        "parameters": params,
        "multiply-adds": mult_adds,
    }
    for step in steps:
        step.setdefault("measured", measured.get(step["quantity"]))
    notes = []
    if s.padding_mode == "same" and s.stride > 1 and s.kind in ("conv", "dwconv"):
        try:
            nn.Conv2d(s.channels, s.kernels, s.field, s.stride, "same")
        except (ValueError, RuntimeError) as e:  # PyTorch's own words, measured
            notes.append(
                f"PyTorch's padding='same' refuses this stride (\"{e}\"): its padding would depend on the "
                f"input size. Keras pads so that the output is ⌈A / S⌉; here nn.functional.pad does that "
                f"before a convolution with P = 0 (SamePad2d in the code)."
            )
    if s.padding_mode == "same" and s.kind == "maxpool":
        notes.append(
            "PyTorch's MaxPool2d has no padding='same': the window is padded with −∞ first (SamePad2d), "
            "so that the padding is never the maximum, as in Keras."
        )
    return LabResult(s, out, params, mult_adds, steps, code(s), device, notes)


def _check_fits(s: LayerSetup) -> None:
    if not s.windowed:
        return
    (t, b), (l, r) = s.pads
    for side, name, extra in ((s.height, "height A", t + b), (s.width, "width L", l + r)):
        if side + extra < s.field:
            fix = f"make the {name.split()[0]} at least {s.field - extra}"
            if s.padding_mode == "number" and s.kind in ("conv", "dwconv"):
                fix += f" or pad by at least {math.ceil((s.field - side) / 2)}"
            raise ShapeError(
                f"The {s.field}x{s.field} window does not fit the {name} of {side} padded by {extra}: "
                f"(A − F + 2P) = {side + extra - s.field} is negative, so there is no output; {fix}."
            )


def _steps(s: LayerSetup, layer, shape, out, x) -> list[dict]:
    if s.kind == "dense":
        flatten, linear = layer
        n = math.prod(shape)
        flat = formulas.derive(formulas.layer_spec(flatten), shape, (n,))
        flattened = flatten(x).shape[1]  # measured: what nn.Flatten makes of the input
        for step in flat:
            step.update(quantity="flattened input", measured=flattened)
        return flat + formulas.derive(formulas.layer_spec(linear), (n,), out)
    core = layer[-1] if isinstance(layer, nn.Sequential) else layer
    spec = formulas.layer_spec(core)
    if s.padding_mode == "same":  # the output follows from ⌈A / S⌉; the padding from the output
        sides = formulas.same_steps((s.height, s.width), (s.field,) * 2, (s.stride,) * 2)
        inner = (shape[0], out[1] * s.stride, out[2] * s.stride)  # only channels and output sides are read below
        rest = [
            st
            for st in formulas.derive({**spec, "P": (0, 0)} if spec["layer"] == "pool" else spec, inner, out)
            if not st["quantity"].startswith("output") or st["quantity"] == "output channels"
        ]
        return sides + rest
    return formulas.derive(spec, shape, out)


# -- the sliding window -------------------------------------------------------------------------


def positions(setup: LayerSetup) -> list[tuple[int, int]]:
    """Top-left corners (row, column) of the windows, in padded coordinates, in the order PyTorch visits them."""
    h, w = setup.out_hw
    return [(i * setup.stride, j * setup.stride) for i in range(max(h, 0)) for j in range(max(w, 0))]


def picture_fits(setup: LayerSetup) -> bool:
    (t, b), (l, r) = setup.pads
    return setup.windowed and max(setup.height + t + b, setup.width + l + r) <= PICTURE_LIMIT


def picture_caption(setup: LayerSetup, step: int) -> str:
    visited = positions(setup)
    step = min(max(step, 0), len(visited) - 1)
    oh, ow = setup.out_hw
    i, j = divmod(step, ow)
    top, left = visited[step]
    (t, _), (l, _) = setup.pads
    return (
        f"Window {step + 1} of {len(visited)} ({oh} × {ow} outputs): rows {top - t}..{top - t + setup.field - 1}, "
        f"columns {left - l}..{left - l + setup.field - 1} of the input (negative or past the edge: padding) "
        f"→ output ({i}, {j})."
    )
