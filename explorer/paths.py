"""Unravelling a residual network (Veit, Wilber and Belongie 2016, Sec. 3), exactly.

y_i = f_i(y_{i-1}) + y_{i-1} unrolls into a sum over every subset of the blocks: a path through N blocks
either enters block i's residual branch f_i or takes its skip, so there are 2^N paths, and the number
of paths through exactly k branches is C(N, k): path lengths follow Binomial(N, 1/2). All counts here
are exact Python integers (ResNet-110 has 54 blocks: 2^54 paths).
"""
from __future__ import annotations

import math
from fractions import Fraction

import graphviz

from .errors import KnobError

MAX_BLOCKS = 1000  # 2^1000 has 302 digits; ResNet-1202, the deepest published, has 600 blocks
MAX_EXPRESSION_BLOCKS = 4  # y_4 already has 16 terms, as the lecture writes them
MAX_GRAPH_BLOCKS = 5  # 32 paths, 31 branch nodes


def check_blocks(blocks, limit: int = MAX_BLOCKS) -> int:
    try:
        n = int(blocks)
    except (TypeError, ValueError):
        raise KnobError(f"The number of residual blocks must be a whole number; got {blocks!r}.") from None
    if isinstance(blocks, float) and not float(blocks).is_integer():
        raise KnobError(f"The number of residual blocks must be a whole number; got {blocks!r}.")
    if not 1 <= n <= limit:
        raise KnobError(f"The number of residual blocks must be between 1 and {limit}; got {n}.")
    return n


def check_removed(blocks: int, removed) -> frozenset[int]:
    """Removed blocks are numbered 1..N, as the lecture's f_1 .. f_N."""
    chosen = frozenset(int(i) for i in (removed or ()))
    bad = sorted(i for i in chosen if not 1 <= i <= blocks)
    if bad:
        raise KnobError(f"Blocks are numbered 1 to {blocks}; there is no block {bad[0]} to remove.")
    return chosen


def path_count(blocks: int) -> int:
    """2^N: each block is entered or skipped."""
    return 2 ** check_blocks(blocks)


def length_distribution(blocks: int, removed=()) -> list[int]:
    """Number of paths of each length 0..N; with removed blocks, of the paths that avoid them all.

    A path of length k through N blocks picks k branches: C(N, k). Removing r blocks leaves the paths
    that pick none of them, C(N - r, k) of length k: 2^N paths become 2^(N - r).
    """
    n = check_blocks(blocks)
    left = n - len(check_removed(n, removed))
    return [math.comb(left, k) for k in range(n + 1)]


def mean_length(blocks: int) -> float:
    return check_blocks(blocks) / 2  # Binomial(N, 1/2): N p


def std_length(blocks: int) -> float:
    return math.sqrt(check_blocks(blocks)) / 2  # sqrt(N p (1 - p))


def share_between(blocks: int, low: int, high: int) -> Fraction:
    """The exact share of paths whose length is in [low, high]."""
    n = check_blocks(blocks)
    if low > high:
        low, high = high, low
    low, high = max(0, int(low)), min(n, int(high))
    return Fraction(sum(math.comb(n, k) for k in range(low, high + 1)), 2 ** n)


SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def scientific(number: int) -> str:
    """A large exact integer as 1.80 × 10¹⁶ (three significant digits), without going through a float."""
    digits = str(number)
    if len(digits) <= 3:
        return digits
    mantissa = round(int(digits[:4]) / 10) / 100  # the first four digits, rounded to three
    exponent = len(digits) - 1
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.2f} × 10{str(exponent).translate(SUPERSCRIPT)}"


def summary(blocks: int) -> dict:
    """What `python -m explorer paths N --json` prints."""
    n = check_blocks(blocks)
    return {"blocks": n, "paths": path_count(n), "distribution": length_distribution(n),
            "mean": mean_length(n), "std": std_length(n)}


# -- the unravelled expression --------------------------------------------------------------------------
def _terms(block: int, removed: frozenset[int]) -> list[str]:
    """The terms of y_block: y_i = f_i(y_{i-1}) + y_{i-1}, written out; a removed f_i contributes nothing."""
    if block == 0:
        return ["y_0"]
    below = _terms(block - 1, removed)
    if block in removed:
        return below
    return [f"f_{block}({' + '.join(below)})"] + below


def unravelled(blocks: int, removed=()) -> str:
    """y_N fully unravelled, as the lecture writes it: y_3 = f_3(f_2(f_1(y_0) + y_0) + ...) + ... + y_0."""
    n = check_blocks(blocks, MAX_EXPRESSION_BLOCKS)
    return f"y_{n} = " + " + ".join(_terms(n, check_removed(n, removed)))


def unravelled_latex(blocks: int, removed=()) -> str:
    """LaTeX of the unravelled y_N, one top-level term per line from N = 4 on (it is wide)."""
    n = check_blocks(blocks, MAX_EXPRESSION_BLOCKS)
    terms = _terms(n, check_removed(n, removed))
    if n < 4:
        return f"y_{n} = " + " + ".join(terms)
    return "\\begin{aligned} y_%d = {} & %s \\end{aligned}" % (n, " \\\\ & + ".join(terms))


def plain_expression(blocks: int, removed=()) -> str:
    """The plain network's single path, y_N = f_N(...f_1(y_0)...), with a removed f_i struck out (LaTeX)."""
    n = check_blocks(blocks, MAX_EXPRESSION_BLOCKS)
    gone = check_removed(n, removed)
    inner = "y_0"
    for i in range(1, n + 1):
        inner = (f"\\cancel{{f_{i}}}({inner})" if i in gone else f"f_{i}({inner})")
    return f"y_{n} = {inner}"


