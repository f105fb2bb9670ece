"""NASNet's idea: two searched cells, drawn as the paper's Figure 4, stacked into the network."""

from __future__ import annotations

import streamlit as st

from explorer.families.nasnet import OPERATIONS, cells
from ui import graphs

FAMILY = "nasnet"


def render(selection, analysis) -> None:
    table = cells(analysis)
    st.markdown(
        "The controller searched **cells**, not a network. Each cell receives two hidden states, **h_i** (the "
        "previous cell's output) and **h_{i-1}** (the one before). Each of its five blocks picks two hidden "
        "states, applies an operation to each and **adds** the results (+); the cell's output **concatenates** "
        "the block outputs no other block used. A Normal Cell keeps the size; a Reduction Cell applies its "
        "operations on h_i and h_{i-1} with stride 2 (/2). The network stacks them, N @ P."
    )
    normal = [c["cell"] for c in table if c["kind"] == "Normal Cell"]
    reduction = [c["cell"] for c in table if c["kind"] == "Reduction Cell"]
    left, right = st.columns(2)
    normal_cell = left.selectbox("Normal Cell", normal, key="nasnet.idea.normal")
    reduction_cell = right.selectbox(
        "Reduction Cell", reduction, index=min(2, len(reduction) - 1), key="nasnet.idea.reduction"
    )
    for cell in (normal_cell, reduction_cell):  # one under the other: a cell is wide, as in Figure 4
        _draw(analysis, cell, table)
    st.markdown("**Every cell of this network** (from the analysed model):")
    st.dataframe(
        table,
        hide_index=True,
        key="nasnet.idea.cells",
        column_config={
            "params": st.column_config.NumberColumn(format="localized"),
            "mult-adds": st.column_config.NumberColumn(format="localized"),
        },
    )
    share = sum(c["params"] for c in table) / analysis.totals.params
    st.caption(
        f"The cells hold {share:.0%} of the {analysis.totals.params:,} parameters; the rest are the stem "
        "convolution and the classifier."
    )
    with st.expander("The operations the controller could choose (the lecture's list; * used by NASNet-A)"):
        st.markdown("\n".join(f"- {text}" for text in OPERATIONS.values()))


def _draw(analysis, cell: str, table: list[dict]) -> None:
    st.graphviz_chart(graphs.nasnet_cell(analysis, cell))
    row = next(c for c in table if c["cell"] == cell)
    ops = sum(r.params for r in analysis.rows if r.name.startswith(f"{cell}.comb_iter_"))
    st.caption(
        f"{cell}: {row['params']:,} parameters, {row['mult-adds']:,} multiply-adds. The operations hold "
        f"{ops:,}; the other {row['params'] - ops:,} are the 1x1 convolutions (or the factorized reduction) "
        f"that bring h_i and h_(i-1) to the cell's {row['filters']} filters."
    )
