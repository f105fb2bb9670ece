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
names += ["Measured time"] if measurement else []
# Only the open tab runs (on_change="rerun" + .open): the others cost nothing until the user opens them.
tabs = dict(zip(names, st.tabs(names, key="explore.view", on_change="rerun")))
if tabs["Layer graph"].open:
    with tabs["Layer graph"], section("graph"):
        heat = measured.heat(measurement) if measurement else None
        if heat:
            st.caption("Nodes shaded white to red by their measured time.")
        graphs.graph(analysis, key="explore.graph", row_heat=heat)
if tabs["Shapes and parameters"].open:
    with tabs["Shapes and parameters"], section("table"):
        st.caption(
            "One row per layer call (a module called twice is two rows). Select a row to see its "
            "pen-and-paper derivation beside what PyTorch measured."
        )
        network.table_and_derivation(analysis, key="explore", measurement=measurement)
if idea and tabs["The idea"].open:
    with tabs["The idea"], section("idea"):
        try:
            idea(selection, analysis)
        except ExplorerError as e:  # a view's own widgets (calculators, sliders) can ask for an impossible layer
            notices.show_error(e)
if measurement and tabs["Measured time"].open:
    with tabs["Measured time"], section("measured chart"):
        measured.chart(measurement, key="explore")
if tabs["PyTorch code"].open:
    with tabs["PyTorch code"], section("code"):
        labs.export_section(selection.name, selection.input_shape, selection.knobs, key="explore.code")
