"""FractalNet's structure as data: columns, joins, drop-path samples, and the DOT drawings of the app.

Larsson, Maire & Shakhnarovich, FractalNet: Ultra-Deep Neural Networks without Residuals, ICLR 2017.
F_1(z) = conv(z), F_{C+1}(z) = [(F_C o F_C)(z)] join [conv(z)]. Unrolled, a block with C columns has
2^(C-1) depth steps; column c (1 = the shallowest, C = the deepest) holds 2^(c-1) convolutions, each
spanning 2^(C-c) steps. At step t, the columns whose convolution ends there meet in one join (the
nested joins of the recursion merge into one, as the paper's Figure 1 draws them): an element-wise
mean of its inputs.

Drop-path (Section 3.1) drops inputs of the joins while training:
  local:  each join drops each input with probability p, keeping at least one;
  global: one column is chosen for the whole network and every join follows it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import graphviz

from .errors import KnobError

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
    return (2 ** columns - 1) * blocks


def check_structure(columns: int, blocks: int) -> None:
    if columns < 1:
        raise KnobError(f"FractalNet needs at least one column (C = 1 is a plain chain of convolutions); got C = "
                        f"{columns}.")
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
        return sum(len(cols) - len(self.kept_at(b, t)) for b in range(1, self.blocks + 1)
                   for t, cols in joins(self.columns))


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


# -- drawings ---------------------------------------------------------------------------------------------

KEPT, DROPPED, IDLE = "#1c7ed6", "#ced4da", "#f1f3f5"


def block_dot(columns: int, sample: DropPath | None = None, block: int = 1, title: str = "") -> str:
    """One fractal block as DOT: columns left to right (1 the shallowest), convolutions as boxes, joins as (J).

    With a sample, kept paths are drawn solid and blue, dropped join inputs dashed and grey (ending in a
    bar), and the convolutions that no surviving path uses are greyed out.
    """
    active = sample.active_convs() if sample is not None else None
    g = graphviz.Digraph(f"fractal{columns}", graph_attr={
        "rankdir": "TB", "nodesep": "0.18", "ranksep": "0.16", "bgcolor": "transparent", "fontname": "Helvetica",
        "label": title, "labelloc": "t", "fontsize": "11", "newrank": "true"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica", "fontsize": "9",
                   "width": "0.5", "height": "0.25", "margin": "0.04,0.02", "fillcolor": "#cfe2ff"},
        edge_attr={"arrowsize": "0.5", "color": "#495057"})
    g.node("in", "z", shape="oval", fillcolor="#ffffff")
    convs = sorted(((layer - 1) * span(columns, c), c, layer) for c in range(1, columns + 1)
                   for layer in range(1, convs_in_column(c) + 1))
    on = {}
    for start in sorted({s for s, _, _ in convs}):  # declared in column order, same start step side by side
        with g.subgraph() as row:
            row.attr(rank="same")
            for s, c, layer in convs:
                if s != start:
                    continue
                node = f"c{c}_{layer}"
                on[node] = active is None or (block, c, layer) in active
                idle = {"fillcolor": IDLE, "fontcolor": "#adb5bd", "style": "rounded,filled,dashed"}
                row.node(node, "conv", **({} if on[node] else idle))
    source = {c: ("in", True) for c in range(1, columns + 1)}  # what feeds each column's next convolution
    for t in range(1, steps(columns) + 1):
        ends = ending_at(columns, t)
        kept = sample.kept_at(block, t) if sample is not None else ends
        outputs = []
        for c in ends:
            node = f"c{c}_{t // span(columns, c)}"
            feeder, alive = source[c]
            g.edge(feeder, node, **_edge(sample, on[node] and alive))
            outputs.append((node, on[node] and c in kept, c in kept))
        if len(ends) > 1:
            join = f"j{t}"
            used = any(use for _, use, _ in outputs)
            g.node(join, "J", shape="circle", fixedsize="true", width="0.32", fontsize="11",
                   **({"fillcolor": "#ffffff"} if used else {"fillcolor": IDLE, "fontcolor": "#adb5bd"}))
            for node, use, k in outputs:
                attrs = _edge(sample, use)
                if sample is not None and not k:
                    attrs = {"style": "dashed", "color": DROPPED, "arrowhead": "tee"}
                g.edge(node, join, **attrs)
            merged = (join, used)
        else:
            merged = (outputs[0][0], outputs[0][1])
        for c in ends:
            source[c] = merged
    g.node("out", "F(z)", shape="oval", fillcolor="#ffffff")
    g.edge(source[columns][0], "out", **_edge(sample, source[columns][1]))
    return g.source


def _edge(sample, kept: bool) -> dict:
    if sample is None:
        return {}
    return {"color": KEPT, "penwidth": "2"} if kept else {"color": DROPPED, "style": "dashed"}
