"""Every plotly figure of the app: each takes engine data (an Analysis, an experiment's result) and returns
a figure; pages place it with st.plotly_chart. The engine (explorer/) never imports plotly."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explorer.analysis.report import human, kernel_text, shape_text
from explorer.analysis.rows import memoised
from explorer.labs.arithmetic import LayerSetup, positions
from explorer.labs.receptive import whole_image_at, windowed_rows
from explorer.reference import LECTURE_EDGE

BLUE, ORANGE, GREY, GREEN = "#1c7ed6", "#e8590c", "#868e96", "#2f9e44"
PERCENT = dict(tickformat=".0%", range=[0, 1.03])


# -- layer arithmetic ---------------------------------------------------------------------------------
# The two figures of Layer arithmetic depend only on their arguments, and a class at the same settings asks for the
# same ones: each is built once for the server and handed out as is (st.plotly_chart only reads a figure). Measured:
# 23 ms to build the sliding window at the defaults, 10 ms the receptive field of VGG-16, against 3 ms to send them;
# together most of the page's rerun.
@st.cache_resource(max_entries=256, show_spinner=False)
def sliding_window(setup: LayerSetup, step: int = 0):
    """Plotly: the padded input (padding grey, never-covered pixels orange), the window at `step`, every window
    centre visited, and the output grid with the cell that window produces."""
    s = setup
    (t, b), (l, r) = s.pads
    H, W = s.height + t + b, s.width + l + r
    oh, ow = s.out_hw
    visited = positions(s)
    step = min(max(step, 0), len(visited) - 1)
    top, left = visited[step]
    covered_h = (oh - 1) * s.stride + s.field  # rows of the padded input some window covers
    covered_w = (ow - 1) * s.stride + s.field
    # cell classes: 0 padding, 1 input, 2 input never covered (PyTorch floors), 3 under the current window
    z = [
        [
            0
            if not (t <= i < t + s.height and l <= j < l + s.width)
            else 2
            if (i >= covered_h or j >= covered_w)
            else 1
            for j in range(W)
        ]
        for i in range(H)
    ]
    for i in range(top, top + s.field):
        for j in range(left, left + s.field):
            z[i][j] = 3
    scale = [
        [0, "#dee2e6"],
        [0.25, "#dee2e6"],
        [0.25, "#cfe2ff"],
        [0.5, "#cfe2ff"],
        [0.5, "#ffc078"],
        [0.75, "#ffc078"],
        [0.75, "#ff8787"],
        [1, "#ff8787"],
    ]
    text = [["0" if z[i][j] == 0 else "" for j in range(W)] for i in range(H)]
    fig = make_subplots(
        1,
        2,
        column_widths=[W / (W + ow + 1), (ow + 1) / (W + ow + 1)],
        horizontal_spacing=0.06,
        subplot_titles=(f"input {s.height}×{s.width}, padded to {H}×{W}", f"output {oh}×{ow}"),
    )
    fig.add_trace(
        go.Heatmap(
            z=z,
            zmin=0,
            zmax=3,
            colorscale=scale,
            showscale=False,
            xgap=1,
            ygap=1,
            text=text,
            texttemplate="%{text}",
            hovertemplate="row %{y}, column %{x}<extra></extra>",
        ),
        1,
        1,
    )
    centre = (s.field - 1) / 2
    fig.add_trace(
        go.Scatter(
            x=[c + centre for _, c in visited],
            y=[r_ + centre for r_, _ in visited],
            mode="markers",
            marker=dict(size=5, color="#495057"),
            name="window centres",
            hovertemplate="window centre (%{y}, %{x})<extra></extra>",
        ),
        1,
        1,
    )
    fig.add_shape(
        type="rect",
        x0=left - 0.5,
        x1=left + s.field - 0.5,
        y0=top - 0.5,
        y1=top + s.field - 0.5,
        line=dict(color="#c92a2a", width=3),
        row=1,
        col=1,
    )
    out_z = [[1 if (i, j) == divmod(step, ow) else 0 for j in range(ow)] for i in range(oh)]
    fig.add_trace(
        go.Heatmap(
            z=out_z,
            zmin=0,
            zmax=1,
            colorscale=[[0, "#d3f9d8"], [1, "#ff8787"]],
            showscale=False,
            xgap=1,
            ygap=1,
            hovertemplate="output (%{y}, %{x})<extra></extra>",
        ),
        1,
        2,
    )
    for col, (rows, cols) in ((1, (H, W)), (2, (oh, ow))):
        fig.update_yaxes(
            autorange="reversed",
            scaleanchor=f"x{'' if col == 1 else 2}",
            showgrid=False,
            zeroline=False,
            constrain="domain",
            dtick=1 if rows <= 16 else None,
            row=1,
            col=col,
        )
        fig.update_xaxes(
            showgrid=False, zeroline=False, constrain="domain", dtick=1 if cols <= 16 else None, row=1, col=col
        )
    fig.update_layout(height=460, margin=dict(t=60, b=10, l=10, r=10), showlegend=False)
    return fig


def receptive_field(analysis):
    """Plotly: receptive field and jump after each convolution or pool (the width's too where it differs), with
    the input height for scale. Once per analysis for the server."""
    return memoised(analysis, ("receptive field figure",), lambda: _receptive_field(analysis))


def _receptive_field(analysis):
    rows = windowed_rows(analysis)
    depth = list(range(1, len(rows) + 1))
    names = [r.label for r in rows]
    fig = go.Figure()
    fig.add_scatter(
        x=depth,
        y=[r.receptive_field for r in rows],
        mode="lines+markers",
        name="receptive field r",
        customdata=[[n, kernel_text(r)] for n, r in zip(names, rows)],
        hovertemplate="%{customdata[0]} (%{customdata[1]})<br>r = %{y}<extra></extra>",
    )
    if any(r.receptive_field_w != r.receptive_field for r in rows):  # non-square kernels or strides
        fig.add_scatter(
            x=depth,
            y=[r.receptive_field_w for r in rows],
            mode="lines+markers",
            name="receptive field along the width",
            customdata=names,
            hovertemplate="%{customdata}<br>r (width) = %{y}<extra></extra>",
        )
    fig.add_scatter(
        x=depth,
        y=[r.jump for r in rows],
        mode="lines",
        name="jump j",
        line=dict(dash="dot"),
        customdata=names,
        hovertemplate="%{customdata}<br>j = %{y}<extra></extra>",
    )
    height = analysis.input_shape[1]
    fig.add_hline(
        y=height,
        line=dict(color="#868e96", dash="dash"),
        annotation_text=f"input height {height}",
        annotation_position="top left",
    )
    whole = whole_image_at(analysis)
    if whole is not None:
        x = rows.index(whole) + 1
        fig.add_vline(
            x=x,
            line=dict(color="#c92a2a", dash="dot"),
            annotation_text=f"{whole.label} sees the whole image",
            annotation_position="bottom right",
        )
    fig.update_layout(
        height=380,
        margin=dict(t=30, b=10, l=10, r=10),
        xaxis_title="convolution or pooling layer",
        yaxis_title="input pixels",
        legend=dict(orientation="h", y=1.08),
    )
    return fig


# -- compare ------------------------------------------------------------------------------------------
def vgg_params(configs, ours_millions, paper_millions, shape) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(name=f"ours at {shape[1]}x{shape[2]}", x=configs, y=ours_millions)
    fig.add_bar(name="paper, Table 2 (224x224)", x=configs, y=paper_millions)
    fig.update_layout(
        barmode="group",
        yaxis_title="parameters (millions)",
        xaxis_title="configuration",
        height=380,
        margin=dict(t=30, b=10),
    )
    return fig


def vgg_mult_adds(configs, mult_adds) -> go.Figure:
    fig = go.Figure(go.Bar(x=configs, y=[m / 1e9 for m in mult_adds], text=[human(m) for m in mult_adds]))
    fig.update_layout(yaxis_title="multiply-adds (G)", xaxis_title="configuration", height=320, margin=dict(t=30, b=10))
    return fig


def params_against_mult_adds(entries, points) -> go.Figure:
    """Presets analysed at their own input (one trace per dataset) beside MobileNet's Table 8 (published)."""
    fig = go.Figure()
    for dataset in sorted({e.dataset for e in entries}):
        mine = [e for e in entries if e.dataset == dataset]
        fig.add_scatter(
            x=[e.mult_adds for e in mine],
            y=[e.params for e in mine],
            mode="markers+text",
            name=f"ours, {dataset} ({shape_text(mine[0].input_shape)})",
            text=[e.preset for e in mine],
            textposition="top center",
            marker=dict(size=11),
            customdata=[[e.title, human(e.mult_adds), human(e.params)] for e in mine],
            hovertemplate="%{customdata[0]}<br>%{customdata[1]} mult-adds, %{customdata[2]} params<extra></extra>",
        )
    fig.add_scatter(
        x=[p.mult_adds for p in points],
        y=[p.params for p in points],
        mode="markers+text",
        name=f"published: {points[0].source}",
        text=[p.model for p in points],
        textposition="bottom center",
        marker=dict(size=14, symbol="diamond-open", line=dict(width=2), color=ORANGE),
        hovertemplate="%{text} (published)<br>%{x:.3s} mult-adds, %{y:.3s} params<extra></extra>",
    )
    fig.update_layout(
        xaxis=dict(type="log", title="multiply-adds for one image (log)"),
        yaxis=dict(type="log", title="parameters (log)"),
        height=520,
        margin=dict(t=30, b=10),
        legend=dict(orientation="h", y=-0.18),
    )
    return fig


# -- transfer learning and edge computing -------------------------------------------------------------
def accuracy_against_cuts(result: dict, shown_cut: int | None):
    rows = result["cuts"]
    labels = [f"{r['cut']}: {r['label']}" + (f" ({r['preset']})" if r["preset"] else "") for r in rows]
    colors = [ORANGE if r["cut"] == shown_cut else BLUE for r in rows]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=[r["accuracy"] for r in rows],
            marker_color=colors,
            name="fine-tuned",
            text=[f"{r['accuracy']:.0%}" for r in rows],
            textposition="outside",
        )
    )
    fig.add_hline(
        y=result["scratch_accuracy"],
        line=dict(color=GREEN, dash="dash"),
        annotation_text=f"from scratch {result['scratch_accuracy']:.0%}",
        annotation_position="top left",
    )
    fig.add_hline(y=result["target"]["chance"], line=dict(color=GREY, dash="dot"), annotation_text="chance")
    per_class = result["target"]["labelled"] // len(result["target"]["classes"])
    fig.update_layout(
        title=f"Target accuracy against the cut ({per_class} labelled examples per class; orange: the cut drawn above)",
        height=420,
        yaxis=dict(title="target test accuracy", tickformat=".0%", range=[0, 1.12]),  # room for labels
        xaxis=dict(title="cut: weight layers frozen", tickangle=-25),
        margin=dict(t=50, b=10),
    )
    return fig


