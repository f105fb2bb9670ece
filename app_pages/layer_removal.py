"""Layer removal: train a residual network and its plain twin live, then delete blocks at test time."""

import plotly.graph_objects as go
import streamlit as st

from explorer.experiments import get_experiment
from explorer.experiments.layer_removal import findings
from explorer.reference import VEIT_2016
from ui import experiments as ux

COLORS = {"residual": "#1c7ed6", "plain": "#e8590c"}
experiment = get_experiment("layer-removal")
st.title("Deleting layers: residual vs plain")
st.caption(f"{experiment.summary} After {experiment.paper}.")
st.markdown(
    "A residual network sums 2^N paths; deleting block i leaves the 2^(N-1) paths that skip it, "
    "all of which were trained. A plain network has one path, and a deleted block breaks it. "
    "The same stack is trained twice, with and without the skips, on the same data and initial weights."
)

values = ux.knob_widgets(experiment)
data_dir = ux.cifar10_folder(experiment.name, values)
outcome = ux.outcome_for(experiment, values, "Train both networks", data_dir)
if outcome is None:
    st.info(
        "Nothing has been trained at these settings yet. Press the button to train both networks and delete "
        "their blocks; the result is kept on disk, so the next visit, yours or anyone's, shows it at once."
    )
    st.stop()
ux.warn_if_stale(experiment, outcome, values)

result = outcome.result
res, plain, blocks = result["residual"], result["plain"], result["blocks"]
data = result["dataset"]
st.caption(
    f"{data['description']}: {data['train']:,} training and {data['test']:,} test images of "
    f"{'x'.join(map(str, data['input_shape']))}. "
    f"{ux.timing_caption(outcome, res['train_seconds'] + plain['train_seconds'])}"
)
cols = st.columns(5)
cols[0].metric("Residual, full", f"{res['full_accuracy']:.1%}", help="Test accuracy with every block.")
cols[1].metric("Plain, full", f"{plain['full_accuracy']:.1%}")
cols[2].metric(
    "Residual: median drop",
    f"{res['median_drop']:.1%}",
    help="Median over the blocks of (full accuracy - accuracy with that block deleted).",
)
cols[3].metric("Plain: median drop", f"{plain['median_drop']:.1%}")
cols[4].metric("Chance", f"{data['chance']:.1%}", help="Always answering the most common test class.")
ux.bullets(findings(result))

names = [b["name"] + (" ↓" if b["downsampling"] else "") for b in blocks]
fig = go.Figure()
for net, values_ in (("residual", res), ("plain", plain)):
    fig.add_scatter(
        x=names, y=values_["deleted"], mode="lines+markers", name=f"{net}, block deleted", line=dict(color=COLORS[net])
    )
    fig.add_hline(
        y=values_["full_accuracy"],
        line=dict(color=COLORS[net], dash="dot"),
        annotation_text=f"{net}, full",
        annotation_position="bottom right",
    )
fig.add_hline(y=data["chance"], line=dict(color="#868e96", dash="dash"), annotation_text="chance")
fig.update_layout(
    title="Test accuracy after deleting one block (↓: downsampling block)",
    height=400,
    yaxis=dict(title="test accuracy", range=[0, 1.02], tickformat=".0%"),
    xaxis_title="deleted block",
    margin=dict(t=50, b=10),
    legend=dict(orientation="h", y=-0.3),
)
st.plotly_chart(fig, key="layer-removal.single")

fig = go.Figure()
for net, values_ in (("residual", res), ("plain", plain)):
    ks, draws = values_["random"]["k"], values_["random"]["draws"]
    fig.add_scatter(
        x=[k for k, d in zip(ks, draws) for _ in d],
        y=[a for d in draws for a in d],
        mode="markers",
        name=f"{net}, each draw",
        marker=dict(color=COLORS[net], opacity=0.35, size=7),
    )
    fig.add_scatter(
        x=ks,
        y=values_["random"]["mean"],
        mode="lines+markers",
        name=f"{net}, mean",
        line=dict(color=COLORS[net], width=3),
    )
fig.add_hline(y=data["chance"], line=dict(color="#868e96", dash="dash"), annotation_text="chance")
fig.update_layout(
    title="Test accuracy after deleting k random blocks (the same draws for both networks)",
    height=380,
    yaxis=dict(title="test accuracy", range=[0, 1.02], tickformat=".0%"),
    xaxis=dict(title="k, blocks deleted", dtick=1),
    margin=dict(t=50, b=10),
)
st.plotly_chart(fig, key="layer-removal.random")

with st.expander("Published beside ours", expanded=False):
    st.markdown(
        f"- **{VEIT_2016['source']}**, ResNet-110 and VGG on CIFAR-10: {VEIT_2016['single_deletion']}; "
        f"{VEIT_2016['k_deletions']}.\n"
        f"- **Ours**, {len(blocks)} blocks on {data['name']}: median drop {res['median_drop']:.1%} "
        f"(residual) against {plain['median_drop']:.1%} (plain), measured above."
    )
with st.expander("Every block, and how it was deleted"):
    st.dataframe(
        [
            {
                "block": b["name"],
                "residual": f"{r:.1%}",
                "plain": f"{p:.1%}",
                "plain net's stand-in": b["plain_replacement"],
            }
            for b, r, p in zip(blocks, res["deleted"], plain["deleted"])
        ],
        hide_index=True,
    )
    st.caption(
        "Residual net: the block's branch f is dropped and its skip kept. Plain net: the block's layers "
        "are replaced by the identity; at a downsampling block the shape changes, so the stand-in is "
        "the residual net's parameter-free shortcut (every second pixel, zero-padded channels)."
    )
with st.expander("Training curves"):
    fig = go.Figure()
    for net, values_ in (("residual", res), ("plain", plain)):
        epochs = [h["epoch"] for h in values_["history"]]
        fig.add_scatter(
            x=epochs, y=[h["loss"] for h in values_["history"]], name=f"{net}, loss", line=dict(color=COLORS[net])
        )
        fig.add_scatter(
            x=epochs,
            y=[h["accuracy"] for h in values_["history"]],
            name=f"{net}, training accuracy",
            line=dict(color=COLORS[net], dash="dot"),
            yaxis="y2",
        )
    fig.update_layout(
        height=320,
        xaxis=dict(title="epoch", dtick=1),
        yaxis_title="training loss",
        yaxis2=dict(title="training accuracy", overlaying="y", side="right", tickformat=".0%", range=[0, 1]),
        margin=dict(t=20, b=10),
    )
    st.plotly_chart(fig, key="layer-removal.history")
