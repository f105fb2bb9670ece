"""Residual paths: y_i = f_i(y_{i-1}) + y_{i-1} unravelled into 2^N paths, counted exactly and measured live."""

import plotly.graph_objects as go
import streamlit as st

from explorer import all_presets
from explorer.experiments import get_experiment
from explorer.experiments.path_gradients import findings
from explorer.families import resnet_paths as paths
from explorer.lecture import power_of_two
from explorer.reference import VEIT_2016
from ui import experiments as ux
from ui import graphs
from ui.sidebar import current_selection

PRESETS = {"the lecture's": 3} | {  # N of the registered CIFAR ResNets: three stages of n blocks
    f"ResNet-{depth}": paths.residual_blocks("resnet", all_presets()[f"resnet{depth}"].knobs)
    for depth in (20, 56, 110, 1202)
}
selection = current_selection()
sidebar_blocks = paths.residual_blocks(selection.family, selection.knobs)
if sidebar_blocks:  # the sidebar's ResNet, e.g. ResNet-50: 3 + 4 + 6 + 3 = 16 blocks
    PRESETS = {**PRESETS, f"sidebar: {selection.title.split(' (')[0]}": sidebar_blocks}
if "paths.blocks" not in st.session_state:  # a link may name N: ?paths.blocks=54
    url, lecture = st.query_params.get("paths.blocks", ""), PRESETS["the lecture's"]
    st.session_state["paths.blocks"] = int(url) if url.isdigit() and 1 <= int(url) <= paths.MAX_PAGE_BLOCKS else lecture
st.title("Unravelled residual paths")
st.caption(
    "y_i = f_i(y_{i-1}) + y_{i-1}: each block is entered or skipped, so N blocks make 2^N paths from input "
    "to output (Veit, Wilber & Belongie 2016)."
)

n = st.slider(
    "Residual blocks N",
    1,
    paths.MAX_PAGE_BLOCKS,
    key="paths.blocks",
    help="Use the arrow keys for single steps, or a button below.",
)
st.query_params["paths.blocks"] = str(n)
cols = st.columns(len(PRESETS))
for col, (name, blocks) in zip(cols, PRESETS.items()):
    col.button(
        f"{name} (N = {blocks})",
        key=f"paths.preset.{name}",
        on_click=st.session_state.update,
        args=({"paths.blocks": blocks},),
        width="stretch",
    )
summary = paths.summary(n)
total = summary["paths"]
cols = st.columns(3)
cols[0].metric(
    "Paths, 2^N",
    f"{total:,}" if total < 10**15 else f"≈ {paths.scientific(total, 2)}",
    help="An exact integer (all its digits are under 'Exact value' below when it is long).",
)
cols[1].metric("Mean path length", f"{summary['mean']:g}", help="Binomial(N, 1/2): N/2 blocks.")
cols[2].metric("Standard deviation", f"{summary['std']:.3f}", help="sqrt(N)/2.")
if total >= 10**15:  # as the lecture writes it; the 181 digits of 2^600 only on request
    st.caption(f"{power_of_two(n)} ({len(str(total))} digits)")
    with st.expander("Exact value"):
        st.code(str(total), language=None, wrap_lines=True)

mean, std = summary["mean"], summary["std"]
low, high = st.slider(
    "Path lengths to count", 0, n, (max(0, round(mean - std)), min(n, round(mean + std))), key=f"paths.range.{n}"
)
share = paths.share_between(n, low, high)
st.markdown(
    f"Paths of length **{low} to {high}**: {sum(summary['distribution'][low : high + 1]):,} of {total:,}, "
    f"**{float(share):.4%}** of all paths."
)
fig = go.Figure(
    go.Bar(
        x=list(range(n + 1)),
        y=summary["distribution"],
        marker_color=["#1c7ed6" if low <= k <= high else "#a5d8ff" for k in range(n + 1)],
    )
)
fig.update_layout(
    height=330,
    xaxis=dict(title="path length k (residual branches passed)", dtick=1 if n <= 30 else None),
    margin=dict(t=30, b=10),
    yaxis_title="number of paths, C(N, k)",
    title=f"Path lengths ~ Binomial({n}, 1/2)",
)
st.plotly_chart(fig, key="paths.distribution")
v = VEIT_2016
resnet110 = paths.summary(v["resnet110_blocks"])
st.caption(
    f"Published, {v['source']}: ResNet-110 has {v['resnet110_blocks']} blocks, about "
    f"{paths.scientific(v['resnet110_paths'], 2)} paths, mean length {v['resnet110_mean']}, standard deviation "
    f"about {v['resnet110_std']}; paths of length {v['effective_low']}-{v['effective_high']} are "
    f"{v['effective_path_share']:.2%} of them. Computed here for N = {v['resnet110_blocks']}: "
    f"{paths.scientific(resnet110['paths'])} "
    f"paths, mean {resnet110['mean']:g}, standard deviation {resnet110['std']:.2f}, lengths "
    f"{v['effective_low']}-{v['effective_high']} "
    f"{float(paths.share_between(v['resnet110_blocks'], v['effective_low'], v['effective_high'])):.2%}."
)

