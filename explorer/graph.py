"""The layer graph as DOT: the real dataflow of the trace, foldable by depth.

Residual additions are drawn as a (+) node and concatenations as a (C) node, as the lecture draws
them. At depth d every module deeper than d is folded into its ancestor at depth d; consecutive
sibling blocks of the same structure fold into one node labelled with the repeat count (x18), so
ResNet-1202 stays a readable picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import graphviz

from .analysis.rows import OP_TITLE, Analysis, memoised

COLORS = {
    "conv": "#cfe2ff",
    "pool": "#ffe5b4",
    "linear": "#d1f2d9",
    "norm": "#e9ecef",
    "act": "#fff8c5",
    "dropout": "#f1f3f5",
    "reshape": "#f1f3f5",
    "merge": "#ffffff",
    "op": "#f8f9fa",
    "other": "#f3e8ff",
    "group": "#e5dbff",
    "io": "#ffffff",
}
STATE_COLORS = {"frozen": "#ced4da", "trainable": "#ffc9c9", "head": "#b2f2bb", "removed": "#ffffff"}
MERGE_GLYPH = {"add": "+", "cat": "C", "mean": "J", "mul": "×", "stack": "S"}
INPUT, OUTPUT = "input", "output"


@dataclass
class Node:
    id: str
    label: str
    kind: str
    rows: list = field(default_factory=list)  # the analysis rows folded into this node
    repeat: int = 1


@dataclass
class Layout:
    nodes: list
    edges: list  # (from id, to id)
    depth: int


def max_depth(analysis: Analysis) -> int:
    return memoised(
        analysis, ("max_depth",), lambda: max((r.depth for r in analysis.rows if r.kind != "unused"), default=1)
    )


def _path(row) -> tuple:
    return tuple(row.name.split("."))


def _shape(shape) -> str:
    return "×".join(str(s) for s in shape) if shape else "?"


def layout(analysis: Analysis, depth: int | None = None, fold: bool = True) -> Layout:
    """layout_of, once per analysis, depth and fold for the whole server (treat the result as read-only)."""
    depth = max_depth(analysis) if depth is None else max(1, depth)
    return memoised(analysis, ("layout", depth, bool(fold)), lambda: layout_of(analysis, depth, fold))


def layout_of(analysis: Analysis, depth: int, fold: bool = True) -> Layout:
    """The nodes and edges drawn at `depth` (None: everything), before any DOT is written.

    Rows deeper than `depth` fold into their ancestor at `depth`. With `fold`, a run of consecutive
    sibling blocks of the same structure is one node (xN) at any depth: when the view is deeper than
    the blocks, the first block of the run is drawn in full and the repeats stay folded.
    """
    rows = [r for r in analysis.rows if r.kind != "unused"]
    runs = _runs(rows, analysis) if fold else {}
    absorbed = _stacks_into_means(rows)
    groups: dict[tuple, list] = {}
    with_first: set = set()  # run nodes that include the run's first block
    for r in rows:
        if r.index in absorbed:
            continue
        path = _path(r)
        key = None
        for level in range(1, min(depth, len(path) - 1) + 1):
            run = runs.get(path[:level])
            if run is not None and (path[:level] != run[0] or level == depth):
                key = ("run",) + run[0]  # a repeat, or the first block when the view stops at this level
                if path[:level] == run[0]:
                    with_first.add(key)
                break
        if key is None:
            key = ("group",) + path[:depth] if len(path) > depth else ("row", r.index)
        groups.setdefault(key, []).append(r)
    node_of: dict[int, str] = {}
    nodes = [Node(INPUT, f"input\n{_shape(analysis.input_shape)}", "io")]
    for i, (key, members) in enumerate(groups.items()):
        node_id = f"n{i}"
        for r in members:
            node_of[r.index] = node_id
        run = runs[key[1:]] if key[0] == "run" else None
        names = None if run is None else run if key in with_first else run[1:]
        nodes.append(
            Node(
                node_id, _label(key, members, names, analysis), _kind(key, members), members, len(names) if names else 1
            )
        )
    for stack, mean in absorbed.items():
        node_of[stack] = node_of[mean]
    nodes.append(Node(OUTPUT, f"output\n{_shape(analysis.output_shape)}", "io"))
    edges, seen = [], set()
    for r in rows:
        for src in r.inputs:
            a = INPUT if src == -1 else node_of.get(src)
            b = node_of[r.index]
            if a is not None and a != b and (a, b) not in seen:
                seen.add((a, b))
                edges.append((a, b))
    last = node_of.get(analysis.output_row)
    if last is not None:
        edges.append((last, OUTPUT))
    return Layout(nodes, edges, depth)


def _stacks_into_means(rows) -> dict:
    """torch.stack(xs).mean(...), FractalNet's join, is one (J) node: stack row index -> mean row index."""
    consumers: dict[int, list] = {}
    for r in rows:
        for src in r.inputs:
            consumers.setdefault(src, []).append(r)
    by_index = {r.index: r for r in rows}
    absorbed = {}
    for index, users in consumers.items():
        row = by_index.get(index)
        if row is not None and row.type == "stack" and len(users) == 1 and users[0].type == OP_TITLE["mean"]:
            absorbed[index] = users[0].index
    return absorbed


