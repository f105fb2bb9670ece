"""The lecture path on screen: one step at a time, the live result first, then the view that tests the claim.

The step data and verdict sentences live in explorer/lecture.py; the views are the app's own (ui/views,
ui/graphs, ui/charts, ui/experiments), called here, never reimplemented. The step is in the URL
(?step=densenet); Previous and Next answer the arrow keys (st.button(shortcut="left"/"right")).
"""

from __future__ import annotations

from types import SimpleNamespace

import streamlit as st

from explorer import all_families, analyze, get_family
from explorer import lecture as L
from explorer.errors import ExplorerError
from explorer.experiments import cached_outcome, get_experiment
from explorer.families import resnet_paths
from ui import charts, graphs, network, presenter
from ui import experiments as ux
from ui.notices import show_error
from ui.sidebar import Selection, knob_widget
from ui.views import views

STEP = "lecture.step"
CHARTS = {  # the experiment's own figure from ui/charts, drawn under the verdict
    "prune": charts.pruning_curve,
    "transfer-cut": lambda result: charts.accuracy_against_cuts(result, None),
}


def current_index() -> int:
    """The step from the session, else from ?step= (a bad one is said in one sentence, and step 1 shown)."""
    if STEP not in st.session_state:
        try:
            st.session_state[STEP] = L.step_index(st.query_params.get("step"))
        except ExplorerError as e:
            show_error(e)
            st.session_state[STEP] = 0
    return st.session_state[STEP]


def _go(index: int) -> None:
    st.session_state[STEP] = max(0, min(len(L.STEPS) - 1, index))


def navigation(index: int) -> None:
    """Previous, Next and the step list; in presenter mode the exit button and the theme switch join the row."""
    presenting = presenter.presenting()
    cols = st.columns([1.9, 1.5, 4.2, 2.1, 1.1] if presenting else [1, 1, 5])
    cols[0].button(
        "◀ Previous", key="lecture.prev", shortcut="left", disabled=index == 0, on_click=_go, args=(index - 1,)
    )
    cols[1].button(
        "Next ▶",
        key="lecture.next",
        shortcut="right",
        type="primary",
        disabled=index == len(L.STEPS) - 1,
        on_click=_go,
        args=(index + 1,),
    )
    cols[2].selectbox(
        "Step",
        range(len(L.STEPS)),
        index=index,
        key=f"lecture.jump.{index}",
        format_func=lambda i: f"{i + 1}. {L.STEPS[i].topic}: {L.STEPS[i].title}",
        label_visibility="collapsed",
        on_change=lambda: _go(st.session_state[f"lecture.jump.{index}"]),
    )
    if presenting:
        presenter.controls(cols[3], cols[4])


def header(index: int, step: L.Step) -> None:
    st.markdown(f"#### {index + 1}/{len(L.STEPS)} · {step.topic}: {step.title}")
    st.markdown(f"**The slide:** {step.claim}")


def verdict(sentence: str) -> None:
    st.success(f"**What the live result says:** {sentence}", icon=":material/science:")


def notes(step: L.Step) -> None:
    cols = st.columns(2 if step.slide_says else 1)
    cols[0].info(f"**Try this:** {step.prompt}", icon=":material/touch_app:")
    if step.slide_says:
        cols[1].warning("**The slide says:** " + " ".join(step.slide_says), icon=":material/rule:")


def _knob(step: L.Step):
    if not step.knob:
        return None
    family = get_family(family_of(step))
    knob = family.knob(step.knob)
    namespace = SimpleNamespace(name=f"lecture.{step.slug}")  # widget key lecture.<slug>.<knob>, own to the step
    key = f"{namespace.name}.{knob.name}"
    if key not in st.session_state:
        preset = family.presets.get(step.preset)
        st.session_state[key] = (preset.knobs if preset else {}).get(knob.name, knob.default)
    return knob_widget(st, namespace, knob)


def family_of(step: L.Step) -> str:
    return next((f.name for f in all_families().values() if step.preset in f.presets), step.preset)


