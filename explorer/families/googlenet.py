"""GoogLeNet (Szegedy et al., Going Deeper with Convolutions, CVPR 2015): Table 1, row by row.

An Inception module runs four branches side by side on the same input and concatenates them:
1x1 convs; 1x1 reduce then 3x3; 1x1 reduce then 5x5; 3x3 max pool then a 1x1 projection. The 1x1
"reduce" convolutions shrink the channels before the expensive 3x3 and 5x5 ones (Section 4).
"""

import math
import numbers
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..errors import KnobError
from ..reference import GOOGLENET_FEWER_PARAMS_THAN_ALEXNET, GOOGLENET_TABLE_1, GOOGLENET_WEIGHT_LAYERS
from ..registry import Family, Knob, register, shorten

# GoogLeNet paper, Table 1 ("GoogLeNet incarnation of the Inception architecture"), top to bottom.
# Inception rows give the six widths: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
# The params and ops columns of the table are published figures: explorer/reference.py, GOOGLENET_TABLE_1.
TABLE_1 = [
    # name          type           patch/stride  widths
    ("conv1", "convolution", (7, 2), 64),
    ("pool1", "max pool", (3, 2), None),
    ("conv2", "convolution", (3, 1), (64, 192)),  # #3x3 reduce 64, #3x3 192: depth 2
    ("pool2", "max pool", (3, 2), None),
    ("inception3a", "inception", None, (64, 96, 128, 16, 32, 32)),
    ("inception3b", "inception", None, (128, 128, 192, 32, 96, 64)),
    ("pool3", "max pool", (3, 2), None),
    ("inception4a", "inception", None, (192, 96, 208, 16, 48, 64)),
    ("inception4b", "inception", None, (160, 112, 224, 24, 64, 64)),
    ("inception4c", "inception", None, (128, 128, 256, 24, 64, 64)),
    ("inception4d", "inception", None, (112, 144, 288, 32, 64, 64)),
    ("inception4e", "inception", None, (256, 160, 320, 32, 128, 128)),
    ("pool4", "max pool", (3, 2), None),
    ("inception5a", "inception", None, (256, 160, 320, 32, 128, 128)),
    ("inception5b", "inception", None, (384, 192, 384, 48, 128, 128)),
    ("avgpool", "avg pool", (7, 1), None),
    ("dropout", "dropout (40%)", None, None),
    ("fc", "linear", None, 1000),
    ("softmax", "softmax", None, None),
]
WIDTH_NAMES = ("#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")
INCEPTION = {name: widths for name, kind, _, widths in TABLE_1 if kind == "inception"}
# Section 5: auxiliary classifiers on top of inception (4a) and (4d), used only while training.
AUX_AFTER = {"inception4a": "aux1", "inception4d": "aux2"}
NORM_AFTER = {"pool1": "norm1", "conv2": "norm2"}


