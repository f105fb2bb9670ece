"""Every Graphviz drawing of the app: the layer graph on screen (zoom, fold, colour) and the families' own pictures.

The engine gives the data (explorer.graph: the layer graph's nodes, edges and DOT; the families: Inception
widths, fractal joins, drop-path samples, residual paths, NASNet genotypes); this module draws them.
"""

from __future__ import annotations

import functools
import shutil

import graphviz
import streamlit as st

from explorer.analysis.report import to_csv
from explorer.analysis.rows import memoised
from explorer.families.fractalnet import DropPath, convs_in_column, ending_at, span, steps
from explorer.families.nasnet import H_I, H_PREV, OP_TITLES, Genotype, cell_notes
from explorer.families.resnet_paths import MAX_GRAPH_BLOCKS, check_blocks, check_removed
from explorer.graph import default_depth, max_depth, node_count, to_dot
from ui import presenter, zoom
from ui.profile import section

LARGE_GRAPH = 300  # nodes: beyond this the browser takes seconds to lay the graph out


# -- the layer graph of Explore (and of the transfer-learning cut) -----------------------------------------------------


def graph(analysis, key: str, row_states: dict | None = None, row_heat: dict | None = None) -> None:
    """row_heat: row index -> amount (measured time): nodes shaded white to red by it (explorer.graph.to_dot).

    Not a st.fragment: a fragment's rerun reached the screen later than the whole page's (graph direction,
    VGG-16, p50 in Chromium: 293 ms as a fragment, 134 ms without; benchmarks/bench_browser.py), and the
    page's rerun costs the server 10-40 ms. The drawing is Graphviz's SVG made on the server (to_svg, once per
    graph for the whole server) and shown as an image: st.graphviz_chart lays the DOT out again in the browser
    on every rerun, which took Chromium 0.6-1.4 s for VGG-16 and DenseNet-121 (benchmarks/bench_browser.py:
    685 -> 154 ms p50 for an input change)."""
    deepest = max_depth(analysis)
    c1, c2, c3 = st.columns([3, 1, 1])
    depth = (
        c1.slider(
            "Graph depth (1: stages folded, max: every layer)",
            1,
            deepest,
            value=zoom.fitting_depth(analysis) if presenter.presenting() else default_depth(analysis),
            key=f"{key}.depth",
        )
        if deepest > 1
        else 1
    )
    fold = c2.toggle(
        "Fold repeated blocks",
        value=True,
        key=f"{key}.fold",
        help="Consecutive blocks of the same structure are drawn once, labelled ×N.",
    )
    sideways = c3.toggle("Left to right", value=False, key=f"{key}.lr")
    zoomable = presenter.presenting() or c3.toggle(
        "Zoom view", key=f"{key}.zoom", help="Zoom, pan, find a layer, colour by a measure (on in presenter mode)."
    )
    count = node_count(analysis, depth, fold)
    if count > LARGE_GRAPH and not st.session_state.get(f"{key}.force"):
        st.warning(
            f"This view would draw {count:,} nodes, which takes your browser a long time. "
            "Lower the depth or fold repeated blocks, or draw it anyway."
        )
        st.button(f"Draw all {count:,} nodes", key=f"{key}.force")
        dot = None
    else:
        with section("dot"):
            dot = to_dot(analysis, depth, fold, row_states, "LR" if sideways else "TB", row_heat)
        st.caption(f"{count:,} nodes. (+): residual addition; (C): concatenation.")
        if zoomable and has_dot():  # zoom, pan, search and colour (ui/zoom.py)
            height = 560 if presenter.presenting() else 620
            zoom.show(to_svg(dot), zoom.node_measures(analysis, depth, fold), key, height)
        else:
            with section("svg"):
                draw(dot, analysis)
    with section("downloads"):
        downloads(analysis, dot, key)


def downloads(analysis, dot, key: str) -> None:
    cols = st.columns(3)
    cols[0].download_button(
        "Table (CSV)", lambda: to_csv(analysis), f"{analysis.name}.csv", "text/csv", key=f"{key}.csv"
    )
    if dot is not None:
        cols[1].download_button("Graph (DOT)", dot, f"{analysis.name}.dot", "text/vnd.graphviz", key=f"{key}.dot")
        if has_dot():
            cols[2].download_button(
                "Graph (SVG)", lambda: to_svg(dot), f"{analysis.name}.svg", "image/svg+xml", key=f"{key}.svg"
            )


