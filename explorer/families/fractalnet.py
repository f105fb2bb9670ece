"""FractalNet (Larsson, Maire & Shakhnarovich, ICLR 2017): deep networks without residuals, by self-similarity.

F_1(z) = conv(z), F_{C+1}(z) = [(F_C o F_C)(z)] join [conv(z)]: a block of C columns whose deepest path has
2^(C-1) convolutions; joins take the element-wise mean of their inputs. B blocks, each followed by a 2x2 max
pool: 2^(C-1) * B convolutions deep (C=4, B=5: 40). The structure (steps, joins, drop-path) comes
first below; the `column` knob keeps a single column, the plain network the paper extracts for testing.
"""

import math
import random
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from ..build import fx_tracing_here
from ..errors import KnobError, ShapeError
from ..registry import Family, Knob, register

# -- the structure as data: columns, joins, drop-path samples -------------------------------------------
# F_1(z) = conv(z), F_{C+1}(z) = [(F_C o F_C)(z)] join [conv(z)]. Unrolled, a block with C columns has
# 2^(C-1) depth steps; column c (1 = the shallowest, C = the deepest) holds 2^(c-1) convolutions, each
# spanning 2^(C-c) steps. At step t, the columns whose convolution ends there meet in one join (the
# nested joins of the recursion merge into one, as the paper's Figure 1 draws them): an element-wise
# mean of its inputs.
#
# Drop-path (Section 3.1) drops inputs of the joins while training:
#   local:  each join drops each input with probability p, keeping at least one;
#   global: one column is chosen for the whole network and every join follows it.

LOCAL, GLOBAL = "local", "global"
DEFAULT_P = 0.15  # Section 4: "Local drop-path uses 15% drop rate across the entire network"


def steps(columns: int) -> int:
    """Depth steps of a block: the deepest column's 2^(C-1) convolutions."""
    return 2 ** (columns - 1)


def span(columns: int, column: int) -> int:
    """Steps one convolution of `column` spans: 2^(C-c)."""
    return 2 ** (columns - column)


def convs_in_column(column: int) -> int:
    return 2 ** (column - 1)


def ending_at(columns: int, t: int) -> tuple[int, ...]:
    """Columns whose convolution ends at step t (1-based), shallowest first."""
    return tuple(c for c in range(1, columns + 1) if t % span(columns, c) == 0)


def joins(columns: int) -> list[tuple[int, tuple[int, ...]]]:
    """(step, merged columns) of every join of a block: the steps where two or more columns end."""
    return [(t, ending_at(columns, t)) for t in range(1, steps(columns) + 1) if len(ending_at(columns, t)) > 1]


def conv_depth(columns: int, blocks: int) -> int:
    """Convolutions on the deepest path: 2^(C-1) * B (C=4, B=5: 40)."""
    return steps(columns) * blocks


def conv_count(columns: int, blocks: int) -> int:
    """Every convolution of the network: (2^C - 1) per block."""
    return (2**columns - 1) * blocks


def check_structure(columns: int, blocks: int) -> None:
    if columns < 1:
        raise KnobError(
            f"FractalNet needs at least one column (C = 1 is a plain chain of convolutions); got C = {columns}."
        )
    if blocks < 1:
        raise KnobError(f"FractalNet needs at least one block; got B = {blocks}.")