def analysis_step(step: L.Step) -> None:
    value = _knob(step)
    try:
        analysis = analyze(step.preset, step.input_shape, **L.analysis_knobs(step, value))
    except ExplorerError as e:
        show_error(e)
        return
    verdict(step.verdict(analysis))
    notes(step)
    family = family_of(step)
    tabs = st.tabs(["Layer graph"] + (["The idea"] if step.idea and family in views() else []) + ["Totals"])
    with tabs[0]:
        graphs.graph(analysis, key=f"lecture.{step.slug}.graph")
    if len(tabs) == 3:
        with tabs[1]:
            selection = Selection(family, step.preset, dict(analysis.resolved), step.input_shape)
            try:
                views()[family](selection, analysis)
            except ExplorerError as e:
                show_error(e)
    with tabs[-1]:
        network.totals(analysis)


def paths_step(step: L.Step) -> None:
    key = "lecture.paths.blocks"
    st.session_state.setdefault(key, 3)
    n = st.slider("Residual blocks N", 1, resnet_paths.MAX_PAGE_BLOCKS, key=key)
    verdict(step.verdict(n))
    notes(step)
    if n <= resnet_paths.MAX_EXPRESSION_BLOCKS:
        st.latex(resnet_paths.unravelled_latex(n))
    if n <= resnet_paths.MAX_GRAPH_BLOCKS:
        st.graphviz_chart(graphs.unravelled_dot(n, set()))


def experiment_step(step: L.Step) -> None:
    outcomes = L.outcomes_for(step)
    if outcomes is None:
        experiment = get_experiment(step.experiment)
        st.warning(
            f"{experiment.title} has not been computed at the lecture's settings yet: press the button (it trains "
            "for a few seconds to a minute), or run Prepare for class before the lecture."
        )
        if st.button("Compute now", type="primary", key=f"lecture.{step.slug}.run"):
            bar = st.progress(0.0, text="Starting…")
            try:
                L.prepare_step(step, lambda f, text: bar.progress(min(1.0, f), text=text))
            except Exception as e:  # one sentence, never a traceback
                show_error(e)
                return
            st.rerun()
        notes(step)
        return
    try:
        verdict(step.verdict(outcomes))
    except (KeyError, StopIteration) as e:
        st.error(f"The stored result lacks {e}: it was computed by an older version; run Prepare for class again.")
    notes(step)
    findings = L.FINDINGS.get(step.experiment)
    draw = CHARTS.get(step.experiment)
    left, right = st.columns([1, 1]) if draw else (st.container(), None)
    with left:
        for outcome in outcomes:
            if findings:
                ux.bullets(findings(outcome.result))
        st.caption(ux.timing_caption(outcomes[0]))
    if draw:
        with right:
            st.plotly_chart(draw(outcomes[-1].result), key=f"lecture.{step.slug}.chart")


def page_link(step: L.Step) -> None:
    if step.page:
        st.page_link(f"app_pages/{step.page.replace('-', '_')}.py", label="Open the full page with every control")


def show() -> None:
    index = current_index()
    step = L.STEPS[index]
    st.query_params["step"] = step.slug
    navigation(index)
    header(index, step)
    {L.ANALYSIS: analysis_step, L.PATHS: paths_step, L.EXPERIMENT: experiment_step}[step.view](step)
    if not presenter.presenting():
        page_link(step)


def prepare_button() -> None:
    """Prepare for class: every experiment of the path, one progress bar with the time left, then the report."""
    runs = L.experiment_runs()
    missing = [r for r in runs if cached_outcome(r[0], r[1]) is None]
    with st.expander(f"Prepare for class ({len(runs) - len(missing)} of {len(runs)} experiment runs ready)"):
        st.caption(
            "Runs every experiment the lecture path uses, at the lecture's settings, so that in class each step "
            "loads from the disk cache in under a second. Same as `python -m explorer prepare`."
        )
        if st.button("Prepare for class", key="lecture.prepare", disabled=not missing):
            bar = st.progress(0.0, text="Looking for cached results…")
            try:
                done = L.prepare(lambda f, text: bar.progress(min(1.0, f), text=text))
            except Exception as e:  # one sentence, never a traceback
                show_error(e)
                return
            st.code(L.prepared_report(done), language=None)