def draw(dot: str, analysis=None) -> None:
    """A DOT drawing on the page: the server's SVG as an image (see graph()), or, without Graphviz's `dot`
    binary, st.graphviz_chart (the browser lays it out). An image, not inline SVG: st.html's sanitiser drops
    the SVG, and st.markdown's inline SVG cost the browser 240 ms more per redraw (graph direction, VGG-16:
    372 ms p50 as Markdown, 131 ms as an image). The image keeps the fullscreen button; to find a layer by its
    name, the zoom view has a search box."""
    if has_dot():
        # with its analysis, the text is kept beside it: no hashing or copying of a large string per rerun
        svg = memoised(analysis, ("svg", dot), lambda: to_svg(dot).decode()) if analysis else to_svg(dot).decode()
        st.image(svg, alt="Layer graph")
    else:
        st.graphviz_chart(dot)


@functools.cache
def has_dot() -> bool:
    """Graphviz's `dot` on the PATH, looked up once per process (shutil.which searches the PATH on every call:
    2-3% of the server's time with thirty students, py-spy)."""
    return shutil.which("dot") is not None


@st.cache_data(max_entries=256, show_spinner=False)
def to_svg(dot_source: str) -> bytes:
    """SVG drawn by Graphviz's `dot` binary (check has_dot() first), once per graph for the whole server:
    `dot` takes 0.1-1 s on the large networks, and thirty students on one network ask for the same picture."""
    return graphviz.Source(dot_source).pipe(format="svg")


def _shape_text(shape) -> str:
    return "×".join(str(s) for s in shape)


# -- GoogLeNet: one Inception module (Figure 2) ------------------------------------------------------------------------


def inception_module(
    in_channels: int, widths, side: int | None = None, title: str = "", kernel5: int = 5, reductions: bool = True
) -> str:
    """DOT of one Inception module: the four branches with their widths, and the concatenation (C)."""
    n1, n3r, n3, n5r, n5, proj = widths
    hw = f"×{side}×{side}" if side else ""
    g = graphviz.Digraph(
        "inception",
        graph_attr={
            "rankdir": "TB",
            "nodesep": "0.3",
            "ranksep": "0.35",
            "bgcolor": "transparent",
            "fontname": "Helvetica",
        },
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fontname": "Helvetica",
            "fontsize": "10",
            "fillcolor": "#cfe2ff",
        },
        edge_attr={"arrowsize": "0.6", "color": "#495057", "fontname": "Helvetica", "fontsize": "9"},
    )
    g.node("in", f"{title or 'previous layer'}\\n{in_channels}{hw}", shape="oval", fillcolor="#ffffff")
    k = f"{kernel5}x{kernel5}"
    if reductions:
        branches = [
            [("b1", f"1x1 conv\\n{n1}")],
            [("b2r", f"1x1 conv (#3x3 reduce)\\n{n3r}"), ("b2", f"3x3 conv\\n{n3}")],
            [("b3r", f"1x1 conv (#5x5 reduce)\\n{n5r}"), ("b3", f"{k} conv\\n{n5}")],
            [("b4p", f"3x3 max pool\\n{in_channels}"), ("b4", f"1x1 conv (pool proj)\\n{proj}")],
        ]
        out = n1 + n3 + n5 + proj
    else:
        branches = [
            [("b1", f"1x1 conv\\n{n1}")],
            [("b2", f"3x3 conv\\n{n3}")],
            [("b3", f"{k} conv\\n{n5}")],
            [("b4p", f"3x3 max pool\\n{in_channels}")],
        ]
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


# -- FractalNet: one block, and a drop-path sample ---------------------------------------------------------------------

KEPT, DROPPED, IDLE = "#1c7ed6", "#ced4da", "#f1f3f5"


