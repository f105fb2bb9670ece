"""MobileNetV2's idea: the inverted residual block with a linear bottleneck, stage by stage."""

from __future__ import annotations

import streamlit as st

from explorer.families.mobilenet_v2 import stage_table
from ui import graphs

FAMILY = "mobilenet_v2"


def render(selection, analysis) -> None:
    stages = stage_table(analysis)
    st.markdown(
        "An **inverted residual** block: a 1x1 convolution **expands** the thin input *t* times (ReLU6), a 3x3 "
        "**depthwise** convolution filters each expanded channel (ReLU6, stride *s* in the first block of a "
        "stage), and a 1x1 convolution **projects** back to a thin output with **no** activation (the linear "
        "bottleneck: a ReLU would destroy information in so few channels). When the stride is 1 and the "
        "channels match, a shortcut **adds** the input: it joins the thin ends, not the wide middle as in ResNet."
    )
    blocks = [r.name.rsplit(".", 2)[0] for r in analysis.rows if r.name.endswith("project.conv")]
    default = next((b for b in blocks if b.endswith(".2")), blocks[0])
    block = st.selectbox("Block", blocks, index=blocks.index(default), key="mobilenet_v2.idea.block")
    left, right = st.columns([2, 3])
    with left:
        st.graphviz_chart(graphs.mobilenet_v2_block(analysis, block))
    with right:
        stage = next(s for s in stages if s["stage"] == block.split(".")[0])
        params = sum(r.params for r in analysis.rows if r.name.startswith(block + "."))
        madds = sum(r.mult_adds for r in analysis.rows if r.name.startswith(block + "."))
        st.metric("Parameters of this block", f"{params:,}")
        st.metric("Multiply-adds of this block", f"{madds:,}")
        outputs = stage["output (k')"]
        st.caption(
            f"Stage {stage['stage']} is Table 2's row t={stage['t']}, c={stage['c (paper)']}, "
            f"n={stage['n']}, s={stage['s']}: with width multiplier {analysis.knobs['width_mult']:g} its "
            f"blocks output {outputs} channels."
        )
    st.markdown("**Table 2 as built** (channels read from the analysed model):")
    st.dataframe(
        stages,
        hide_index=True,
        key="mobilenet_v2.idea.stages",
        column_config={
            "params": st.column_config.NumberColumn(format="localized"),
            "mult-adds": st.column_config.NumberColumn(format="localized"),
        },
    )
