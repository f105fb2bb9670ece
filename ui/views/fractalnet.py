"""FractalNet's "The idea" tab: the expansion rule, drop-path samples, and the deepest column as a plain network."""

from __future__ import annotations

import streamlit as st

from explorer import analyze
from explorer.analysis.compare import longest_weight_path
from explorer.analysis.report import human
from explorer.errors import ExplorerError
from explorer.families.fractalnet import (
    DEFAULT_P,
    GLOBAL,
    LOCAL,
    conv_count,
    conv_depth,
    joins,
    sample_drop_path,
)
from ui import graphs, sidebar
from ui.notices import show_error

FAMILY = "fractalnet"
SEED, COLUMN_KNOB = "fractalnet.seed", "fractalnet.column"


def render(selection, analysis) -> None:
    k = analysis.resolved
    expansion_rule()
    st.divider()
    drop_path(analysis, k["columns"], k["blocks"])
    st.divider()
    deepest_column(selection, analysis, k["columns"], k["blocks"])


def expansion_rule() -> None:
    st.subheader("The expansion rule")
    st.latex(
        r"f_1(z) = \mathrm{conv}(z), \qquad "
        r"f_{C+1}(z) = \big[(f_C \circ f_C)(z)\big] \oplus \big[\mathrm{conv}(z)\big]"
    )
    st.caption(
        "⊕ is a join (J): the element-wise mean of its inputs. Each step doubles the deepest path and adds "
        "a column; nested joins merge into one, as the paper's Figure 1 draws them. Columns from left "
        "(one convolution) to right (the deepest)."
    )
    for c, col in zip(range(1, 5), st.columns(4)):
        col.graphviz_chart(graphs.fractal_block(c, title=f"C = {c}: {2 ** (c - 1)} deep, {2**c - 1} convs"))


def _next_sample() -> None:
    st.session_state[SEED] = st.session_state.get(SEED, 0) + 1


def drop_path(analysis, columns: int, blocks: int) -> None:
    st.subheader("Drop-path")
    st.caption(
        "While training, joins drop inputs: local drop-path drops each input of a join with probability p "
        "and keeps at least one; global drop-path keeps one column for the whole network. Blue paths "
        "survive, grey dashed ones are dropped (a bar marks a dropped join input)."
    )
    top = st.columns([2, 2, 1, 1])
    p = top[0].slider(
        "Drop probability p (local)",
        0.0,
        1.0,
        DEFAULT_P,
        0.05,
        key="fractalnet.p",
        help=f"The paper uses {DEFAULT_P:.0%} (Section 4).",
    )
    block = top[1].slider("Block to draw", 1, blocks, 1, key="fractalnet.block") if blocks > 1 else 1
    top[2].button(
        "Sample",
        key="fractalnet.sample",
        on_click=_next_sample,
        icon=":material/casino:",
        help="Draw a new sample (the seed goes up by one).",
    )
    seed = st.session_state.get(SEED, 0)
    top[3].metric("Seed", seed)
    try:
        local = sample_drop_path(columns, blocks, LOCAL, seed, p)
        glob = sample_drop_path(columns, blocks, GLOBAL, seed, p)
    except ExplorerError as e:
        show_error(e)
        return
    names = {r.name: r for r in analysis.rows}
    total = sum(r.params for r in analysis.rows)
    left, right = st.columns(2)
    for col, sample, title in ((left, local, f"Local, p = {p:g}"), (right, glob, f"Global: column {glob.column}")):
        active = sample.active_convs()
        used = sum(
            r.params
            for n, r in names.items()
            if n.startswith("fc") or any(n.startswith(f"block{b}.col{c}.layer{i}.") for b, c, i in active)
        )
        col.graphviz_chart(graphs.fractal_block(columns, sample, block, f"{title} (block {block})"))
        col.caption(
            f"{len(active)} of {conv_count(columns, blocks)} convolutions run, "
            f"{sample.dropped_inputs()} of {sum(len(cols) for _, cols in joins(columns)) * blocks} join "
            f"inputs dropped; the sampled network uses {used:,} of {total:,} parameters "
            f"({used / total:.0%})."
        )


def _keep_column(column: int) -> None:
    sidebar.set_knob("fractalnet", COLUMN_KNOB.partition(".")[2], column)


def deepest_column(selection, analysis, columns: int, blocks: int) -> None:
    st.subheader("The deepest column, extracted")
    knobs = {**selection.knobs, "column": None}
    try:
        whole = analyze(selection.name, selection.input_shape, **knobs)
        deepest = analyze(selection.name, selection.input_shape, **{**knobs, "column": columns})
    except ExplorerError as e:
        show_error(e)
        return
    rows = [
        {
            "network": name,
            "conv layers on the longest path": longest_weight_path(a) - 1,
            "convolutions": sum(r.kind == "conv" for r in a.rows),
            "parameters": a.totals.params,
            "multiply-adds": human(a.totals.mult_adds),
            "weights (fp32)": f"{a.totals.param_mb:,.1f} MB",
        }
        for name, a in ((f"whole fractal (C = {columns})", whole), (f"column {columns} alone", deepest))
    ]
    st.dataframe(
        rows,
        hide_index=True,
        key="fractalnet.deepest",
        column_config={"parameters": st.column_config.NumberColumn(format="localized")},
    )
    share = deepest.totals.params / whole.totals.params
    st.markdown(
        f"The deepest column is a plain chain of {conv_depth(columns, blocks)} convolutions "
        f"(2^(C-1) · B = {2 ** (columns - 1)} · {blocks}), as deep as the whole fractal, with {share:.0%} of its "
        f"parameters. After training with global drop-path the paper tests this column alone and finds it nearly "
        f"as accurate as the whole network: the fractal's value lies in training, when the short paths let the "
        f"deep one learn. Both are built by the same builder ('keep only column'), so the column has the "
        f"fractal's own layer names and takes its trained weights (explorer.families.fractalnet.extract_column)."
    )
    if analysis.resolved.get("column") is None:
        st.button(
            f"Explore column {columns} alone",
            key="fractalnet.keep",
            on_click=_keep_column,
            args=(columns,),
            help="Sets the sidebar's 'keep only column' knob: the graph and the table show the plain network.",
        )