def fractal_block(columns: int, sample: DropPath | None = None, block: int = 1, title: str = "") -> str:
    """One fractal block as DOT: columns left to right (1 the shallowest), convolutions as boxes, joins as (J).

    With a sample, kept paths are drawn solid and blue, dropped join inputs dashed and grey (ending in a
    bar), and the convolutions that no surviving path uses are greyed out.
    """
    active = sample.active_convs() if sample is not None else None
    g = graphviz.Digraph(
        f"fractal{columns}",
        graph_attr={
            "rankdir": "TB",
            "nodesep": "0.18",
            "ranksep": "0.16",
            "bgcolor": "transparent",
            "fontname": "Helvetica",
            "label": title,
            "labelloc": "t",
            "fontsize": "11",
            "newrank": "true",
        },
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fontname": "Helvetica",
            "fontsize": "9",
            "width": "0.5",
            "height": "0.25",
            "margin": "0.04,0.02",
            "fillcolor": "#cfe2ff",
        },
        edge_attr={"arrowsize": "0.5", "color": "#495057"},
    )
    g.node("in", "z", shape="oval", fillcolor="#ffffff")
    convs = sorted(
        ((layer - 1) * span(columns, c), c, layer)
        for c in range(1, columns + 1)
        for layer in range(1, convs_in_column(c) + 1)
    )
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
            g.node(
                join,
                "J",
                shape="circle",
                fixedsize="true",
                width="0.32",
                fontsize="11",
                **({"fillcolor": "#ffffff"} if used else {"fillcolor": IDLE, "fontcolor": "#adb5bd"}),
            )
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


# -- Residual paths: the unravelled graph (Veit et al., Fig. 1b) and the plain chain -----------------------------------
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
    g = graphviz.Digraph(
        "unravelled",
        graph_attr={
            "rankdir": "LR",
            "nodesep": "0.08",
            "ranksep": "0.45",
            "bgcolor": "transparent",
            "fontname": "Helvetica",
        },
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fontname": "Helvetica",
            "fontsize": "11",
            "width": "0.35",
            "height": "0.25",
            "margin": "0.04,0.02",
        },
        edge_attr={"arrowsize": "0.5", "color": "#495057"},
    )
    g.node("y0", f"y{'0'.translate(SUB)}", shape="oval", fillcolor="white")
    out = f"y{str(n).translate(SUB)}"
    alive = 2 ** (n - len(gone))
    g.node("sum", "+", shape="circle", fillcolor="white", fixedsize="true", width="0.35", fontsize="14")
    g.node("out", f"{out}\n{alive} of {2**n} paths", shape="oval", fillcolor="white", fontsize="10")
    g.edge("sum", "out")
    prefixes = [()]  # tuples of blocks taken, in order; grows block by block
    for i in range(1, n + 1):
        with g.subgraph() as column:  # every copy of f_i in one column, as in Veit et al.'s figure
            column.attr(rank="same")
            for prefix in [p for p in prefixes]:
                path = prefix + (i,)
                node = "f" + "_".join(map(str, path))
                dead = bool(gone & set(path))
                column.node(
                    node,
                    _f(i),
                    fillcolor=REMOVED_COLOR if dead else PATH_COLORS[min(len(path), 5)],
                    **({"style": "rounded,dashed", "fontcolor": REMOVED_COLOR, "color": REMOVED_COLOR} if dead else {}),
                    tooltip="path through " + " → ".join(_f(b) for b in path),
                )
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
    g = graphviz.Digraph(
        "plain",
        graph_attr={"rankdir": "LR", "bgcolor": "transparent", "fontname": "Helvetica"},
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fontname": "Helvetica",
            "fontsize": "11",
            "fillcolor": PATH_COLORS[3],
        },
        edge_attr={"arrowsize": "0.5", "color": "#495057"},
    )
    g.node("y0", f"y{'0'.translate(SUB)}", shape="oval", fillcolor="white")
    alive = 0 if gone else 1
    g.node("out", f"y{str(n).translate(SUB)}\n{alive} of 1 path", shape="oval", fillcolor="white")
    previous = "y0"
    for i in range(1, n + 1):
        if i in gone:
            g.node(
                f"f{i}",
                f"{_f(i)} ✕",
                fillcolor="#ffe3e3",
                color="#e03131",
                fontcolor="#e03131",
                style="rounded,filled,dashed",
            )
            g.edge(previous, f"f{i}", style="dashed", color="#e03131")
        else:
            g.node(f"f{i}", _f(i))
            g.edge(previous, f"f{i}", **({"style": "dashed", "color": "#e03131"} if i - 1 in gone else {}))
        previous = f"f{i}"
    g.edge(previous, "out", **({"style": "dashed", "color": "#e03131"} if n in gone else {}))
    return g.source


# -- MobileNetV2: one inverted residual block (Figure 3b) --------------------------------------------------------------