def _runs(rows, analysis) -> dict:
    """Runs of consecutive sibling blocks with the same structure, each feeding the next: path -> the run's paths."""
    content: dict[tuple, list] = {}
    children: dict[tuple, list] = {}
    output: dict[tuple, tuple] = {}
    members: dict[tuple, set] = {}
    inputs: dict[tuple, set] = {}
    for r in rows:
        path = _path(r)
        for level in range(1, len(path)):
            scope = path[:level]
            if scope not in content:
                content[scope] = []
                children.setdefault(path[: level - 1], []).append(scope)
            content[scope].append((".".join(path[level:]), r.type))
            output[scope] = r.output_shape  # blocks fold only when they also produce the same shape
            members.setdefault(scope, set()).add(r.index)
            inputs.setdefault(scope, set()).update(r.inputs)
    for scope in content:
        content[scope].append(("output", output[scope]))
    runs: dict[tuple, tuple] = {}
    for siblings in children.values():
        current: list[tuple] = []
        for scope in siblings + [None]:
            # a run is a chain: each block reads the previous one (a FractalNet column's layers read joins)
            if (
                scope is not None
                and current
                and _same(current[-1], scope, content, analysis)
                and inputs[scope] & members[current[-1]]
            ):
                current.append(scope)
                continue
            if len(current) > 1:
                for member in current:
                    runs[member] = tuple(current)
            current = [scope] if scope is not None else []
    return runs


def _same(a, b, content, analysis) -> bool:
    return analysis.scopes.get(".".join(a)) == analysis.scopes.get(".".join(b)) and content[a] == content[b]


def _kind(key, members) -> str:
    return members[0].kind if key[0] == "row" else "group"


def _label(key, members, names, analysis) -> str:
    first, last = members[0], members[-1]
    if key[0] == "row":
        r = first
        if r.kind == "merge":
            return MERGE_GLYPH.get(r.name.rsplit(".", 1)[-1], r.type)
        call = f" ({r.call})" if r.call > 1 else ""
        if r.kind in ("reshape", "op"):
            return f"{r.name}{call}\n{_shape(r.output_shape)}"
        detail = ""
        if r.kernel and r.kind in ("conv", "pool") and not isinstance(r.kernel, str):
            detail = f" {r.kernel[0]}x{r.kernel[1]}/{r.stride[0]}" if r.stride else f" {r.kernel[0]}x{r.kernel[1]}"
            if r.groups and r.groups > 1:
                detail += f" g{r.groups}"
        return f"{r.name}{call}\n{r.type}{detail}\n{_shape(r.output_shape)}"
    scope = ".".join(names[0]) if names else ".".join(key[1:])
    type_name = analysis.scopes.get(scope, "block")
    params = sum(r.params for r in members)
    if names and len(names) > 1:
        title = f"{'.'.join(names[0])} … {names[-1][-1]}"
        count = f" ×{len(names)}"
    else:
        title, count = scope, ""
    return (
        f"{title}\n{type_name}{count} · {len(members)} calls · {_params(params)} params\n"
        f"{_shape(first.input_shape)} → {_shape(last.output_shape)}"
    )


