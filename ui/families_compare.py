"""The Compare page's "Across families" tab: presets side by side, each at its own natural input."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from explorer import all_presets
from explorer.compare import compare, default_selection, table_8
from explorer.errors import ExplorerError
from explorer.report import human, shape_text
from ui.render import show_error


@st.cache_data(show_spinner="Analysing the presets…", max_entries=32)
def _entries(names: tuple):
    return compare(names)


def across_families() -> None:
    st.subheader("Parameters against multiply-adds, across families")
    presets = all_presets()
    chosen = st.multiselect("Presets", list(presets), default=default_selection(), key="compare.presets",
                            format_func=lambda n: presets[n].title)
    if not chosen:
        st.info("Pick one or more presets to compare.")
        return
    try:
        entries = _entries(tuple(chosen))
    except ExplorerError as e:
        show_error(e)
        return
    fig = go.Figure()
    for dataset in sorted({e.dataset for e in entries}):
        mine = [e for e in entries if e.dataset == dataset]
        fig.add_scatter(x=[e.mult_adds for e in mine], y=[e.params for e in mine], mode="markers+text",
                        name=f"ours, {dataset} ({shape_text(mine[0].input_shape)})", text=[e.preset for e in mine],
                        textposition="top center", marker=dict(size=11),
                        customdata=[[e.title, human(e.mult_adds), human(e.params)] for e in mine],
                        hovertemplate="%{customdata[0]}<br>%{customdata[1]} mult-adds, %{customdata[2]} "
                                      "params<extra></extra>")
    points = table_8()
    fig.add_scatter(x=[p.mult_adds for p in points], y=[p.params for p in points], mode="markers+text",
                    name=f"published: {points[0].source}", text=[p.model for p in points],
                    textposition="bottom center", marker=dict(size=14, symbol="diamond-open", line=dict(width=2),
                                                               color="#e8590c"),
                    hovertemplate="%{text} (published)<br>%{x:.3s} mult-adds, %{y:.3s} params<extra></extra>")
    fig.update_layout(xaxis=dict(type="log", title="multiply-adds for one image (log)"),
                      yaxis=dict(type="log", title="parameters (log)"), height=520, margin=dict(t=30, b=10),
                      legend=dict(orientation="h", y=-0.18))
    st.plotly_chart(fig, key="compare.families.scatter")
    st.caption("Each preset is analysed at its own natural input: 224x224 for ImageNet networks (1000 classes), "
               "32x32 for CIFAR ones; the 'input' column says which. The diamonds are the MobileNet paper's "
               "published figures (Table 8), shown beside our analyses, not computed.")
    rows = [{"preset": e.preset, "network": e.title, "input": shape_text(e.input_shape), "dataset": e.dataset,
             "input chosen by": e.why, "depth (weight layers on the longest path)": e.depth,
             "weight layers (all)": e.weight_layers, "parameters": e.params, "multiply-adds": e.mult_adds,
             "parameter memory (fp32)": f"{e.param_mb:,.1f} MB"} for e in entries]
    st.dataframe(rows, hide_index=True, key="compare.families.table", column_config={
        n: st.column_config.NumberColumn(format="localized") for n in ("parameters", "multiply-adds")})
    ours = {e.preset: e for e in entries}
    lines = [f"- **{p.model}**: published {p.mult_adds / 1e6:,.0f}M mult-adds, {p.params / 1e6:g}M parameters; "
             + (f"ours ({p.preset}) {ours[p.preset].mult_adds / 1e6:,.0f}M and {ours[p.preset].params / 1e6:.2f}M "
                f"({ours[p.preset].mult_adds / p.mult_adds - 1:+.1%}, {ours[p.preset].params / p.params - 1:+.1%})"
                if p.preset in ours else
                f"add '{p.preset}' to the selection to see ours" if p.preset in presets else
                f"no '{p.preset}' preset in this build") for p in points]
    st.markdown("\n".join(lines))