def conv_unit(in_channels, out_channels, kernel, stride=1, batch_norm=False, conv="conv", bn="bn", relu="relu"):
    """Conv (+BN) + ReLU as (name, layer) pairs, "same" padding: the branches keep the input's height and width."""
    layers = [(conv, nn.Conv2d(in_channels, out_channels, kernel, stride, padding=kernel // 2, bias=not batch_norm))]
    if batch_norm:  # BN's shift replaces the bias; eps as torchvision's BN-GoogLeNet
        layers.append((bn, nn.BatchNorm2d(out_channels, eps=0.001)))
    layers.append((relu, nn.ReLU(inplace=True)))
    return layers


def reduce_then_conv(in_channels, reduce, out_channels, kernel, batch_norm):
    """A 1x1 "reduce" convolution, then the kxk one: Table 1's "#3x3 reduce, #3x3" (and 5x5) pairs."""
    return nn.Sequential(
        OrderedDict(
            conv_unit(in_channels, reduce, 1, batch_norm=batch_norm, conv="reduce", bn="bn1", relu="relu1")
            + conv_unit(
                reduce,
                out_channels,
                kernel,
                batch_norm=batch_norm,
                conv=f"conv{kernel}x{kernel}",
                bn="bn2",
                relu="relu2",
            )
        )
    )


class Inception(nn.Module):
    """Figure 2(b): four branches on the same input, concatenated along the channels.

    With reductions=False it is Figure 2(a), the naive module: no 1x1 reduce, no pool projection
    (the pool branch passes all input channels through), for the calculator of explorer.inception.
    """

    def __init__(self, in_channels, widths, batch_norm=False, kernel5=5, reductions=True):
        super().__init__()
        n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj = widths
        pool = ("pool", nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True))
        self.branch1 = nn.Sequential(
            OrderedDict(conv_unit(in_channels, n1x1, 1, batch_norm=batch_norm, conv="conv1x1"))
        )
        if reductions:
            self.branch2 = reduce_then_conv(in_channels, n3x3_reduce, n3x3, 3, batch_norm)
            self.branch3 = reduce_then_conv(in_channels, n5x5_reduce, n5x5, kernel5, batch_norm)
            self.branch4 = nn.Sequential(
                OrderedDict([pool] + conv_unit(in_channels, pool_proj, 1, batch_norm=batch_norm, conv="proj"))
            )
        else:
            self.branch2 = nn.Sequential(
                OrderedDict(conv_unit(in_channels, n3x3, 3, batch_norm=batch_norm, conv="conv3x3"))
            )
            self.branch3 = nn.Sequential(
                OrderedDict(
                    conv_unit(in_channels, n5x5, kernel5, batch_norm=batch_norm, conv=f"conv{kernel5}x{kernel5}")
                )
            )
            self.branch4 = nn.Sequential(OrderedDict([pool]))
        self.out_channels = n1x1 + n3x3 + n5x5 + (pool_proj if reductions else in_channels)

    def forward(self, x):  # (B, C_in, H, W) -> (B, #1x1 + #3x3 + #5x5 + pool proj, H, W)
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class AuxClassifier(nn.Sequential):
    """Section 5: 5x5/3 average pool (4x4 at 224), 1x1 conv 128 + ReLU, FC 1024 + ReLU, dropout 70%, linear."""

    def __init__(self, in_channels, num_classes, batch_norm=False):
        super().__init__(
            OrderedDict(
                # 5x5/3 turns the 14x14 maps of 224 into 4x4; adaptive (as torchvision) keeps 4x4 at other inputs,
                # so fc1 always has the paper's 128 * 4 * 4 = 2048 inputs.
                [("pool", nn.AdaptiveAvgPool2d(4))]
                + conv_unit(in_channels, 128, 1, batch_norm=batch_norm)
                + [
                    ("flatten", nn.Flatten()),
                    ("fc1", nn.Linear(128 * 4 * 4, 1024)),
                    ("relu_fc", nn.ReLU(inplace=True)),
                    ("dropout", nn.Dropout(0.7)),
                    ("fc2", nn.Linear(1024, num_classes)),
                ]
            )
        )


class GoogLeNet(nn.Module):
    def __init__(
        self, aux_logits=False, batch_norm=False, num_classes=1000, branch3_kernel=5, in_channels=3, pool4_kernel=3
    ):
        super().__init__()
        channels = in_channels
        self.aux_logits = aux_logits
        for name, kind, patch, widths in TABLE_1:
            if kind == "convolution" and name == "conv1":
                layer = nn.Sequential(OrderedDict(conv_unit(channels, widths, patch[0], patch[1], batch_norm)))  # 7x7/2
                channels = widths
            elif kind == "convolution":  # conv2: a 1x1 reduce, then the 3x3 (Table 1, depth 2)
                reduce, out = widths
                layer = reduce_then_conv(channels, reduce, out, patch[0], batch_norm)
                channels = out
            elif kind == "max pool":
                # ceil_mode: Caffe's rounding, so that 112 -> 56 -> 28 -> 14 -> 7 as Table 1 prints them
                # pool4: torchvision uses 2x2/2 (ceil mode) where Table 1 has 3x3/2; the same 7x7 at 224, not at
                # inputs where that map has an odd side (15 -> 8 against 7)
                kernel = pool4_kernel if name == "pool4" else patch[0]
                layer = nn.MaxPool2d(kernel, patch[1], ceil_mode=True)
            elif kind == "inception":
                layer = Inception(channels, widths, batch_norm, branch3_kernel)
                channels = layer.out_channels
                if aux_logits and name in AUX_AFTER:
                    setattr(self, AUX_AFTER[name], AuxClassifier(channels, num_classes, batch_norm))
            elif kind == "avg pool":
                # 7x7/1 covers the whole 7x7 map at 224: a global average, kept global at other inputs
                layer = nn.AdaptiveAvgPool2d(1)
            elif kind.startswith("dropout"):
                layer = nn.Dropout(0.4)
            elif kind == "linear":
                layer = nn.Linear(channels, num_classes)
            else:
                layer = nn.Softmax(dim=1)
            setattr(self, name, layer)
            if name in NORM_AFTER and not batch_norm:
                # Figure 3: LocalRespNorm after pool1 and after conv2 (not in Table 1; no parameters).
                # Batch-normalised variants drop it, as Ioffe & Szegedy (2015) did.
                setattr(self, NORM_AFTER[name], nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75))
        self.order = [name for name, *_ in TABLE_1]

    def forward(self, x):
        aux = []
        for name in self.order:
            x = getattr(self, name)(x)
            if name in NORM_AFTER and hasattr(self, NORM_AFTER[name]):
                x = getattr(self, NORM_AFTER[name])(x)
            if name == "avgpool":
                x = torch.flatten(x, 1)  # (B, 1024, 1, 1) -> (B, 1024)
            if self.aux_logits and self.training and name in AUX_AFTER:
                aux.append(getattr(self, AUX_AFTER[name])(x))  # training only: the trace runs in eval mode
        return (x, *aux) if aux else x


def googlenet(aux_logits=False, batch_norm=False, num_classes=1000, branch3_kernel=5, pool4_kernel=3, in_channels=3):
    return GoogLeNet(aux_logits, batch_norm, num_classes, branch3_kernel, in_channels, pool4_kernel)


register(
    Family(
        name="googlenet",
        title="GoogLeNet (Inception v1)",
        builder=googlenet,
        knobs=(
            Knob(
                "aux_logits",
                "bool",
                False,
                "The two auxiliary classifiers on inception (4a) and (4d) "
                "(Section 5): trained with the network, discarded at inference, so they add parameters but "
                "no inference multiply-adds.",
                label="auxiliary classifiers",
            ),
            Knob(
                "batch_norm",
                "bool",
                False,
                "Batch normalisation after every convolution, without conv biases "
                "and without the LRN layers (BN-Inception, torchvision; not in the paper).",
                label="batch norm",
            ),
            Knob(
                "num_classes",
                "int",
                1000,
                "Outputs of the last layer (and of the auxiliary classifiers).",
                1,
                100000,
                label="classes",
            ),
            Knob(
                "branch3_kernel",
                "choice",
                5,
                "Kernel of the '#5x5' branch: 5 as in the paper; 3 reproduces "
                "torchvision's googlenet, which uses 3x3 there (a known bug kept for its weights, "
                "pytorch/vision issue 906).",
                choices=(5, 3),
                label="'5x5' branch kernel",
            ),
            Knob(
                "pool4_kernel",
                "choice",
                3,
                "Window of the max pool before inception (5a), stride 2, ceil mode: 3 as in Table 1; "
                "2 as torchvision builds it (the same 7x7 maps at 224, one more row and column where that "
                "map has an odd side).",
                choices=(3, 2),
                label="pool before (5a)",
            ),
        ),
        default_input=(3, 224, 224),
        paper="Szegedy et al., Going Deeper with Convolutions, CVPR 2015",
        summary="Nine Inception modules: 1x1, 3x3 and 5x5 convolutions and a max pool side by side, "
        "concatenated; 1x1 convolutions reduce the channels before the expensive ones. "
        f"{GOOGLENET_WEIGHT_LAYERS} layers with parameters, {GOOGLENET_FEWER_PARAMS_THAN_ALEXNET}x fewer "
        "parameters than AlexNet (published).",
    ),
    presets={
        "googlenet": {},
        "googlenet_torchvision": dict(batch_norm=True, branch3_kernel=3, pool4_kernel=2),
    },
    titles={
        "googlenet": "GoogLeNet (the paper's Table 1)",
        "googlenet_torchvision": "GoogLeNet as torchvision builds it (BN, 3x3 in the '5x5' branch, 2x2 pool before 5a)",
    },
    inputs={"googlenet": (3, 224, 224), "googlenet_torchvision": (3, 224, 224)},
)

# -- the idea: the Inception module, counted (Table 1 beside ours; the 1x1-reduction calculator) ----------
# Every number of ours comes from PyTorch: per-module costs are sums over explorer.analyze's rows; the calculator
# builds the module (and the naive one of the paper's Figure 2a) on the meta device and counts multiply-adds with
# torch.utils.flop_counter.FlopCounterMode.

TITLES = {
    name: (
        f"inception ({name[len('inception') :]})"
        if kind == "inception"
        else f"{kind} {patch[0]}x{patch[0]}/{patch[1]}"
        if patch
        else kind
    )
    for name, kind, patch, _ in TABLE_1
}
PAPER_INPUT = (3, 224, 224)
ROUNDING_K = 1.5  # printed params within 1.5K of ours: the table rounds (380K for 379.0K)
ROUNDING_M = 1.0  # printed ops within 1M of ours


@dataclass(frozen=True)
class ModuleCost:
    """One row of Table 1 with parameters: our counts, the printed ones and why they differ."""

    name: str
    title: str
    output_shape: tuple
    params: int  # everything PyTorch holds: weights, biases, batch-norm scales and shifts
    weights: int  # convolution and linear weights only
    biases: int
    norm_params: int
    mult_adds: int
    printed_k: float | None
    printed_ops_m: float | None
    agrees: bool
    note: str


def _module_of(row_name: str) -> str:
    return row_name.split(".")[0]


def module_costs(analysis) -> list[ModuleCost]:
    """Table 1's rows with parameters, from a GoogLeNet analysis (at 224x224 to compare with the paper)."""
    sums: dict[str, dict] = {}
    inputs: dict[str, int] = {}
    for r in analysis.rows:
        if r.kind == "unused":
            continue
        s = sums.setdefault(_module_of(r.name), dict(params=0, weights=0, biases=0, norm=0, mult_adds=0, out=None))
        s["params"] += r.params
        s["mult_adds"] += r.mult_adds
        s["out"] = r.output_shape  # the module's last row: the concatenation of an Inception module
        if r.kind in ("conv", "linear") and r.spec is not None and r.shared_with is None:
            bias = (r.spec.get("K") or r.spec.get("n_out")) if r.spec.get("bias") else 0
            s["biases"] += bias
            s["weights"] += r.params - bias
            inputs.setdefault(_module_of(r.name), r.input_shape[0])
        elif r.kind == "norm":
            s["norm"] += r.params
    unit = units_per_k(sums)
    kernel = analysis.resolved.get("branch3_kernel", 5)
    costs = []
    for name, (printed_k, printed_m) in GOOGLENET_TABLE_1.items():
        s = sums[name]
        note, agrees = _explain(name, s, printed_k, printed_m, unit, kernel, inputs.get(name))
        costs.append(
            ModuleCost(
                name,
                TITLES[name],
                s["out"],
                s["params"],
                s["weights"],
                s["biases"],
                s["norm"],
                s["mult_adds"],
                printed_k,
                printed_m,
                agrees,
                note,
            )
        )
    return costs


def units_per_k(sums: dict) -> float:
    """What the table's "K" is: the linear row prints its 1024 x 1000 weights as 1000K, so K = 1,024."""
    return sums["fc"]["weights"] / GOOGLENET_TABLE_1["fc"][0]


def _explain(name, s, printed_k, printed_m, unit, kernel, in_channels) -> tuple[str, bool]:
    weights, ops = s["weights"], s["mult_adds"]
    prefix = ""
    if name in INCEPTION and kernel != 5:  # compare the paper's 5x5 with the paper
        n5_reduce, n5 = INCEPTION[name][3], INCEPTION[name][4]
        extra = (25 - kernel * kernel) * n5_reduce * n5
        weights += extra
        ops += extra * math.prod(s["out"][1:])
        prefix = (
            f"Our '5x5' branch is {kernel}x{kernel} (knob): {extra:,} fewer weights than the paper's "
            f"{n5_reduce}·{n5}·(25 − {kernel * kernel}); compared below as a 5x5. "
        )
    extra_params = s["biases"] + s["norm"]
    what = " and ".join(
        t
        for t in (
            f"{s['biases']:,} biases" if s["biases"] else "",
            f"{s['norm']:,} batch-norm scales and shifts" if s["norm"] else "",
        )
        if t
    )
    params_ok = abs(weights / unit - printed_k) <= ROUNDING_K
    ops_ok = abs(ops / 1e6 - printed_m) <= ROUNDING_M
    positions = math.prod(s["out"][1:])
    if params_ok and ops_ok:
        return prefix + (
            f"Agrees: Table 1 counts weights only, {weights:,} = {weights / unit:.1f}K (K = "
            f"{unit:,.0f}); ours also counts the {what} ({extra_params:,} more)."
        ), True
    if ops_ok:
        printed = printed_k * unit
        off = (printed - weights) / weights
        return prefix + (
            f"The printed ops agree with ours, so the widths are right, but {printed_k:g}K = "
            f"{printed:,.0f} weights is {abs(off):.1%} {'below' if off < 0 else 'above'} the "
            f"{weights:,} weights these widths give: the table's params figure does not follow "
            f"from its own row."
        ), False
    implied = printed_k * unit * positions / 1e6
    if name == "conv1":
        layer = (
            f"a 7x7 convolution from {in_channels} to 64 channels has 7·7·{in_channels}·64 = {weights:,} "
            f"weights ({weights / unit:.1f}K) and {ops / 1e6:.1f}M multiply-adds at 112x112"
        )
    else:
        layer = f"its widths give {weights:,} weights ({weights / unit:.1f}K) and {ops / 1e6:.1f}M multiply-adds"
    consistent = abs(implied - printed_m) <= max(ROUNDING_M, 0.02 * printed_m)
    return prefix + (
        f"Neither printed figure follows from the row: {layer}. "
        + (
            f"The printed ops are the printed params times the {positions:,} output positions "
            f"({printed_k:g}K × {positions:,} = {implied:.1f}M), so the row is consistent with itself "
            f"but not with the layer it describes."
            if consistent
            else "The printed params and ops do not agree with each other either."
        )
    ), False


def aux_params(analysis) -> int:
    """Parameters of the auxiliary classifiers (uncalled at inference, listed as 'unused' rows)."""
    return sum(r.params for r in analysis.rows if r.kind == "unused" and r.name.startswith("aux"))


# -- the calculator ---------------------------------------------------------------------------------------

MAX_WIDTH = 4096


@dataclass(frozen=True)
class ModuleCount:
    params: int
    mult_adds: int
    out_channels: int


def count_module(in_channels: int, widths, side: int, reductions: bool = True, kernel5: int = 5) -> ModuleCount:
    """Build one Inception module with PyTorch (meta device) and count its parameters and multiply-adds."""
    check_widths(in_channels, widths, side)
    in_channels, widths, side = int(in_channels), tuple(int(w) for w in widths), int(side)  # 64.0 from a box is 64
    with torch.device("meta"):
        module = Inception(in_channels, tuple(widths), kernel5=kernel5, reductions=reductions).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.empty(1, in_channels, side, side, device="meta"))
    return ModuleCount(sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2, module.out_channels)