def accuracy_against_examples(result: dict):
    counts = result["by_examples"]
    cut = next(r for r in result["cuts"] if r["cut"] == counts["cut"])
    fig = go.Figure()
    fig.add_scatter(
        x=counts["examples"],
        y=counts["transfer"],
        mode="lines+markers",
        line=dict(color=BLUE, width=3),
        name=f"transfer, cut {cut['cut']} ({cut['label']})",
    )
    fig.add_scatter(
        x=counts["examples"], y=counts["scratch"], mode="lines+markers", line=dict(color=GREEN), name="from scratch"
    )
    fig.add_hline(y=result["target"]["chance"], line=dict(color=GREY, dash="dot"), annotation_text="chance")
    fig.update_layout(
        title="Target accuracy against the number of labelled target examples",
        height=380,
        yaxis=dict(title="target test accuracy", **PERCENT),
        # the measured counts as the ticks (plotly's own log ticks print 2, 5 between every power of ten)
        xaxis=dict(
            title="labelled examples per class",
            type="log",
            tickvals=counts["examples"],
            ticktext=[str(n) for n in counts["examples"]],
        ),
        margin=dict(t=50, b=90),
        legend=dict(orientation="h", y=-0.3, yanchor="top"),
    )
    return fig


def pruning_curve(result: dict):
    fig = go.Figure()
    fig.add_scatter(
        x=result["sparsity"], y=result["retained"], mode="lines+markers", name="pruned", line=dict(color=BLUE, width=3)
    )
    if result["finetune_steps"]:
        fig.add_scatter(
            x=result["sparsity"],
            y=result["finetuned_retained"],
            mode="lines+markers",
            name=f"pruned + {result['finetune_steps']}-step fine-tune",
            line=dict(color=GREEN),
        )
    sizes = [b / result["dense_bytes"] for b in result["compressed_bytes"]]
    fig.add_scatter(
        x=result["sparsity"],
        y=sizes,
        mode="lines",
        name="size stored sparsely (share of dense)",
        line=dict(color=GREY, dash="dash"),
    )
    retained, ratio = LECTURE_EDGE["pruning_accuracy_retained"], LECTURE_EDGE["pruning_size_ratio"]
    fig.add_hline(y=retained, line=dict(color=ORANGE, dash="dot"), annotation_text=f"the lecture's {retained:.0%}")
    fig.add_hline(
        y=1 / ratio,
        line=dict(color=ORANGE, dash="dot"),
        annotation_text=f"{ratio:g}x smaller",
        annotation_position="bottom right",
    )
    fig.update_layout(
        title="Accuracy retained (share of the unpruned network's) and size against sparsity",
        height=400,
        xaxis=dict(title="sparsity (share of weights set to zero)", tickformat=".0%"),
        yaxis=dict(title="share", tickformat=".0%", range=[0, 1.08]),
        margin=dict(t=50, b=10),
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


def truncation_chart(result: dict):
    cuts = result["cuts"]
    fig = go.Figure()
    fig.add_scatter(
        x=[c["params"] for c in cuts],
        y=[c["accuracy"] for c in cuts],
        mode="lines+markers+text",
        text=[c["after"] for c in cuts],
        textposition="bottom right",
        line=dict(color=BLUE),
        marker=dict(size=[14 if c["keep"] == result["keep"] else 8 for c in cuts]),
        name="truncated",
    )
    fig.add_scatter(
        x=[result["full_params"]],
        y=[result["full_accuracy"]],
        mode="markers",
        name="whole network",
        marker=dict(color=ORANGE, size=12, symbol="star"),
    )
    fig.update_layout(
        title="Accuracy against parameters: the network cut after each stage, with a new head",
        height=400,
        xaxis=dict(title="parameters", type="log"),
        yaxis=dict(title="test accuracy", **PERCENT),
        margin=dict(t=50, b=10),
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


def size_against_accuracy(records: list[dict]):
    fig = go.Figure(
        go.Scatter(
            x=[r["size_mb"] for r in records],
            y=[r["accuracy"] for r in records],
            mode="markers+text",
            text=[r["variant"] for r in records],
            textposition="top center",
            marker=dict(size=11, color=BLUE),
        )
    )
    fig.update_layout(
        title="Every variant of this session: size against accuracy",
        height=420,
        xaxis=dict(title="size on disk (MB)", type="log"),
        yaxis=dict(title="test accuracy", **PERCENT),
        margin=dict(t=50, b=10),
    )
    return fig


# -- measured latency ---------------------------------------------------------------------------------
KIND_COLOURS = {
    "1x1 conv": BLUE,
    "depthwise conv": ORANGE,
    "3x3 conv": GREEN,
    "other conv": "#7048e8",
    "pooling": "#f59f00",
    "element-wise": "#e64980",
    "fully connected": "#0c8599",
    "other": GREY,
}


def share_of_mult_adds_against_time(measurement) -> go.Figure:
    """Each layer's share of the multiply-adds against its share of the measured time, coloured by layer kind;
    on the diagonal a layer costs time in proportion to its multiply-adds."""
    fig = go.Figure()
    by_kind: dict[str, list] = {}
    for t in measurement.layers:
        by_kind.setdefault(t.kind, []).append(t)
    top = max([t.share for t in measurement.layers] + [t.mult_add_share for t in measurement.layers] + [0.01])
    fig.add_trace(
        go.Scatter(x=[0, top], y=[0, top], mode="lines", line=dict(color=GREY, dash="dot"), name="time ∝ multiply-adds")
    )
    for kind, layers in by_kind.items():
        fig.add_trace(
            go.Scatter(
                x=[t.mult_add_share for t in layers],
                y=[t.share for t in layers],
                mode="markers",
                name=kind,
                marker=dict(color=KIND_COLOURS.get(kind, GREY), size=8, opacity=0.8),
                text=[f"{t.name}<br>{t.time.median:.3f} ms ({t.time.low:.3f}-{t.time.high:.3f})" for t in layers],
                hovertemplate="%{text}<br>multiply-adds %{x:.1%}, time %{y:.1%}<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis=dict(title="share of the multiply-adds", tickformat=".0%"),
        yaxis=dict(title="share of the measured time", tickformat=".0%"),
        height=420,
        margin=dict(t=30, b=40),
        title=f"Measured on {measurement.machine.text()}",
        title_font_size=12,
    )
    return fig