# -- the unravelled graph (Veit et al., Fig. 1b) -----------------------------------------------------------
PATH_COLORS = ("#e7f5ff", "#a5d8ff", "#74c0fc", "#4dabf7", "#339af0", "#1c7ed6")  # by path length 1..5
REMOVED_COLOR = "#adb5bd"
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _f(i: int) -> str:
    return f"f{str(i).translate(SUB)}"


def unravelled_dot(blocks: int, removed=()) -> str:
    """Every path of an N-block residual network as a graph: one f_i node per way of reaching block i.

    A node is a path prefix, the set of branches taken so far ending with f_i; every node feeds the
    final sum, and y_0 feeds it directly (the path of length 0). There are 2^N - 1 branch nodes and
    2^N edges into the sum: one per path. Nodes on a path through a removed block are drawn dashed grey.
    """
    n = check_blocks(blocks, MAX_GRAPH_BLOCKS)
    gone = check_removed(n, removed)
    g = graphviz.Digraph("unravelled", graph_attr={"rankdir": "LR", "nodesep": "0.08", "ranksep": "0.45",
                                                   "bgcolor": "transparent", "fontname": "Helvetica"},
                         node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                    "fontsize": "11", "width": "0.35", "height": "0.25", "margin": "0.04,0.02"},
                         edge_attr={"arrowsize": "0.5", "color": "#495057"})
    g.node("y0", f"y{'0'.translate(SUB)}", shape="oval", fillcolor="white")
    out = f"y{str(n).translate(SUB)}"
    alive = 2 ** (n - len(gone))
    g.node("sum", "+", shape="circle", fillcolor="white", fixedsize="true", width="0.35", fontsize="14")
    g.node("out", f"{out}\n{alive} of {2 ** n} paths", shape="oval", fillcolor="white", fontsize="10")
    g.edge("sum", "out")
    prefixes = [()]  # tuples of blocks taken, in order; grows block by block
    for i in range(1, n + 1):
        with g.subgraph() as column:  # every copy of f_i in one column, as in Veit et al.'s figure
            column.attr(rank="same")
            for prefix in [p for p in prefixes]:
                path = prefix + (i,)
                node = "f" + "_".join(map(str, path))
                dead = bool(gone & set(path))
                column.node(node, _f(i), fillcolor=REMOVED_COLOR if dead else PATH_COLORS[min(len(path), 5)],
                            **({"style": "rounded,dashed", "fontcolor": REMOVED_COLOR, "color": REMOVED_COLOR}
                               if dead else {}),
                            tooltip="path through " + " → ".join(_f(b) for b in path))
                prefixes.append(path)
    for path in prefixes:
        node = "y0" if not path else "f" + "_".join(map(str, path))
        dead = bool(gone & set(path))
        style = {"style": "dashed", "color": REMOVED_COLOR} if dead else {}
        if path:
            parent = "y0" if len(path) == 1 else "f" + "_".join(map(str, path[:-1]))
            g.edge(parent, node, **style)
        g.edge(node, "sum", **style)
    return g.source


def plain_dot(blocks: int, removed=()) -> str:
    """The plain network's single path y_0 -> f_1 -> ... -> f_N, broken at a removed block."""
    n = check_blocks(blocks, MAX_GRAPH_BLOCKS)
    gone = check_removed(n, removed)
    g = graphviz.Digraph("plain", graph_attr={"rankdir": "LR", "bgcolor": "transparent", "fontname": "Helvetica"},
                         node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                    "fontsize": "11", "fillcolor": PATH_COLORS[3]},
                         edge_attr={"arrowsize": "0.5", "color": "#495057"})
    g.node("y0", f"y{'0'.translate(SUB)}", shape="oval", fillcolor="white")
    alive = 0 if gone else 1
    g.node("out", f"y{str(n).translate(SUB)}\n{alive} of 1 path", shape="oval", fillcolor="white")
    previous = "y0"
    for i in range(1, n + 1):
        if i in gone:
            g.node(f"f{i}", f"{_f(i)} ✕", fillcolor="#ffe3e3", color="#e03131", fontcolor="#e03131",
                   style="rounded,filled,dashed")
            g.edge(previous, f"f{i}", style="dashed", color="#e03131")
        else:
            g.node(f"f{i}", _f(i))
            g.edge(previous, f"f{i}", **({"style": "dashed", "color": "#e03131"} if i - 1 in gone else {}))
        previous = f"f{i}"
    g.edge(previous, "out", **({"style": "dashed", "color": "#e03131"} if n in gone else {}))
    return g.source


# -- python -m explorer paths N ----------------------------------------------------------------------------
def cmd_paths(args) -> int:
    import json

    result = summary(args.blocks)
    if args.json:
        print(json.dumps(result))
        return 0
    n, total = result["blocks"], result["paths"]
    print(f"{n} residual blocks: 2^{n} = {total:,} paths (about {float(total):.3g})")
    print(f"path length ~ Binomial({n}, 1/2): mean {result['mean']:g}, standard deviation {result['std']:.4g}")
    width = len(f"{max(result['distribution']):,}")
    for k, count in enumerate(result["distribution"]):
        print(f"  length {k:>{len(str(n))}}: {count:>{width},} path{'s' if count != 1 else ' '} ({count / total:.4%})"
              if n <= 60 else f"  length {k}: {count} paths")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("paths", help="paths through an unravelled residual network and their length distribution")
    p.add_argument("blocks", help=f"number of residual blocks N (1..{MAX_BLOCKS}; ResNet-110 has 54)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_paths)