@dataclass(frozen=True)
class DropPath:
    """One drop-path sample: which columns each step of each block keeps."""

    mode: str
    columns: int
    blocks: int
    seed: int
    p: float
    kept: tuple  # kept[b - 1][t - 1]: the columns whose convolution output step t of block b uses
    column: int | None = None  # the global column

    def kept_at(self, block: int, t: int) -> tuple[int, ...]:
        return self.kept[block - 1][t - 1]

    def block_kept(self, block: int) -> dict[int, tuple[int, ...]]:
        """step -> kept columns, what FractalBlock.forward takes."""
        return {t: cols for t, cols in enumerate(self.kept[block - 1], start=1)}

    def active_convs(self) -> frozenset:
        """(block, column, layer) of every convolution on a surviving path from the block input to its output."""
        active = set()
        for b in range(1, self.blocks + 1):
            alive = {c: True for c in range(1, self.columns + 1)}  # is the input of column c's next conv computed
            for t in range(1, steps(self.columns) + 1):
                ends = ending_at(self.columns, t)
                used = [c for c in ends if c in self.kept_at(b, t) and alive[c]]
                for c in used:
                    active.add((b, c, t // span(self.columns, c)))
                for c in ends:
                    alive[c] = bool(used)
        return frozenset(active)

    def dropped_inputs(self) -> int:
        """Join inputs dropped over the whole network."""
        return sum(
            len(cols) - len(self.kept_at(b, t)) for b in range(1, self.blocks + 1) for t, cols in joins(self.columns)
        )


def sample_drop_path(columns: int, blocks: int, mode: str = LOCAL, seed: int = 0, p: float = DEFAULT_P) -> DropPath:
    """A drop-path sample: local (each join input dropped with probability p, at least one kept) or global."""
    check_structure(columns, blocks)
    if mode not in (LOCAL, GLOBAL):
        raise KnobError(f"Drop-path is '{LOCAL}' or '{GLOBAL}'; got '{mode}'.")
    if not 0.0 <= p <= 1.0:
        raise KnobError(f"The drop probability p must be between 0 and 1; got {p}.")
    rng = random.Random(seed)
    column = rng.randint(1, columns) if mode == GLOBAL else None
    kept = []
    for _ in range(blocks):
        block = []
        for t in range(1, steps(columns) + 1):
            ends = ending_at(columns, t)
            if mode == GLOBAL:
                block.append(tuple(c for c in ends if c == column))
            elif len(ends) == 1:
                block.append(ends)  # the deepest column alone: no join, nothing to drop
            else:
                survivors = tuple(c for c in ends if rng.random() >= p)
                block.append(survivors or (rng.choice(ends),))  # "we make sure at least one survives"
        kept.append(tuple(block))
    return DropPath(mode, columns, blocks, seed, p, tuple(kept), column)


# -- the network ------------------------------------------------------------------------------------------

CIFAR_CHANNELS = (64, 128, 256, 512, 512)  # Section 4: "filters per block 64, 128, 256, 512, 512"
MAX_COLUMNS, MAX_BLOCKS = 6, 8


class ConvUnit(nn.Sequential):
    """The paper's "conv": 3x3 convolution, batch norm, ReLU (Section 4)."""

    def __init__(self, in_channels, out_channels):
        super().__init__(
            OrderedDict(
                [
                    ("conv", nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)),  # BN's shift is the bias
                    ("bn", nn.BatchNorm2d(out_channels)),
                    ("relu", nn.ReLU(inplace=True)),
                ]
            )
        )


class FractalBlock(nn.Module):
    """Columns col1 (one conv) ... colC (2^(C-1) convs); with only_column, that column alone: a plain chain."""

    def __init__(self, in_channels, out_channels, columns, only_column=None):
        super().__init__()
        self.columns = columns
        self.only_column = only_column
        for c in [only_column] if only_column else range(1, columns + 1):
            self.add_module(
                f"col{c}",
                nn.Sequential(
                    OrderedDict(
                        (f"layer{i}", ConvUnit(in_channels if i == 1 else out_channels, out_channels))
                        for i in range(1, convs_in_column(c) + 1)
                    )
                ),
            )

    def forward(self, x, kept=None):
        """kept: step -> the columns whose convolution that step's join uses (a drop-path sample); None: all."""
        if self.only_column:
            return getattr(self, f"col{self.only_column}")(x)
        inputs = {c: x for c in range(1, self.columns + 1)}  # the input of each column's next convolution
        merged = x
        for t in range(1, steps(self.columns) + 1):
            ends = ending_at(self.columns, t)
            use = ends if kept is None else kept[t]
            outs = [getattr(self, f"col{c}")[t // span(self.columns, c) - 1](inputs[c]) for c in use]
            if len(outs) > 1:
                merged = torch.stack(outs, 1).mean(1)  # the join: element-wise mean, (B, n, C, H, W) -> (B, C, H, W)
            else:
                merged = outs[0] if outs else None  # one input passes through; none: this path is dropped
            for c in ends:
                inputs[c] = merged
        return merged


class FractalNet(nn.Module):
    def __init__(self, columns, block_channels, num_classes, column=None, in_channels=3):
        super().__init__()
        self.config = dict(
            columns=columns, block_channels=tuple(block_channels), num_classes=num_classes, in_channels=in_channels
        )
        channels = in_channels
        for b, out in enumerate(block_channels, start=1):
            self.add_module(f"block{b}", FractalBlock(channels, out, columns, column))
            self.add_module(f"pool{b}", nn.MaxPool2d(2, 2))  # "2x2 max-pooling after each block"
            channels = out
        self.blocks = len(block_channels)
        # After B = 5 pools a 32x32 input is 1x1 and the prediction layer sees 512 numbers; a global average
        # (the identity at 32x32) keeps that true at larger inputs.
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x, drop_path=None):
        """drop_path: an explorer.fractal.DropPath sample; only the convolutions it keeps are run."""
        checking = not fx_tracing_here()  # torch.fx (Export as PyTorch) traces the dataflow, not the shape check
        input_side = min(x.shape[-2:]) if checking else None
        for b in range(1, self.blocks + 1):
            x = getattr(self, f"block{b}")(x, drop_path.block_kept(b) if drop_path is not None else None)
            if checking and min(x.shape[-2:]) < 2:  # floor(side / 2^(b-1)) < 2: this pool would leave nothing
                largest = int(math.log2(input_side))
                raise ShapeError(
                    f"each of the {self.blocks} blocks ends with a 2x2 max pool that halves the side, so "
                    f"{self.blocks} blocks need an input of at least {2**self.blocks}x{2**self.blocks}, and "
                    f"a side of {input_side} fits at most {largest} block{'s' if largest != 1 else ''}",
                    layer=f"pool{b}",
                )
            x = getattr(self, f"pool{b}")(x)
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def derive(k):
    """Per-block channels (the last count repeats for extra blocks, as 512, 512 does) and the column to keep."""
    check_structure(k["columns"], k["blocks"])
    channels = tuple(k["channels"])
    k["block_channels"] = (channels + (channels[-1],) * k["blocks"])[: k["blocks"]]
    if k["column"] is not None and k["column"] > k["columns"]:
        raise KnobError(
            f"FractalNet with C = {k['columns']} has columns 1 to {k['columns']} ({k['columns']} is the "
            f"deepest); got column {k['column']}."
        )
    return k


def fractalnet(columns=4, blocks=5, channels=CIFAR_CHANNELS, num_classes=10, column=None, in_channels=3):
    k = derive(dict(columns=columns, blocks=blocks, channels=channels, column=column))
    return FractalNet(columns, k["block_channels"], num_classes, column, in_channels)


def extract_column(model: FractalNet, column: int) -> FractalNet:
    """The plain network of one column, with the fractal network's own weights (the paper's deepest-column test)."""
    cfg = model.config
    plain = FractalNet(cfg["columns"], cfg["block_channels"], cfg["num_classes"], column, cfg["in_channels"])
    own = model.state_dict()
    plain.load_state_dict({name: own[name] for name in plain.state_dict()})  # same names: a subset of the model's
    return plain.to(next(model.parameters()).device)


register(
    Family(
        name="fractalnet",
        title="FractalNet",
        builder=fractalnet,
        knobs=(
            Knob(
                "columns",
                "int",
                4,
                "C: columns per block; the deepest has 2^(C-1) convolutions.",
                1,
                MAX_COLUMNS,
                label="columns C",
            ),
            Knob(
                "blocks",
                "int",
                5,
                "B: fractal blocks, each followed by a 2x2 max pool (so B pools: 32x32 inputs allow at most 5).",
                1,
                MAX_BLOCKS,
                label="blocks B",
            ),
            Knob(
                "channels",
                "ints",
                CIFAR_CHANNELS,
                "Filters of each block's convolutions (the paper's 64, 128, "
                "256, 512, 512); blocks beyond the list repeat its last number.",
                1,
                2048,
                label="channels per block",
            ),
            Knob(
                "num_classes",
                "int",
                10,
                "Outputs of the prediction layer: 10 for CIFAR-10 (the paper's main "
                "benchmark at 32x32, also CIFAR-100 and SVHN).",
                1,
                100000,
                label="classes",
            ),
            Knob(
                "column",
                "int",
                None,
                "Keep a single column (C is the deepest): the plain network the paper "
                "extracts after training with drop-path.",
                1,
                MAX_COLUMNS,
                optional=True,
                auto="all columns, the whole fractal",
                label="keep only column",
            ),
        ),
        default_input=(3, 32, 32),
        paper="Larsson, Maire & Shakhnarovich, FractalNet: Ultra-Deep Neural Networks without Residuals, ICLR 2017",
        summary="A self-similar block: F_(C+1)(z) = [(F_C o F_C)(z)] join [conv(z)], joins are element-wise "
        "means. Paths of every length from 1 to 2^(C-1) convolutions and no residual connection; "
        "drop-path trains each column to work alone.",
        derive=derive,
    ),
    presets={
        "fractalnet40": dict(columns=4, blocks=5),
        "fractalnet20": dict(columns=3, blocks=5),
        "fractalnet40_deepest": dict(columns=4, blocks=5, column=4),
    },
    titles={
        "fractalnet40": "FractalNet-40 (C=4, B=5), CIFAR",
        "fractalnet20": "FractalNet-20 (C=3, B=5), CIFAR",
        "fractalnet40_deepest": "FractalNet-40, deepest column only (40 plain conv layers)",
    },
    inputs={"fractalnet40": (3, 32, 32), "fractalnet20": (3, 32, 32), "fractalnet40_deepest": (3, 32, 32)},
)