def check_widths(in_channels, widths, side) -> None:
    if len(widths) != 6:
        raise KnobError(f"An Inception module has six widths ({', '.join(WIDTH_NAMES)}); got {len(widths)}.")
    for label, value in [("input channels", in_channels), *zip(WIDTH_NAMES, widths), ("input side", side)]:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value).is_integer():
            raise KnobError(f"'{label}' expects a whole number; got {shorten(value)}.")  # 12.5 is not 12
    for label, value in [("input channels", in_channels), *zip(WIDTH_NAMES, widths)]:
        if not 1 <= int(value) <= MAX_WIDTH:
            raise KnobError(f"'{label}' must be between 1 and {MAX_WIDTH}; got {int(value)}.")
    if not 1 <= int(side) <= 1024:
        raise KnobError(f"The input side must be between 1 and 1024 pixels; got {int(side)}.")


@dataclass(frozen=True)
class Saving:
    reduced: ModuleCount
    naive: ModuleCount

    @property
    def params_saved(self) -> float:
        return 1 - self.reduced.params / self.naive.params

    @property
    def mult_adds_saved(self) -> float:
        return 1 - self.reduced.mult_adds / self.naive.mult_adds


def reduction_saving(in_channels: int, widths, side: int, kernel5: int = 5) -> Saving:
    """The module of Figure 2(b) against the naive module of Figure 2(a) with the same #1x1, #3x3, #5x5."""
    return Saving(
        count_module(in_channels, widths, side, True, kernel5), count_module(in_channels, widths, side, False, kernel5)
    )
