"""NASNet-A (Zoph, Vasudevan, Shlens & Le, CVPR 2018): a network stacked from two searched cells.

A controller RNN searched the cells, not the network: a Normal Cell (keeps the size) and a Reduction Cell
(halves it, stride 2 on the cell's inputs). Each cell receives two hidden states, h_i (the previous
cell's output) and h_i-1 (the one before). Each of its five blocks picks two hidden states, applies an
operation to each and adds the results; the block's output becomes a new hidden state. The cell's output
concatenates the hidden states listed in `concat` (those no block consumed, as the authors' code decides).

The ImageNet network (paper, Figure 2 and Section 4): a 3x3 stride-2 convolution, two Reduction Cells
as stem, then N Normal Cells, a Reduction Cell, N Normal Cells, a Reduction Cell, N Normal Cells, global
average pooling and the classifier. "N @ P" names it: P, the penultimate filters, is the channel count of
the last cell's output, 24 times the filters F of the first normal cells (6 concatenated states x 4F).
Layout and channel rules are those of the authors' code (tensorflow/models, research/slim/nets/nasnet),
which Cadene's pretrainedmodels ports to PyTorch (nasnetamobile: 5,289,978 parameters).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import KnobError
from ..registry import Family, Knob, register

H_I, H_PREV = "h_i", "h_i-1"
BN_EPS = 0.001  # the authors' code


@dataclass(frozen=True)
class Genotype:
    """A searched cell: five blocks ((input, operation), (input, operation)), combined by addition."""

    name: str
    blocks: tuple
    concat: tuple  # hidden states concatenated into the cell's output
    reduction: bool  # operations on h_i and h_i-1 have stride 2


# NASNet paper, Figure 4, as the authors' code lists it (nasnet_utils.NasNetANormalCell / ReductionCell:
# operations, hiddenstate_indices and used_hiddenstates). "block k" is the output of block k.
NORMAL_CELL = Genotype(
    "Normal Cell",
    blocks=(
        ((H_I, "sep_conv_5x5"), (H_PREV, "sep_conv_3x3")),
        ((H_PREV, "sep_conv_5x5"), (H_PREV, "sep_conv_3x3")),
        ((H_I, "avg_pool_3x3"), (H_PREV, "identity")),
        ((H_PREV, "avg_pool_3x3"), (H_PREV, "avg_pool_3x3")),
        ((H_I, "sep_conv_3x3"), (H_I, "identity")),
    ),
    concat=(H_PREV, "block 0", "block 1", "block 2", "block 3", "block 4"),
    reduction=False,
)
REDUCTION_CELL = Genotype(
    "Reduction Cell",
    blocks=(
        ((H_I, "sep_conv_5x5"), (H_PREV, "sep_conv_7x7")),
        ((H_I, "max_pool_3x3"), (H_PREV, "sep_conv_7x7")),
        ((H_I, "avg_pool_3x3"), (H_PREV, "sep_conv_5x5")),
        (("block 1", "identity"), ("block 0", "avg_pool_3x3")),
        (("block 0", "sep_conv_3x3"), (H_I, "max_pool_3x3")),
    ),
    concat=("block 1", "block 2", "block 3", "block 4"),
    reduction=True,
)
GENOTYPES = {"normal": NORMAL_CELL, "reduction": REDUCTION_CELL}

# The lecture's operation set (the controller's choices); NASNet-A uses the starred ones.
OPERATIONS = {
    "identity": "identity *",
    "conv_1x3_3x1": "1x3 then 3x1 convolution",
    "conv_1x7_7x1": "1x7 then 7x1 convolution",
    "dil_conv_3x3": "3x3 dilated convolution",
    "avg_pool_3x3": "3x3 average pooling *",
    "max_pool_3x3": "3x3 max pooling *",
    "max_pool_5x5": "5x5 max pooling",
    "max_pool_7x7": "7x7 max pooling",
    "conv_1x1": "1x1 convolution",
    "conv_3x3": "3x3 convolution",
    "sep_conv_3x3": "3x3 depthwise-separable conv *",
    "sep_conv_5x5": "5x5 depthwise-separable conv *",
    "sep_conv_7x7": "7x7 depthwise-separable conv *",
}
OP_TITLES = {
    "identity": "identity",
    "avg_pool_3x3": "avg 3x3",
    "max_pool_3x3": "max 3x3",
    "sep_conv_3x3": "sep 3x3",
    "sep_conv_5x5": "sep 5x5",
    "sep_conv_7x7": "sep 7x7",
}


class SepConvStack(nn.Sequential):
    """The authors' "separable_KxK_2": twice ReLU, depthwise KxK then pointwise 1x1, batch norm.

    The stride is on the first depthwise convolution; the first pointwise one already has the cell's width.
    """

    def __init__(self, in_channels, channels, kernel_size, stride):
        pad = kernel_size // 2
        super().__init__(
            OrderedDict(
                [
                    ("relu1", nn.ReLU()),  # not in place: the hidden state feeds other operations too
                    (
                        "dw1",
                        nn.Conv2d(in_channels, in_channels, kernel_size, stride, pad, groups=in_channels, bias=False),
                    ),
                    ("pw1", nn.Conv2d(in_channels, channels, 1, bias=False)),
                    ("bn1", nn.BatchNorm2d(channels, eps=BN_EPS)),
                    ("relu2", nn.ReLU()),
                    ("dw2", nn.Conv2d(channels, channels, kernel_size, 1, pad, groups=channels, bias=False)),
                    ("pw2", nn.Conv2d(channels, channels, 1, bias=False)),
                    ("bn2", nn.BatchNorm2d(channels, eps=BN_EPS)),
                ]
            )
        )


def operation(name: str, in_channels: int, channels: int, stride: int) -> nn.Module:
    if name.startswith("sep_conv_"):
        return SepConvStack(in_channels, channels, int(name[-1]), stride)
    # Identities only ever run at stride 1. A pool or identity reading a state of another width (the CIFAR
    # network's first cells read the stem's 3 x 32 maps) is followed by a 1x1 convolution, as in TF-slim's nasnet.
    assert name != "identity" or stride == 1, (name, stride)
    if name == "identity":
        return nn.Identity() if in_channels == channels else relu_conv_bn(in_channels, channels)
    if name == "avg_pool_3x3":
        pool = nn.AvgPool2d(3, stride, 1, count_include_pad=False)  # TF's SAME pooling ignores the padding
    elif name == "max_pool_3x3":
        pool = nn.MaxPool2d(3, stride, 1)
    else:
        pool = None
    if pool is not None and in_channels == channels:
        return pool
    if pool is not None:
        conv = nn.Conv2d(in_channels, channels, 1, bias=False)
        bn = nn.BatchNorm2d(channels, eps=BN_EPS)
        return nn.Sequential(OrderedDict([("pool", pool), ("conv", conv), ("bn", bn)]))
    raise ValueError(f"NASNet-A does not use the operation {name}")


def relu_conv_bn(in_channels, out_channels) -> nn.Sequential:
    return nn.Sequential(
        OrderedDict(
            [
                ("relu", nn.ReLU()),
                ("conv", nn.Conv2d(in_channels, out_channels, 1, bias=False)),
                ("bn", nn.BatchNorm2d(out_channels, eps=BN_EPS)),
            ]
        )
    )


class FactorizedReduction(nn.Module):
    """Halves a hidden state that is twice the size of h_i: two 1x1 convs, on the even and on the odd pixels.

    The authors' factorized_reduction: a stride-2 1x1 "pool" and a 1x1 conv to half the channels, the same on
    the input shifted by one pixel, both concatenated, batch norm.
    """

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.relu = nn.ReLU()
        self.path1 = nn.Sequential(
            OrderedDict(
                [("subsample", nn.AvgPool2d(1, 2)), ("conv", nn.Conv2d(in_channels, out_channels // 2, 1, bias=False))]
            )
        )
        self.shift = nn.ZeroPad2d((0, 1, 0, 1))
        self.path2 = nn.Sequential(
            OrderedDict(
                [
                    ("subsample", nn.AvgPool2d(1, 2)),
                    ("conv", nn.Conv2d(in_channels, out_channels - out_channels // 2, 1, bias=False)),
                ]
            )
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=BN_EPS)

    def forward(self, x):
        x = self.relu(x)
        shifted = self.shift(x)[:, :, 1:, 1:]  # pad right and bottom, drop the first row and column
        return self.bn(torch.cat([self.path1(x), self.path2(shifted)], dim=1))


class Cell(nn.Module):
    """One Normal or Reduction Cell of `channels` filters, from (h_i, h_i-1) to the concatenated states."""

    def __init__(self, genotype: Genotype, cur_channels, prev_channels, channels, prev_is_larger):
        super().__init__()
        self.genotype = genotype
        self.conv_1x1 = relu_conv_bn(cur_channels, channels)  # h_i always goes through a 1x1 conv to the width
        if prev_channels is None:  # the first stem cell: h_i-1 is its own input, as it is
            self.prev = None
            prev_width = cur_channels
        elif prev_is_larger:  # h_i-1 comes from before a reduction: halve it
            self.prev = FactorizedReduction(prev_channels, channels)
            prev_width = channels
        else:
            self.prev = relu_conv_bn(prev_channels, channels)
            prev_width = channels
        widths = {H_I: channels, H_PREV: prev_width}
        for k, pair in enumerate(genotype.blocks):
            for side, (source, op) in zip(("left", "right"), pair):
                original = source in (H_I, H_PREV)
                stride = 2 if genotype.reduction and original else 1
                self.add_module(f"comb_iter_{k}_{side}", operation(op, widths.get(source, channels), channels, stride))
        self.out_channels = channels * len(genotype.concat)
        # The CIFAR network's first cell concatenates the stem's wider maps: TF-slim's _combine_unused_states
        # brings them to the cell's width first (factorized_reduction at stride 1: a 1x1 conv and batch norm).
        self.to_width = None
        if H_PREV in genotype.concat and prev_width != channels:
            conv = nn.Conv2d(prev_width, channels, 1, bias=False)
            self.to_width = nn.Sequential(OrderedDict([("conv", conv), ("bn", nn.BatchNorm2d(channels, eps=BN_EPS))]))

    def forward(self, h_i, h_prev=None):
        states = {H_PREV: h_i if h_prev is None else h_prev}
        if self.prev is not None:
            states[H_PREV] = self.prev(states[H_PREV])
        states[H_I] = self.conv_1x1(h_i)
        for k, ((left, _), (right, _)) in enumerate(self.genotype.blocks):
            a = getattr(self, f"comb_iter_{k}_left")(states[left])
            b = getattr(self, f"comb_iter_{k}_right")(states[right])
            states[f"block {k}"] = a + b  # each block adds its two operations' outputs
        if self.to_width is not None:
            states[H_PREV] = self.to_width(states[H_PREV])
        return torch.cat([states[name] for name in self.genotype.concat], dim=1)


def cell_plan(cell_repeats: int, penultimate_filters: int, stem: str = "imagenet") -> list[tuple[str, str, int]]:
    """(name, normal or reduction, filters) of every cell in order, with the authors' names and widths.

    The ImageNet networks start with two Reduction Cells (the stem cells, 224 -> 56); the CIFAR network has none:
    its stem is one 3x3 convolution and its first Normal Cell reads that twice (TF-slim's nasnet.py)."""
    filters = penultimate_filters // 24
    plan = [("cell_stem_0", "reduction", filters // 4), ("cell_stem_1", "reduction", filters // 2)]
    if stem == "cifar":
        plan = []
    index = 0
    for stack in range(3):
        if stack > 0:
            plan.append((f"reduction_cell_{stack - 1}", "reduction", filters * 2**stack))
        for _ in range(cell_repeats):
            plan.append((f"cell_{index}", "normal", filters * 2**stack))
            index += 1
    return plan


class NASNetA(nn.Module):
    def __init__(self, cell_repeats, penultimate_filters, stem_filters, num_classes, in_channels=3, stem="imagenet"):
        super().__init__()
        stride, padding = (1, 1) if stem == "cifar" else (2, 0)  # CIFAR: 3x3/1 "same"; ImageNet: 3x3/2, no padding
        self.conv0 = nn.Sequential(
            OrderedDict(
                [
                    ("conv", nn.Conv2d(in_channels, stem_filters, 3, stride, padding, bias=False)),
                    ("bn", nn.BatchNorm2d(stem_filters, eps=BN_EPS)),
                ]
            )
        )
        self.plan = cell_plan(cell_repeats, penultimate_filters, stem)
        # (channels, reduced since) of the last two outputs: each cell reads h_i = the last, h_i-1 = the one before
        cur, prev, prev_is_larger = stem_filters, None, False
        for name, kind, filters in self.plan:
            cell = Cell(GENOTYPES[kind], cur, prev, filters, prev_is_larger)
            self.add_module(name, cell)
            prev_is_larger = kind == "reduction"  # the next cell's h_i-1 is this cell's input, twice as large
            cur, prev = cell.out_channels, cur
        self.relu = nn.ReLU()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.5)
        self.last_linear = nn.Linear(cur, num_classes)

    def forward(self, x):
        x = self.conv0(x)
        h_i, h_prev = x, None  # the first stem cell reads the stem convolution twice
        for name, _, _ in self.plan:
            h_i, h_prev = getattr(self, name)(h_i, h_prev), h_i
        x = self.avgpool(self.relu(h_i)).flatten(1)
        return self.last_linear(self.dropout(x))


def derive(k):
    p = k["penultimate_filters"]
    if p % 24:
        low = max(96, p - p % 24)
        raise KnobError(
            f"penultimate_filters={p} is not a multiple of 24 (the last cell concatenates 6 states of "
            f"4x the first cells' filters); the nearest are {low} and {low + 24}."
        )
    return k


def nasnet(cell_repeats=4, penultimate_filters=1056, stem_filters=32, num_classes=1000, stem="imagenet", in_channels=3):
    derive(dict(cell_repeats=cell_repeats, penultimate_filters=penultimate_filters))
    return NASNetA(cell_repeats, penultimate_filters, stem_filters, num_classes, in_channels, stem)


# -- the cells as the paper draws them: what explorer's drawing (ui.graphs.nasnet_cell) writes on each box --------


def cell_notes(analysis, cell: str) -> tuple:
    """(genotype, title, op_notes, state_notes) of cell `cell` of the analysed network: each operation's
    parameters and the hidden states' shapes, read from the analysis."""
    kinds = {
        name: kind
        for name, kind, _ in cell_plan(
            analysis.resolved["cell_repeats"],
            analysis.resolved["penultimate_filters"],
            analysis.resolved.get("stem", "imagenet"),
        )
    }
    rows = [r for r in analysis.rows if r.name.startswith(cell + ".")]
    if cell not in kinds or not rows:
        raise KeyError(cell)
    genotype = GENOTYPES[kinds[cell]]
    op_notes = {}
    for k in range(len(genotype.blocks)):
        for side in ("left", "right"):
            key = f"comb_iter_{k}_{side}"
            mine = [r for r in rows if r.name.startswith(f"{cell}.{key}.") or r.name == f"{cell}.{key}"]
            params = sum(r.params for r in mine)
            op_notes[key] = f"{params:,} params" if params else "no params"
    shape = "×".join
    first_op = {}  # the shape each hidden state has where the operations read it
    for k, pair in enumerate(genotype.blocks):
        for side, (source, _) in zip(("left", "right"), pair):
            row = next(
                r
                for r in rows
                if r.name == f"{cell}.comb_iter_{k}_{side}" or r.name.startswith(f"{cell}.comb_iter_{k}_{side}.")
            )
            first_op.setdefault(source, row.input_shape)
    state_notes = {s: shape(map(str, first_op[s])) for s in (H_I, H_PREV) if s in first_op}
    state_notes["out"] = shape(map(str, rows[-1].output_shape))
    params = sum(r.params for r in rows)
    title = f"{cell}: {genotype.name}, {params:,} parameters"
    return genotype, title, op_notes, state_notes


def cells(analysis) -> list[dict]:
    """Every cell of the analysed network: its kind, width, input and output shapes, parameters, multiply-adds."""
    kinds = {
        name: (kind, filters)
        for name, kind, filters in cell_plan(
            analysis.resolved["cell_repeats"],
            analysis.resolved["penultimate_filters"],
            analysis.resolved.get("stem", "imagenet"),
        )
    }
    out = []
    for name, (kind, filters) in kinds.items():
        rows = [r for r in analysis.rows if r.name.startswith(name + ".")]
        concat = rows[-1]
        h_i = next(r for r in rows if r.name == f"{name}.conv_1x1.relu")
        out.append(
            {
                "cell": name,
                "kind": GENOTYPES[kind].name,
                "filters": filters,
                "h_i": "x".join(map(str, h_i.input_shape)),
                "output": "x".join(map(str, concat.output_shape)),
                "params": sum(r.params for r in rows),
                "mult-adds": sum(r.mult_adds for r in rows),
            }
        )
    return out


register(
    Family(
        name="nasnet",
        title="NASNet-A",
        builder=nasnet,
        knobs=(
            Knob(
                "cell_repeats",
                "int",
                4,
                "N: Normal Cells in each of the three stacks (4 in NASNet-A mobile, 6 in the large model).",
                1,
                12,
                label="cell repeats N",
            ),
            Knob(
                "penultimate_filters",
                "int",
                1056,
                "P: channels of the last cell's output, a multiple of 24 "
                "(1056 in NASNet-A mobile, 4032 in the large model).",
                96,
                8064,
                step=24,
                label="penultimate filters P",
            ),
            Knob(
                "stem_filters",
                "int",
                32,
                "Filters of the 3x3 stride-2 stem convolution (32 in the mobile model, 96 in the large one).",
                1,
                256,
                label="stem filters",
            ),
            Knob("num_classes", "int", 1000, "Outputs of the last layer.", 1, 100000, label="classes"),
            Knob(
                "stem",
                "choice",
                "imagenet",
                "ImageNet: a 3x3 stride-2 convolution and two Reduction Cells; CIFAR: one 3x3 stride-1 "
                "convolution (3 x 32 filters in the paper) straight into the first Normal Cells.",
                choices=("imagenet", "cifar"),
            ),
        ),
        default_input=(3, 224, 224),
        paper="Zoph, Vasudevan, Shlens & Le, Learning Transferable Architectures for Scalable Image Recognition, "
        "CVPR 2018",
        summary="A controller searched two cells, not a network: a Normal Cell and a Reduction Cell, each five "
        "blocks that pick two hidden states, apply an operation to each and add them. The network "
        "stacks them: N @ P.",
        derive=derive,
    ),
    presets={
        "nasnet_a_mobile": {},
        "nasnet_a_cifar": dict(cell_repeats=6, penultimate_filters=768, stem_filters=96, stem="cifar", num_classes=10),
    },
    titles={"nasnet_a_mobile": "NASNet-A mobile (4 @ 1056)", "nasnet_a_cifar": "NASNet-A CIFAR-10 (6 @ 768)"},
    inputs={"nasnet_a_cifar": (3, 32, 32)},
)
