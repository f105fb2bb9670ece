"""DenseNet: the channels entering each layer, k0 + k (n - 1), against what the traced model concatenates."""

import streamlit as st

from explorer.families.densenet import block_channels

FAMILY = "densenet"


def render(selection, analysis) -> None:
    k = analysis.resolved["growth_rate"]
    st.markdown(
        f"Layer *n* of a dense block receives the concatenation $[y_0, y_1, \\dots, y_{{n-1}}]$: "
        f"$k_0 + k(n-1)$ channels, with growth rate $k = {k}$ and $k_0$ the channels entering the block. "
        "Each row below is read off the traced PyTorch model's `torch.cat`."
    )
    rows = block_channels(analysis)
    st.dataframe(rows, hide_index=True, height=320)
    transitions = [r for r in analysis.rows if r.name.endswith(".conv") and ".transition" in r.name]
    if transitions:
        theta = analysis.resolved["compression"]
        st.markdown(
            "Transition layers compress $m$ maps to $\\lfloor\\theta m\\rfloor$ with "
            f"$\\theta = {theta}$: " + ", ".join(f"{t.input_shape[0]} → {t.output_shape[0]}" for t in transitions) + "."
        )