def mobilenet_v2_block(analysis, block: str) -> str:
    """One inverted residual block as the paper's Figure 3(b) draws it, with the channels PyTorch built."""
    rows = [r for r in analysis.rows if r.name.startswith(block + ".")]
    if not rows:
        raise KeyError(block)
    g = graphviz.Digraph(
        block,
        graph_attr={"rankdir": "TB", "bgcolor": "transparent", "nodesep": "0.3"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica", "fontsize": "11"},
    )
    first = rows[0]
    g.node("in", f"input\n{_shape_text(first.input_shape)}", shape="oval", fillcolor="#ffffff")
    previous = "in"
    for part, title, colour in (
        ("expand", "1x1 conv, ReLU6 (expand)", "#cfe2ff"),
        ("depthwise", "3x3 depthwise conv, ReLU6", "#d1f2d9"),
        ("project", "1x1 conv, linear (project)", "#ffe5b4"),
    ):
        conv = next((r for r in rows if r.name == f"{block}.{part}.conv"), None)
        if conv is None:
            continue
        stride = f", stride {conv.stride[0]}" if conv.stride and conv.stride[0] > 1 else ""
        params = sum(r.params for r in rows if r.name.startswith(f"{block}.{part}."))
        g.node(
            part,
            f"{title}{stride}\n{_shape_text(conv.input_shape)} → {_shape_text(conv.output_shape)}\n{params:,} params",
            fillcolor=colour,
        )
        g.edge(previous, part)
        previous = part
    add = next((r for r in rows if r.type == "(+) add"), None)
    if add is not None:
        g.node("add", "+", shape="circle", fixedsize="true", width="0.4", fillcolor="#ffffff")
        g.edge(previous, "add")
        g.edge("in", "add", style="dashed", label=" shortcut")
        previous = "add"
    g.node("out", f"output\n{_shape_text(rows[-1].output_shape)}", shape="oval", fillcolor="#ffffff")
    g.edge(previous, "out")
    return g.source


# -- NASNet-A: a cell (Figure 4) ---------------------------------------------------------------------------------------


def cell_dot(genotype: Genotype, title: str = "", op_notes: dict | None = None, state_notes: dict | None = None) -> str:
    """A cell as the paper's Figure 4 draws it: hidden states, one box per operation, (+) per block, concat.

    op_notes: extra text per operation ("comb_iter_0_left": "2,904 params"); state_notes: per hidden state.
    """
    op_notes, state_notes = op_notes or {}, state_notes or {}
    g = graphviz.Digraph(
        genotype.name.replace(" ", "_"),
        graph_attr={
            "rankdir": "BT",
            "bgcolor": "transparent",
            "nodesep": "0.2",
            "ranksep": "0.35",
            "label": title,
            "labelloc": "t",
            "fontname": "Helvetica",
        },
        node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "rounded,filled", "shape": "box"},
    )
    with g.subgraph() as inputs:
        inputs.attr(rank="same")
        for state in (H_PREV, H_I):
            label = state.replace("h_i-1", "h_{i-1}") + (f"\n{state_notes[state]}" if state in state_notes else "")
            inputs.node(state, label, fillcolor="#e9ecef")
    for k, pair in enumerate(genotype.blocks):
        add = f"add{k}"
        g.node(add, "+", shape="circle", fixedsize="true", width="0.35", fillcolor="#ffffff")
        for side, (source, op) in zip(("left", "right"), pair):
            key = f"comb_iter_{k}_{side}"
            strided = genotype.reduction and source in (H_I, H_PREV)
            label = OP_TITLES[op] + (" /2" if strided else "") + (f"\n{op_notes[key]}" if key in op_notes else "")
            g.node(key, label, fillcolor=_op_colour(op))
            g.edge(_state_node(source), key)
            g.edge(key, add)
    g.node("concat", "concat", fillcolor="#fff3bf")
    for state in genotype.concat:
        g.edge(_state_node(state), "concat")
    g.node("out", "h_{i+1}" + (f"\n{state_notes['out']}" if "out" in state_notes else ""), fillcolor="#e9ecef")
    g.edge("concat", "out")
    return g.source


def nasnet_cell(analysis, cell: str) -> str:
    """Cell `cell` of the analysed network drawn as its genotype, with its shapes and each operation's parameters."""
    return cell_dot(*cell_notes(analysis, cell))


def _state_node(state: str) -> str:
    return f"add{state.split()[1]}" if state.startswith("block") else state


def _op_colour(op: str) -> str:
    return "#cfe2ff" if op.startswith("sep") else "#ffe5b4" if "pool" in op else "#f1f3f5"