def _params(n: int) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    if n >= 1e3:
        return f"{n / 1e3:.1f}k"
    return str(n)


def node_count(analysis: Analysis, depth: int | None = None, fold: bool = True) -> int:
    return len(layout(analysis, depth, fold).nodes)


def default_depth(analysis: Analysis, budget: int = 60) -> int:
    """The deepest view that draws at most `budget` nodes with folding on."""

    def deepest():
        return max((d for d in range(1, max_depth(analysis) + 1) if node_count(analysis, d, True) <= budget), default=1)

    return memoised(analysis, ("default_depth", budget), deepest)


def to_dot(
    analysis: Analysis,
    depth: int | None = None,
    fold: bool = True,
    row_states: dict | None = None,
    rankdir: str = "TB",
    row_heat: dict | None = None,
) -> str:
    """DOT source of the dataflow graph. row_states maps row index -> frozen/trainable/head/removed (colours);
    row_heat maps row index -> a non-negative amount (a measured time, multiply-adds): each node is shaded by its
    rows' sum against the largest node's, white to red. Without colours the DOT is kept with the analysis."""
    if not row_states and not row_heat:
        depth = max_depth(analysis) if depth is None else max(1, depth)
        return memoised(analysis, ("dot", depth, bool(fold), rankdir), lambda: _dot(analysis, depth, fold, rankdir))
    return _dot(analysis, depth, fold, rankdir, row_states, row_heat)


def _dot(analysis, depth, fold, rankdir, row_states=None, row_heat=None) -> str:
    lay = layout(analysis, depth, fold)
    heat = {}
    if row_heat:
        heat = {node.id: sum(row_heat.get(r.index, 0) for r in node.rows) for node in lay.nodes if node.rows}
        top = max(heat.values(), default=0) or 1
        heat = {k: v / top for k, v in heat.items()}
    g = graphviz.Digraph(
        analysis.name,
        graph_attr={
            "rankdir": rankdir,
            "nodesep": "0.25",
            "ranksep": "0.3",
            "fontname": "Helvetica",
            "bgcolor": "transparent",
        },
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fontname": "Helvetica",
            "fontsize": "10",
            "margin": "0.08,0.04",
        },
        edge_attr={"arrowsize": "0.6", "color": "#495057"},
    )
    for node in lay.nodes:
        attrs = {"fillcolor": COLORS.get(node.kind, COLORS["other"])}
        if node.kind == "merge":
            attrs.update(shape="circle", fixedsize="true", width="0.4", fontsize="14", style="filled")
        elif node.kind == "io":
            attrs.update(shape="oval", style="filled")
        elif node.kind == "group":
            attrs.update(style="rounded,filled,bold", penwidth="1.5")
        if row_states and node.rows:
            states = {row_states.get(r.index) for r in node.rows if r.params > 0} - {None}
            if len(states) == 1:
                attrs["fillcolor"] = STATE_COLORS[states.pop()]
            elif states:
                attrs["fillcolor"] = STATE_COLORS["frozen"] + ":" + STATE_COLORS["trainable"]
                attrs["gradientangle"] = "90"
        if node.id in heat:
            fade = round(255 * (1 - heat[node.id]))
            attrs["fillcolor"] = f"#ff{fade:02x}{fade:02x}"
        g.node(node.id, _escape(node.label), **attrs)
    for a, b in lay.edges:
        g.edge(a, b)
    return g.source


def _escape(label: str) -> str:
    """Record/HTML metacharacters would change the drawing: user text is shown, never interpreted."""
    text = label.replace("\\", "\\\\").replace('"', "'").replace("<", "‹").replace(">", "›")
    return text.replace("{", "(").replace("}", ")").replace("\n", "\\n")
