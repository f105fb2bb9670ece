"""Charts and session state for the Transfer learning and Edge computing pages (figures from results only)."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from explorer.experiments import Experiment
from explorer.reference import LECTURE_EDGE

BLUE, ORANGE, GREY, GREEN = "#1c7ed6", "#e8590c", "#868e96", "#2f9e44"
PERCENT = dict(tickformat=".0%", range=[0, 1.03])
VARIANTS = "edge.variants"  # every variant made in this session: name -> record (the latest measurement)


def shared_knobs(name: str, knobs: tuple) -> Experiment:
    """A namespace for knobs several experiments share (one set of widgets, keys '<name>.<knob>')."""
    return Experiment(name, name, "", knobs, run=lambda *args: {}, report=str)


def accuracy_against_cuts(result: dict, shown_cut: int | None):
    rows = result["cuts"]
    labels = [f"{r['cut']}: {r['label']}" + (f" ({r['preset']})" if r["preset"] else "") for r in rows]
    colors = [ORANGE if r["cut"] == shown_cut else BLUE for r in rows]
    fig = go.Figure(go.Bar(x=labels, y=[r["accuracy"] for r in rows], marker_color=colors, name="fine-tuned",
                           text=[f"{r['accuracy']:.0%}" for r in rows], textposition="outside"))
    fig.add_hline(y=result["scratch_accuracy"], line=dict(color=GREEN, dash="dash"),
                  annotation_text=f"from scratch {result['scratch_accuracy']:.0%}", annotation_position="top left")
    fig.add_hline(y=result["target"]["chance"], line=dict(color=GREY, dash="dot"), annotation_text="chance")
    per_class = result["target"]["labelled"] // len(result["target"]["classes"])
    fig.update_layout(title=f"Target accuracy against the cut ({per_class} labelled examples per class; orange: "
                            "the cut drawn above)", height=420,
                      yaxis=dict(title="target test accuracy", tickformat=".0%", range=[0, 1.12]),  # room for labels
                      xaxis=dict(title="cut: weight layers frozen", tickangle=-25), margin=dict(t=50, b=10))
    return fig


def accuracy_against_examples(result: dict):
    counts = result["by_examples"]
    cut = next(r for r in result["cuts"] if r["cut"] == counts["cut"])
    fig = go.Figure()
    fig.add_scatter(x=counts["examples"], y=counts["transfer"], mode="lines+markers", line=dict(color=BLUE, width=3),
                    name=f"transfer, cut {cut['cut']} ({cut['label']})")
    fig.add_scatter(x=counts["examples"], y=counts["scratch"], mode="lines+markers", line=dict(color=GREEN),
                    name="from scratch")
    fig.add_hline(y=result["target"]["chance"], line=dict(color=GREY, dash="dot"), annotation_text="chance")
    fig.update_layout(title="Target accuracy against the number of labelled target examples", height=380,
                      yaxis=dict(title="target test accuracy", **PERCENT),
                      xaxis=dict(title="labelled examples per class", type="log"), margin=dict(t=50, b=10),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def pruning_curve(result: dict):
    fig = go.Figure()
    fig.add_scatter(x=result["sparsity"], y=result["retained"], mode="lines+markers", name="pruned",
                    line=dict(color=BLUE, width=3))
    if result["finetune_steps"]:
        fig.add_scatter(x=result["sparsity"], y=result["finetuned_retained"], mode="lines+markers",
                        name=f"pruned + {result['finetune_steps']}-step fine-tune", line=dict(color=GREEN))
    sizes = [b / result["dense_bytes"] for b in result["compressed_bytes"]]
    fig.add_scatter(x=result["sparsity"], y=sizes, mode="lines", name="size stored sparsely (share of dense)",
                    line=dict(color=GREY, dash="dash"))
    retained, ratio = LECTURE_EDGE["pruning_accuracy_retained"], LECTURE_EDGE["pruning_size_ratio"]
    fig.add_hline(y=retained, line=dict(color=ORANGE, dash="dot"), annotation_text=f"the lecture's {retained:.0%}")
    fig.add_hline(y=1 / ratio, line=dict(color=ORANGE, dash="dot"), annotation_text=f"{ratio:g}x smaller",
                  annotation_position="bottom right")
    fig.update_layout(title="Accuracy retained (share of the unpruned network's) and size against sparsity",
                      height=400, xaxis=dict(title="sparsity (share of weights set to zero)", tickformat=".0%"),
                      yaxis=dict(title="share", tickformat=".0%", range=[0, 1.08]), margin=dict(t=50, b=10),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def truncation_chart(result: dict):
    cuts = result["cuts"]
    fig = go.Figure()
    fig.add_scatter(x=[c["params"] for c in cuts], y=[c["accuracy"] for c in cuts], mode="lines+markers+text",
                    text=[c["after"] for c in cuts], textposition="bottom right", line=dict(color=BLUE),
                    marker=dict(size=[14 if c["keep"] == result["keep"] else 8 for c in cuts]), name="truncated")
    fig.add_scatter(x=[result["full_params"]], y=[result["full_accuracy"]], mode="markers", name="whole network",
                    marker=dict(color=ORANGE, size=12, symbol="star"))
    fig.update_layout(title="Accuracy against parameters: the network cut after each stage, with a new head",
                      height=400, xaxis=dict(title="parameters", type="log"), yaxis=dict(title="test accuracy",
                      **PERCENT), margin=dict(t=50, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def remember_variants(result: dict) -> None:
    """Add an experiment's variants to the session's table (a later measurement of one replaces it)."""
    table = st.session_state.setdefault(VARIANTS, {})
    for record in result.get("variants", []):
        table[record["variant"]] = record


def variant_rows() -> list[dict]:
    return [{"variant": r["variant"], "parameters": r["params"], "size (MB)": round(r["size_mb"], 3),
             "multiply-adds": r["mult_adds"], "accuracy": f"{r['accuracy']:.1%}",
             "latency (ms, 1 image)": round(r["latency_ms"], 3), "note": r["note"]}
            for r in st.session_state.get(VARIANTS, {}).values()]


def size_against_accuracy():
    records = list(st.session_state.get(VARIANTS, {}).values())
    fig = go.Figure(go.Scatter(x=[r["size_mb"] for r in records], y=[r["accuracy"] for r in records],
                               mode="markers+text", text=[r["variant"] for r in records], textposition="top center",
                               marker=dict(size=11, color=BLUE)))
    fig.update_layout(title="Every variant of this session: size against accuracy", height=420,
                      xaxis=dict(title="size on disk (MB)", type="log"), yaxis=dict(title="test accuracy", **PERCENT),
                      margin=dict(t=50, b=10))
    return fig
