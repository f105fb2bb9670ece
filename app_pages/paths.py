"""Residual paths: y_i = f_i(y_{i-1}) + y_{i-1} unravelled into 2^N paths, counted exactly and measured live."""
import plotly.graph_objects as go
import streamlit as st

from explorer import paths
from explorer.experiments import get_experiment
from explorer.experiments.path_gradients import findings
from explorer.reference import VEIT_2016
from ui import experiments as ux

PRESETS = {"ResNet-20": 9, "ResNet-56": 27, "ResNet-110": 54, "ResNet-1202": 600}  # 3 stages x n blocks
MAX_SLIDER = 600
st.session_state.setdefault("paths.blocks", 3)
st.title("Unravelled residual paths")
st.caption("y_i = f_i(y_{i-1}) + y_{i-1}: each block is entered or skipped, so N blocks make 2^N paths from input "
           "to output (Veit, Wilber & Belongie 2016).")

cols = st.columns(len(PRESETS) + 1)
for col, (name, blocks) in zip(cols[1:], PRESETS.items()):
    col.button(f"{name} (N = {blocks})", key=f"paths.preset.{blocks}", on_click=st.session_state.update,
               args=({"paths.blocks": blocks},), width="stretch")
n = cols[0].number_input("Residual blocks N", 1, MAX_SLIDER, step=1, key="paths.blocks")
summary = paths.summary(n)
total = summary["paths"]
cols = st.columns(3)
cols[0].metric("Paths, 2^N", f"{total:,}" if total < 10 ** 15 else f"≈ {paths.scientific(total)}",
               help="An exact integer (shown in full below when it is long).")
cols[1].metric("Mean path length", f"{summary['mean']:g}", help="Binomial(N, 1/2): N/2 blocks.")
cols[2].metric("Standard deviation", f"{summary['std']:.3f}", help="sqrt(N)/2.")
if total >= 10 ** 15:
    st.caption(f"2^{n} = {total}")

mean, std = summary["mean"], summary["std"]
low, high = st.slider("Path lengths to count", 0, n, (max(0, round(mean - std)), min(n, round(mean + std))),
                      key=f"paths.range.{n}")
share = paths.share_between(n, low, high)
st.markdown(f"Paths of length **{low} to {high}**: {sum(summary['distribution'][low:high + 1]):,} of {total:,}, "
            f"**{float(share):.4%}** of all paths.")
fig = go.Figure(go.Bar(x=list(range(n + 1)), y=summary["distribution"],
                       marker_color=["#1c7ed6" if low <= k <= high else "#a5d8ff" for k in range(n + 1)]))
fig.update_layout(height=330, xaxis_title="path length k (residual branches passed)", margin=dict(t=30, b=10),
                  yaxis_title="number of paths, C(N, k)", title=f"Path lengths ~ Binomial({n}, 1/2)")
st.plotly_chart(fig, key="paths.distribution")
v = VEIT_2016
resnet110 = paths.summary(v["resnet110_blocks"])
st.caption(f"Published, {v['source']}: ResNet-110 has {v['resnet110_blocks']} blocks, about "
           f"{v['resnet110_paths']:.1e} paths, mean length {v['resnet110_mean']}, standard deviation about "
           f"{v['resnet110_std']}; paths of length {v['effective_low']}-{v['effective_high']} are "
           f"{v['effective_path_share']:.2%} of them. Computed here for N = 54: {float(resnet110['paths']):.2e} "
           f"paths, mean {resnet110['mean']:g}, standard deviation {resnet110['std']:.2f}, lengths 5-17 "
           f"{float(paths.share_between(54, 5, 17)):.2%}.")

st.header("Unravelled")
if n > paths.MAX_GRAPH_BLOCKS:
    st.info(f"The unravelled expression is written out up to N = {paths.MAX_EXPRESSION_BLOCKS} and the graph "
            f"drawn up to N = {paths.MAX_GRAPH_BLOCKS} (already {2 ** paths.MAX_GRAPH_BLOCKS} paths): lower N to see them.")
else:
    choice = st.selectbox("Remove block", [0] + list(range(1, n + 1)), key=f"paths.removed.{n}",
                          format_func=lambda i: "none" if i == 0 else f"f_{i}")
    removed = {choice} if choice else set()
    residual_col, plain_col = st.columns(2)
    alive = sum(paths.length_distribution(n, removed))
    residual_col.subheader(f"Residual: {alive} of {2 ** n} paths")
    plain_col.subheader(f"Plain: {0 if removed else 1} of 1 path")
    if n <= paths.MAX_EXPRESSION_BLOCKS:
        residual_col.latex(paths.unravelled_latex(n, removed))
        plain_col.latex(paths.plain_expression(n, removed))
    residual_col.graphviz_chart(paths.unravelled_dot(n, removed))
    plain_col.graphviz_chart(paths.plain_dot(n, removed))
    if removed:
        residual_col.caption(f"Removing f_{choice} keeps the 2^{n - 1} = {alive} paths that skip it: every one "
                             "of them was trained as part of the ensemble.")
        plain_col.caption(f"The plain network's only path runs through f_{choice}. Replacing it by the identity "
                          f"leaves a path that never existed in training.")

st.header("Which paths carry the gradient? Measured")
experiment = get_experiment("path-gradients")
st.caption("As Veit et al. (Sec. 5): a batch goes forward through the whole network; backward, k sampled blocks "
           "pass the gradient through their residual branch and the others only through their skip, so the "
           "gradient reaching y_0 flows along one path of length k. Times C(N, k) paths of that length, it is "
           "the total gradient that length carries. The network is the layer-removal experiment's residual one.")
values = ux.knob_widgets(experiment, columns=4, only=("depth", "epochs", "samples", "trained"))
outcome = ux.outcome_for(experiment, values, "Measure (trains the ResNet first if needed)")
if outcome is None:
    st.stop()
changed = ux.differing(experiment, outcome, values)
if changed:
    st.warning(f"These measurements were made with {', '.join(changed)}; press the button for the settings above.")
r = outcome.result
for sentence in findings(r):
    st.markdown(f"- {sentence}")
band = ["#1c7ed6" if r["range"]["low"] <= k <= r["range"]["high"] else "#a5d8ff" for k in r["lengths"]]
left, right = st.columns(2)
fig = go.Figure(go.Scatter(x=r["lengths"], y=r["magnitude"], mode="lines+markers",
                           error_y=dict(type="data", array=r["magnitude_spread"], visible=True)))
fig.update_layout(height=340, title="Gradient magnitude of one path", yaxis=dict(type="log", title="|dL/dy_0|"),
                  xaxis_title="path length k", margin=dict(t=40, b=10))
left.plotly_chart(fig, key="paths.gradient.single")
fig = go.Figure(go.Bar(x=r["lengths"], y=r["share"], marker_color=band))
fig.update_layout(height=340, title="Total gradient per length (x C(N, k) paths)", margin=dict(t=40, b=10),
                  yaxis=dict(title="share of all gradient", tickformat=".0%"), xaxis_title="path length k")
right.plotly_chart(fig, key="paths.gradient.total")
st.caption(f"{ux.timing_caption(outcome)} Published: {v['source']} find almost all gradient in ResNet-110 comes "
           f"from paths of length {v['effective_low']}-{v['effective_high']}, {v['effective_path_share']:.2%} of "
           "its paths.")
