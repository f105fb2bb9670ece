"""Explore: the configured network's totals, layer graph, per-layer table and derivations, live."""

import streamlit as st

from explorer import get_family
from explorer.errors import ExplorerError
from ui import graphs, labs, measured, network, notices
from ui.profile import section
from ui.sidebar import current_selection
from ui.views import views

selection = current_selection()
family = get_family(selection.family)
st.title(selection.title)
st.caption(f"{family.summary}  \nPaper: {family.paper}")

with section("analysis"):
    analysis = network.analysis_of(selection)
if analysis is None:
    st.stop()

with section("totals"):
    network.totals(analysis)
with section("measured"):
    measurement = measured.switch(selection, analysis, key="explore")
    if measurement is not None:
        measured.totals(measurement)
with section("published"):
    network.published(analysis)

idea = views().get(selection.family)
names = ["Layer graph", "Shapes and parameters"] + (["The idea"] if idea else []) + ["PyTorch code"]
# Every tab runs on every rerun, as st.tabs does by default. Running only the open one (on_change="rerun",
# .open) made each rerun reach the screen about 130 ms later in Chromium (input size, VGG-16: 267-280 ms p50
# against 147-162 ms; benchmarks/bench_browser.py), more than the closed tabs cost: they are cached instead.
tabs = st.tabs(names + (["Measured time"] if measurement else []))
tab_graph, tab_table = tabs[:2]
with tab_graph, section("graph"):
    heat = measured.heat(measurement) if measurement else None
    if heat:
        st.caption("Nodes shaded white to red by their measured time.")
    graphs.graph(analysis, key="explore.graph", row_heat=heat)
with tab_table, section("table"):
    st.caption(
        "One row per layer call (a module called twice is two rows). Select a row to see its "
        "pen-and-paper derivation beside what PyTorch measured."
    )
    row = network.table(analysis, key="explore", measurement=measurement)
    network.derivation(row)
if idea:
    with tabs[2], section("idea"):
        try:
            idea(selection, analysis)
        except ExplorerError as e:  # a view's own widgets (calculators, sliders) can ask for an impossible layer
            notices.show_error(e)
if measurement:
    with tabs[-1], section("measured chart"):
        measured.chart(measurement, key="explore")
with tabs[len(names) - 1], section("code"):
    labs.export_section(selection.name, selection.input_shape, selection.knobs, key="explore.code")
