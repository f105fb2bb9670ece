"""SqueezeNet's "The idea" tab: the Fire modules, and a Fire module's squeeze ratio against its parameters."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from explorer.analysis.report import human, shape_text
from explorer.errors import ExplorerError
from explorer.families.squeezenet import PAPER_SR, network_sweep, squeeze_sweep
from explorer.reference import SQUEEZENET_MODEL_MB
from ui.notices import show_error

FAMILY = "squeezenet"


def render(selection, analysis) -> None:
    fires = fire_table(analysis)
    st.divider()
    squeeze_ratio_view(selection, analysis, fires)


def fire_table(analysis) -> dict:
    st.subheader("Fire modules")
    k = analysis.resolved
    st.markdown(
        f"e_i = base_e + incr_e · ⌊i / freq⌋ = {k['base_e']} + {k['incr_e']} · ⌊i / {k['freq']}⌋;  "
        f"3x3 share pct_3x3 = {k['pct_3x3']:g};  squeeze s_i = SR · e_i with SR = {k['squeeze_ratio']:g}."
    )
    fires, table = {}, []
    for i, (s, e1, e3) in enumerate(k["fire_widths"], start=2):
        rows = [r for r in analysis.rows if r.name.startswith(f"fire{i}.")]
        fires[f"fire{i}"] = (rows[0].input_shape, s, e1, e3)
        table.append(
            {
                "module": f"fire{i}",
                "input": shape_text(rows[0].input_shape),
                "squeeze 1x1 (s)": s,
                "expand 1x1": e1,
                "expand 3x3": e3,
                "output": shape_text(rows[-1].output_shape),
                "params": sum(r.params for r in rows),
                "mult-adds": sum(r.mult_adds for r in rows),
            }
        )
    st.dataframe(
        table,
        hide_index=True,
        key="squeezenet.fires",
        column_config={n: st.column_config.NumberColumn(format="localized") for n in ("params", "mult-adds")},
    )
    fire_params = sum(row["params"] for row in table)
    mb, source = SQUEEZENET_MODEL_MB
    st.caption(
        f"The eight Fire modules hold {fire_params:,} of the {analysis.totals.params:,} parameters "
        f"({fire_params / analysis.totals.params:.0%}); the network stores {analysis.totals.param_mb:.2f} MB "
        f"at 32 bits (MB = 2^20 bytes). Published: {mb} MB ({source}). No fully connected layer: conv10 "
        f"gives one map per class and a global average pool turns each into a score."
    )
    return fires


@st.cache_data(show_spinner=False, max_entries=32)
def _network_sweep(name: str, input_shape: tuple, knobs: tuple):
    return network_sweep(name, input_shape, dict(knobs))


def squeeze_ratio_view(selection, analysis, fires: dict) -> None:
    st.subheader("Squeeze ratio against parameters")
    st.caption(
        "The squeeze layer's width s = SR · e decides how many channels the expand filters see. Each point "
        "is a Fire module built with PyTorch at that SR (input channels and expand filters as in this "
        "network), counted live; the right-hand plot analyses the whole network at each SR, the x-axis of "
        "the paper's Figure 2(a)."
    )
    name = st.selectbox("Fire module", list(fires), index=2 if len(fires) > 2 else 0, key="squeezenet.fire")
    inp, s, e1, e3 = fires[name]
    try:
        points = squeeze_sweep(inp[0], e1, e3, inp[1])
        network = _network_sweep(
            selection.name,
            tuple(selection.input_shape),
            tuple(sorted((k, v) for k, v in selection.knobs.items() if k != "squeeze_ratio")),
        )
    except ExplorerError as e:
        show_error(e)
        return
    sr_now = analysis.resolved["squeeze_ratio"]
    fig = go.Figure(
        go.Scatter(
            x=[p.squeeze_ratio for p in points],
            y=[p.params for p in points],
            mode="lines+markers",
            name=f"{name} (ours, PyTorch)",
            customdata=[p.squeeze for p in points],
            hovertemplate="SR %{x}: s = %{customdata}, %{y:,} params<extra></extra>",
        )
    )
    paper = min(points, key=lambda p: abs(p.squeeze_ratio - PAPER_SR))
    fig.add_scatter(
        x=[paper.squeeze_ratio],
        y=[paper.params],
        mode="markers+text",
        name=f"the paper's SR = {PAPER_SR:g}",
        marker=dict(size=14, symbol="star", color="#e8590c"),
        text=[f"paper: SR {PAPER_SR:g}"],
        textposition="middle right",
    )
    now = min(points, key=lambda p: abs(p.squeeze_ratio - sr_now))
    fig.add_scatter(
        x=[now.squeeze_ratio],
        y=[now.params],
        mode="markers",
        name=f"this network, SR = {sr_now:g}",
        marker=dict(size=11, symbol="circle-open", line=dict(width=3), color="#1c7ed6"),
    )
    fig.update_layout(
        xaxis_title="squeeze ratio SR",
        yaxis_title=f"parameters of {name}",
        height=380,
        margin=dict(t=30, b=10),
        legend=dict(orientation="h", y=-0.25),
    )
    left, right = st.columns(2)
    left.plotly_chart(fig, key="squeezenet.sr.fire")
    fig2 = go.Figure(
        go.Scatter(
            x=[sr for sr, _, _ in network],
            y=[p / 1e6 for _, p, _ in network],
            mode="lines+markers",
            name="whole network (ours)",
            customdata=[human(m) for _, _, m in network],
            hovertemplate="SR %{x}: %{y:.2f}M params, %{customdata} mult-adds<extra></extra>",
        )
    )
    paper_network = next(params for sr, params, _ in network if sr == PAPER_SR)
    fig2.add_scatter(
        x=[PAPER_SR],
        y=[paper_network / 1e6],
        mode="markers",
        name=f"the paper's SR = {PAPER_SR:g}",
        marker=dict(size=14, symbol="star", color="#e8590c"),
    )
    fig2.update_layout(
        xaxis_title="squeeze ratio SR (every Fire module)",
        yaxis_title="parameters (millions)",
        height=380,
        margin=dict(t=30, b=10),
        legend=dict(orientation="h", y=-0.25),
    )
    right.plotly_chart(fig2, key="squeezenet.sr.network")
    first, last = points[0], points[-1]
    slope = (last.params - first.params) / (last.squeeze - first.squeeze)  # measured on the PyTorch modules
    formula = inp[0] + 1 + e1 + 9 * e3
    st.markdown(
        f"In {name} ({inp[0]} input channels, {e1} + {e3} expand filters), SR = {PAPER_SR} gives "
        f"s = {paper.squeeze} and **{paper.params:,}** parameters; SR = 1 (s = e = {last.squeeze}) gives "
        f"{last.params:,}, {last.params / paper.params:.1f}x as many. The count is linear in s: each "
        f"squeeze filter adds **{slope:,.0f}** parameters (measured), its {inp[0]} weights and bias plus one "
        f"weight in each expand 1x1 filter and nine in each expand 3x3 filter: {inp[0]} + 1 + {e1} + "
        f"9·{e3} = {formula:,} {'✓' if formula == slope else '✗'}."
    )
