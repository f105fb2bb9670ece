"""ResNet: y = f(x) + x, the blocks of the configured network and the 2^N paths they unravel into."""

import streamlit as st

FAMILY = "resnet"


def render(selection, analysis) -> None:
    adds = [r for r in analysis.rows if r.type == "(+) add"]
    n = len(adds)
    projections = sum(1 for r in analysis.rows if r.name.endswith("downsample.0"))
    zero_pads = sum(1 for r in analysis.rows if r.type == "ShortcutA")
    st.latex(r"y_n = f_n(y_{n-1}) + y_{n-1}")
    st.markdown(
        f"This network has **{n} residual blocks** (the (+) nodes of its graph): unravelled, "
        f"**2^{n} = {2**n:,} paths** lead from input to output, of lengths 0 to {n}. "
        f"Where a block changes the shape, its skip is "
        + (f"a 1x1 projection (option B, {projections} blocks)" if projections else "")
        + (" and " if projections and zero_pads else "")
        + (f"an identity with zero-padded channels (option A, {zero_pads} blocks, no parameters)" if zero_pads else "")
        + "."
    )
    per_stage = {}
    for r in adds:
        stage = r.name.split(".")[0]
        per_stage[stage] = per_stage.get(stage, 0) + 1
    st.dataframe(
        [
            {
                "stage": s,
                "residual blocks": c,
                "output": "×".join(map(str, next(r.output_shape for r in adds if r.name.startswith(s + ".")))),
            }
            for s, c in per_stage.items()
        ],
        hide_index=True,
    )
