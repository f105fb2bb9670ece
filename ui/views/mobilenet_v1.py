"""MobileNet's idea: depthwise separable convolutions, and the width and resolution multipliers."""

from __future__ import annotations

import streamlit as st
from plotly.subplots import make_subplots

from explorer.analysis.report import human
from explorer.errors import ExplorerError
from explorer.families.mobilenet_v1 import cost_by_layer_type, layer_cost, width_resolution_grid
from explorer.reference import (
    MOBILENET_V1_TABLE_2,
    MOBILENET_V1_TABLE_2_CONV_3X3_CORRECTED,
    MOBILENET_V1_TABLE_6,
    MOBILENET_V1_TABLE_7,
)
from ui.notices import show_error

FAMILY = "mobilenet_v1"
ALPHAS = (0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)
RESOLUTIONS = (128, 160, 192, 224)


@st.cache_data(show_spinner="Analysing MobileNet at every width and resolution...")
def _grid(depthwise: bool, num_classes: int) -> list[dict]:
    return width_resolution_grid(ALPHAS, RESOLUTIONS, depthwise, num_classes)


def render(selection, analysis) -> None:
    calculator()
    st.divider()
    multipliers(analysis)
    st.divider()
    by_layer_type(analysis)


def calculator() -> None:
    st.subheader("One layer: standard against depthwise separable")
    cols = st.columns(4)
    F = cols[0].slider("F (kernel side)", 1, 7, 3, key="mobilenet_v1.calc.F")
    C = cols[1].slider("C (input channels)", 1, 1024, 512, key="mobilenet_v1.calc.C")
    O = cols[2].slider("O (output channels)", 1, 1024, 512, key="mobilenet_v1.calc.O")
    Fm = cols[3].slider("Fm (feature map side)", 1, 224, 14, key="mobilenet_v1.calc.Fm")
    try:
        cost = layer_cost(F, C, O, Fm)
    except ExplorerError as e:
        show_error(e)
        return
    m = st.columns(3)
    m[0].metric(
        "Standard conv, multiply-adds", f"{cost.standard_mult_adds:,}", help=f"{cost.standard_params:,} parameters"
    )
    m[1].metric(
        "Depthwise separable, multiply-adds",
        f"{cost.separable_mult_adds:,}",
        help=f"{cost.separable_params:,} parameters",
    )
    m[2].metric("Separable / standard", f"{cost.ratio:.4f}", help=f"{1 / cost.ratio:.1f}x fewer multiply-adds")
    lines = []
    for step in cost.steps():
        value, measured = step["value"], step["measured"]
        shown = f"{value:.4f}" if step["quantity"] == "ratio" else f"{value:,}"
        got = f"{measured:.4f}" if step["quantity"] == "ratio" else f"{measured:,}"
        mark = "✓" if abs(measured - value) <= 1e-12 * max(1, abs(value)) else "✗"
        lines.append(
            f"- *{step['quantity']}*: `{step['formula']}` = `{step['numbers']}` = **{shown}** — PyTorch: {got} {mark}"
        )
    st.markdown("\n".join(lines))
    st.caption(
        f"PyTorch built nn.Conv2d({C}, {O}, {F}) and nn.Conv2d({C}, {C}, {F}, groups={C}) followed by "
        f"nn.Conv2d({C}, {O}, 1) (stride 1, 'same' padding, no bias) and torch.utils.flop_counter counted "
        f"them on a 1x{C}x{Fm}x{Fm} input. Parameters: {cost.standard_params:,} against "
        f"{cost.separable_params:,}."
    )


