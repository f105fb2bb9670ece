"""The Inception module, counted: GoogLeNet's modules beside the paper's Table 1, and the 1x1-reduction calculator.

Every number of ours comes from PyTorch: the per-module costs are sums over explorer.analyze's rows; the
calculator builds the module (and the naive one of the paper's Figure 2a) on the meta device and counts
multiply-adds with torch.utils.flop_counter.FlopCounterMode.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import graphviz
import torch
from torch.utils.flop_counter import FlopCounterMode

from .errors import KnobError
from .families.googlenet import INCEPTION, TABLE_1, WIDTH_NAMES, Inception
from .reference import GOOGLENET_TABLE_1

TITLES = {name: (f"inception ({name[len('inception'):]})" if kind == "inception" else
                 f"{kind} {patch[0]}x{patch[0]}/{patch[1]}" if patch else kind)
          for name, kind, patch, _ in TABLE_1}
PAPER_INPUT = (3, 224, 224)
PAPER_KNOBS = {"num_classes": 1000}
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
        costs.append(ModuleCost(name, TITLES[name], s["out"], s["params"], s["weights"], s["biases"], s["norm"],
                                s["mult_adds"], printed_k, printed_m, agrees, note))
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
        prefix = (f"Our '5x5' branch is {kernel}x{kernel} (knob): {extra:,} fewer weights than the paper's "
                  f"{n5_reduce}·{n5}·(25 − {kernel * kernel}); compared below as a 5x5. ")
    extra_params = s["biases"] + s["norm"]
    what = " and ".join(t for t in (f"{s['biases']:,} biases" if s["biases"] else "",
                                     f"{s['norm']:,} batch-norm scales and shifts" if s["norm"] else "") if t)
    params_ok = abs(weights / unit - printed_k) <= ROUNDING_K
    ops_ok = abs(ops / 1e6 - printed_m) <= ROUNDING_M
    positions = math.prod(s["out"][1:])
    if params_ok and ops_ok:
        return prefix + (f"Agrees: Table 1 counts weights only, {weights:,} = {weights / unit:.1f}K (K = "
                         f"{unit:,.0f}); ours also counts the {what} ({extra_params:,} more)."), True
    if ops_ok:
        printed = printed_k * unit
        off = (printed - weights) / weights
        return prefix + (f"The printed ops agree with ours, so the widths are right, but {printed_k:g}K = "
                         f"{printed:,.0f} weights is {abs(off):.1%} {'below' if off < 0 else 'above'} the "
                         f"{weights:,} weights these widths give: the table's params figure does not follow "
                         f"from its own row."), False
    implied = printed_k * unit * positions / 1e6
    if name == "conv1":
        layer = (f"a 7x7 convolution from {in_channels} to 64 channels has 7·7·{in_channels}·64 = {weights:,} "
                 f"weights ({weights / unit:.1f}K) and {ops / 1e6:.1f}M multiply-adds at 112x112")
    else:
        layer = f"its widths give {weights:,} weights ({weights / unit:.1f}K) and {ops / 1e6:.1f}M multiply-adds"
    consistent = abs(implied - printed_m) <= max(ROUNDING_M, 0.02 * printed_m)
    return prefix + (f"Neither printed figure follows from the row: {layer}. " +
                     (f"The printed ops are the printed params times the {positions:,} output positions "
                      f"({printed_k:g}K × {positions:,} = {implied:.1f}M), so the row is consistent with itself "
                      f"but not with the layer it describes." if consistent else
                      "The printed params and ops do not agree with each other either.")), False


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
    with torch.device("meta"):
        module = Inception(in_channels, tuple(widths), kernel5=kernel5, reductions=reductions).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.empty(1, in_channels, side, side, device="meta"))
    return ModuleCount(sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2,
                       module.out_channels)


def check_widths(in_channels, widths, side) -> None:
    if len(widths) != 6:
        raise KnobError(f"An Inception module has six widths ({', '.join(WIDTH_NAMES)}); got {len(widths)}.")
    for label, value in [("input channels", in_channels), *zip(WIDTH_NAMES, widths)]:
        if not 1 <= int(value) <= MAX_WIDTH:
            raise KnobError(f"'{label}' must be between 1 and {MAX_WIDTH}; got {value}.")
    if not 1 <= int(side) <= 1024:
        raise KnobError(f"The input side must be between 1 and 1024 pixels; got {side}.")


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
    return Saving(count_module(in_channels, widths, side, True, kernel5),
                  count_module(in_channels, widths, side, False, kernel5))


# -- the drawing ---------------------------------------------------------------------------------------------

def module_dot(in_channels: int, widths, side: int | None = None, title: str = "", kernel5: int = 5,
               reductions: bool = True) -> str:
    """DOT of one Inception module: the four branches with their widths, and the concatenation (C)."""
    n1, n3r, n3, n5r, n5, proj = widths
    hw = f"×{side}×{side}" if side else ""
    g = graphviz.Digraph("inception", graph_attr={"rankdir": "TB", "nodesep": "0.3", "ranksep": "0.35",
                                                  "bgcolor": "transparent", "fontname": "Helvetica"},
                         node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                    "fontsize": "10", "fillcolor": "#cfe2ff"},
                         edge_attr={"arrowsize": "0.6", "color": "#495057", "fontname": "Helvetica",
                                    "fontsize": "9"})
    g.node("in", f"{title or 'previous layer'}\\n{in_channels}{hw}", shape="oval", fillcolor="#ffffff")
    k = f"{kernel5}x{kernel5}"
    if reductions:
        branches = [[("b1", f"1x1 conv\\n{n1}")],
                    [("b2r", f"1x1 conv (#3x3 reduce)\\n{n3r}"), ("b2", f"3x3 conv\\n{n3}")],
                    [("b3r", f"1x1 conv (#5x5 reduce)\\n{n5r}"), ("b3", f"{k} conv\\n{n5}")],
                    [("b4p", f"3x3 max pool\\n{in_channels}"), ("b4", f"1x1 conv (pool proj)\\n{proj}")]]
        out = n1 + n3 + n5 + proj
    else:
        branches = [[("b1", f"1x1 conv\\n{n1}")], [("b2", f"3x3 conv\\n{n3}")], [("b3", f"{k} conv\\n{n5}")],
                    [("b4p", f"3x3 max pool\\n{in_channels}")]]
        out = n1 + n3 + n5 + in_channels
    g.node("cat", "C", shape="circle", fixedsize="true", width="0.45", fontsize="14", fillcolor="#ffffff")
    for branch in branches:
        previous = "in"
        for node, label in branch:
            fill = "#ffe5b4" if "pool" in label else "#e7f5ff" if "reduce" in label or "proj" in label else "#cfe2ff"
            g.node(node, label, fillcolor=fill)
            g.edge(previous, node)
            previous = node
        width = label.rsplit("\\n", 1)[1]
        g.edge(previous, "cat", label=f" {width}")
    g.node("out", f"filter concatenation\\n{out}{hw}", shape="oval", fillcolor="#ffffff")
    g.edge("cat", "out")
    return g.source