st.header("Unravelled")
if n > paths.MAX_GRAPH_BLOCKS:
    st.info(
        f"The unravelled expression is written out up to N = {paths.MAX_EXPRESSION_BLOCKS} and the graph "
        f"drawn up to N = {paths.MAX_GRAPH_BLOCKS} (already {2**paths.MAX_GRAPH_BLOCKS} paths): lower N to see them."
    )
else:
    choice = st.selectbox(
        "Remove block",
        [0] + list(range(1, n + 1)),
        key=f"paths.removed.{n}",
        format_func=lambda i: "none" if i == 0 else f"f_{i}",
    )
    removed = {choice} if choice else set()
    alive = sum(paths.length_distribution(n, removed))
    if n <= paths.MAX_EXPRESSION_BLOCKS:  # full width: y_3 is already as wide as the page
        st.markdown("**Residual network**, unravelled:")
        st.latex(paths.unravelled_latex(n, removed))
        st.markdown("**Plain network**, its single path:")
        st.latex(paths.plain_expression(n, removed))
    residual_col, plain_col = st.columns([3, 2])
    residual_col.subheader(f"Residual: {alive} of {2**n} paths")
    plain_col.subheader(f"Plain: {0 if removed else 1} of 1 path")
    residual_col.graphviz_chart(graphs.unravelled_dot(n, removed))
    plain_col.graphviz_chart(graphs.plain_dot(n, removed))
    residual_col.caption(
        "Every route from y₀ to the sum is one path; a box is a residual branch f_i on it, "
        "darker the more branches the path has passed."
    )
    if removed:
        residual_col.caption(
            f"Removing f_{choice} keeps the 2^{n - 1} = {alive} paths that skip it: every one "
            "of them was trained as part of the ensemble."
        )
        plain_col.caption(
            f"The plain network's only path runs through f_{choice}. Replacing it by the identity "
            f"leaves a path that never existed in training."
        )

st.header("Which paths carry the gradient? Measured")
experiment = get_experiment("path-gradients")
st.caption(
    "As Veit et al. (Sec. 5): a batch goes forward through the whole network; backward, k sampled blocks "
    "pass the gradient through their residual branch and the others only through their skip, so the "
    "gradient reaching y_0 flows along one path of length k. Times C(N, k) paths of that length, it is "
    "the total gradient that length carries. The network is the layer-removal experiment's residual one."
)
values = ux.knob_widgets(experiment, columns=4, only=("depth", "epochs", "samples", "trained"))
outcome = ux.outcome_for(experiment, values, "Measure (trains the ResNet first if needed)")
if outcome is None:
    st.stop()
ux.warn_if_stale(experiment, outcome, values)
r = outcome.result
ux.bullets(findings(r))
band = ["#1c7ed6" if r["range"]["low"] <= k <= r["range"]["high"] else "#a5d8ff" for k in r["lengths"]]
left, right = st.columns(2)
fig = go.Figure(
    go.Scatter(
        x=r["lengths"],
        y=r["magnitude"],
        mode="lines+markers",
        error_y=dict(type="data", array=r["magnitude_spread"], visible=True),
    )
)
fig.update_layout(
    height=340,
    title="Gradient magnitude of one path",
    yaxis=dict(type="log", title="|dL/dy_0|"),
    xaxis_title="path length k",
    margin=dict(t=40, b=10),
)
left.plotly_chart(fig, key="paths.gradient.single")
fig = go.Figure(go.Bar(x=r["lengths"], y=r["share"], marker_color=band))
fig.update_layout(
    height=340,
    title="Total gradient per length (x C(N, k) paths)",
    margin=dict(t=40, b=10),
    yaxis=dict(title="share of all gradient", tickformat=".0%"),
    xaxis_title="path length k",
)
right.plotly_chart(fig, key="paths.gradient.total")
st.caption(
    f"{ux.timing_caption(outcome)} Published: {v['source']} find almost all gradient in ResNet-110 comes "
    f"from paths of length {v['effective_low']}-{v['effective_high']}, {v['effective_path_share']:.2%} of "
    "its paths."
)