def multipliers(analysis) -> None:
    st.subheader("Width multiplier α and resolution")
    knobs = analysis.knobs
    grid = _grid(bool(knobs["depthwise"]), int(knobs["num_classes"]))
    fig = make_subplots(
        1, 3, subplot_titles=("multiply-adds against α", "multiply-adds against resolution", "parameters against α")
    )
    for side in RESOLUTIONS:
        pts = [g for g in grid if g["resolution"] == side]
        fig.add_scatter(
            x=[g["alpha"] for g in pts],
            y=[g["mult_adds"] / 1e6 for g in pts],
            mode="lines+markers",
            name=f"{side}x{side}",
            legendgroup="res",
            row=1,
            col=1,
        )
    for alpha in ALPHAS:
        pts = [g for g in grid if g["alpha"] == alpha]
        fig.add_scatter(
            x=[g["resolution"] for g in pts],
            y=[g["mult_adds"] / 1e6 for g in pts],
            mode="lines+markers",
            name=f"α={alpha:g}",
            legendgroup="alpha",
            row=1,
            col=2,
        )
    at_224 = [g for g in grid if g["resolution"] == RESOLUTIONS[-1]]
    fig.add_scatter(
        x=[g["alpha"] for g in at_224],
        y=[g["params"] / 1e6 for g in at_224],
        mode="lines+markers",
        name="ours (any resolution)",
        row=1,
        col=3,
    )
    paper = dict(mode="markers", marker=dict(symbol="x", size=12, color="black"))
    if knobs["depthwise"] and knobs["num_classes"] == 1000:
        fig.add_scatter(
            x=list(MOBILENET_V1_TABLE_6),
            y=[v[0] for v in MOBILENET_V1_TABLE_6.values()],
            name="paper, Table 6 (224)",
            row=1,
            col=1,
            **paper,
        )
        fig.add_scatter(
            x=list(MOBILENET_V1_TABLE_7),
            y=[v[0] for v in MOBILENET_V1_TABLE_7.values()],
            name="paper, Table 7 (α=1)",
            row=1,
            col=2,
            **paper,
        )
        fig.add_scatter(
            x=list(MOBILENET_V1_TABLE_6),
            y=[v[1] for v in MOBILENET_V1_TABLE_6.values()],
            name="paper, Table 6",
            row=1,
            col=3,
            showlegend=False,
            **paper,
        )
    here = dict(mode="markers", marker=dict(symbol="star", size=16, color="#e03131"), showlegend=False)
    alpha, side = knobs["alpha"], analysis.input_shape[1]
    fig.add_scatter(x=[alpha], y=[analysis.totals.mult_adds / 1e6], name="this network", row=1, col=1, **here)
    fig.add_scatter(x=[side], y=[analysis.totals.mult_adds / 1e6], name="this network", row=1, col=2, **here)
    fig.add_scatter(x=[alpha], y=[analysis.totals.params / 1e6], name="this network", row=1, col=3, **here)
    fig.update_xaxes(title_text="α", row=1, col=1)
    fig.update_xaxes(title_text="input side", row=1, col=2)
    fig.update_xaxes(title_text="α", row=1, col=3)
    fig.update_yaxes(title_text="millions", row=1, col=1)
    fig.update_layout(height=420, margin=dict(t=40, b=10))
    st.plotly_chart(fig, key="mobilenet_v1.idea.grid")
    note = (
        "Black crosses: the paper's published rows; red star: the network in the sidebar."
        if knobs["depthwise"] and knobs["num_classes"] == 1000
        else "The paper's rows are for depthwise separable MobileNets with 1000 classes, so they are not drawn here."
    )
    st.caption(
        f"Each point is a MobileNet built and analysed with PyTorch ({len(grid)} networks). Multiply-adds "
        f"scale with about α² and with the resolution squared; parameters only with α. {note}"
    )


def by_layer_type(analysis) -> None:
    st.subheader("Where the cost is (the paper's Table 2)")
    rows = cost_by_layer_type(analysis)
    for r in rows:
        paper = MOBILENET_V1_TABLE_2.get(r["type"])
        r["paper mult-adds %"], r["paper params %"] = paper if paper else (None, None)
    st.dataframe(
        rows,
        hide_index=True,
        key="mobilenet_v1.idea.types",
        column_config={
            "mult-adds %": st.column_config.NumberColumn(format="%.2f"),
            "params %": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    madds = next((r for r in rows if r["type"] == "Conv 1x1"), None)
    if madds:
        st.caption(
            f"The 1x1 pointwise convolutions do {madds['mult-adds %']:.1f}% of the "
            f"{human(sum(r['mult-adds'] for r in rows))} multiply-adds: a plain matrix product (GEMM), "
            "which is why the paper puts nearly all the work there. Paper figures (published) are for "
            f"1.0 MobileNet-224; its {MOBILENET_V1_TABLE_2['Conv 3x3'][0]:.2f}% for the 3x3 convolution is a "
            f"misprint for {MOBILENET_V1_TABLE_2_CONV_3X3_CORRECTED:.2f}% (the column then sums to 100)."
        )
