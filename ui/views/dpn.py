"""DPN's idea: every block adds part of its output to a residual path and concatenates the rest to a dense path."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from explorer.families.dpn import path_widths

FAMILY = "dpn"
SCALES = ("channels", "share of the block's output")


def render(selection, analysis) -> None:
    blocks = path_widths(analysis)
    if not blocks:
        st.info("This network has no dual path blocks.")
        return
    first, last = blocks[0], blocks[-1]
    st.markdown(
        "Each dual path block ends with a 1x1 convolution whose output is **split**: the first channels are "
        "**added** (+) to the residual path, which keeps its width within a stage (ResNet: features re-used); "
        "the last *inc* channels are **concatenated** (C) to the densely connected path, which grows by *inc* "
        "every block (DenseNet: new features). The next block reads both paths, concatenated. "
        f"Here the residual path holds {first['residual (added)']:,} channels in the first block and "
        f"{last['residual (added)']:,} in the last; the dense path grows from {first['dense (concatenated)']:,} "
        f"to {last['dense (concatenated)']:,}."
    )
    scale = st.radio("Show", SCALES, horizontal=True, key="dpn.idea.scale")
    names = [b["block"] for b in blocks]
    residual = [b["residual (added)"] for b in blocks]
    dense = [b["dense (concatenated)"] for b in blocks]
    if scale == SCALES[1]:
        residual = [100 * r / (r + d) for r, d in zip(residual, dense)]
        dense = [100 - r for r in residual]
    fig = go.Figure()
    fig.add_bar(name="residual path (added, +)", x=names, y=residual, marker_color="#4c6ef5")
    fig.add_bar(name="dense path (concatenated, C)", x=names, y=dense, marker_color="#f59f00")
    fig.update_layout(
        barmode="stack",
        height=380,
        margin=dict(t=30, b=10),
        xaxis_title="block",
        yaxis_title="channels" if scale == SCALES[0] else "% of the block's output channels",
        legend=dict(orientation="h", y=1.12),
    )
    st.plotly_chart(fig, key="dpn.idea.paths")
    st.caption(
        "Counted from the analysed PyTorch model: the (+) node's output is the residual path, the last (C) "
        "node's output the dense path. The first block of a stage projects its input to start both paths "
        "(2 x inc dense channels) and, from conv3 on, halves the size."
    )
    st.dataframe(blocks, hide_index=True, key="dpn.idea.table")
