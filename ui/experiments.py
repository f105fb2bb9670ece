"""Streamlit helpers for live experiments: knob widgets, a progress bar, run-or-load with errors shown.

Runs go through the server's job backend (explorer.live.jobs): a session pressing the button for settings
another session is already training attaches to that run's progress bar (and sees it without pressing),
a session beyond the server's concurrent trainings sees its place in the queue and the estimated wait.

experiment = get_experiment("layer-removal")
values = knob_widgets(experiment)                       # one widget per declared knob
outcome = outcome_for(experiment, values, start=st.button("Train"))
"""

from __future__ import annotations

import time

import streamlit as st

from explorer.errors import ExplorerError
from explorer.experiments import Experiment, Outcome, cached_outcome
from explorer.live import cache, jobs
from ui.notices import show_error
from ui.sidebar import knob_widget

VARIANTS = "edge.variants"  # every variant made in this session: name -> record (the latest measurement)


def knob_widgets(experiment: Experiment, columns: int = 3, only: tuple[str, ...] | None = None) -> dict:
    """The experiment's knobs as widgets (the sidebar's generator), keyed '<experiment>.<knob>', in columns.

    A link can set them: ?layer-removal.depth=20 (names are namespaced, so the sidebar's own URL keys,
    which include family knobs called depth and width, never collide). Values differing from the
    defaults are written back into the URL, so a teacher can share a link to an exact experiment.
    """
    knobs = [k for k in experiment.knobs if only is None or k.name in only]
    _restore_from_url(experiment, knobs)
    cells = st.columns(columns)
    values = {k.name: knob_widget(cells[i % columns], experiment, k) for i, k in enumerate(knobs)}
    for k in knobs:
        url_key = f"{experiment.name}.{k.name}"
        if values[k.name] != k.default:
            st.query_params[url_key] = k.format(values[k.name])
        elif url_key in st.query_params:
            del st.query_params[url_key]
    return values


def _restore_from_url(experiment: Experiment, knobs) -> None:
    """On the page's first run in this session, take knob values from the link (bad ones are ignored)."""
    flag = f"{experiment.name}.url.restored"
    if st.session_state.get(flag):
        return
    st.session_state[flag] = True
    for k in knobs:
        url_key = f"{experiment.name}.{k.name}"
        if url_key in st.query_params:
            try:
                st.session_state[url_key] = k.coerce(st.query_params[url_key])
            except ExplorerError:
                pass  # the widget keeps its default; the link was wrong, not the student


POLL_SECONDS = 0.25  # how often a waiting page reads its job's progress


def outcome_for(experiment: Experiment, values: dict, button: str, data_dir: str | None = None) -> Outcome | None:
    """The stored outcome for these values; when there is none, a button that runs it through the job backend.

    While the run (this session's, or another session's with the same settings) is queued or training, a
    progress bar follows it: the queue position and estimated wait, then the training's progress. The last
    outcome of the session is remembered, so a knob moved to an uncomputed setting keeps the previous
    figures on screen (the page says which settings they belong to). Errors are one sentence.
    """
    memory = f"{experiment.name}.last"
    try:
        cache.prepare()  # a cache location that is a file or read-only: one sentence before any training
        outcome = cached_outcome(experiment.name, values, data_dir)
        if outcome is None:
            backend = jobs.backend()
            key = experiment.job_key(experiment.check(values), data_dir)
            slot = st.empty()  # the button, then the progress bar in its place
            if backend.status(key).state in ("queued", "running"):
                outcome = follow(backend, key, slot)  # another session started it: attach
            elif slot.button(button, type="primary", key=f"{experiment.name}.run"):
                key = backend.submit(experiment.name, values, data_dir)  # refused at once beyond the budget
                outcome = follow(backend, key, slot)
            if outcome is None:
                outcome = cached_outcome(experiment.name, values, data_dir)
    except Exception as e:  # the project's errors are one sentence; anything else is shown, never a traceback
        show_error(e)
        outcome = None
    if outcome is not None:
        st.session_state[memory] = outcome
        return outcome
    return st.session_state.get(memory)


def follow(backend, key: str, slot) -> Outcome | None:
    """Draw the job's queue position or progress in `slot` until it ends; its outcome (ExplorerError if it failed)."""
    with slot.container():
        bar = st.progress(0.0, text="Starting…")
    shown = None
    while True:
        status = backend.status(key)
        if status.state == "done":
            slot.empty()
            return status.outcome
        if status.state == "failed":
            slot.empty()
            raise ExplorerError(status.error)
        if status.state == "missing":  # finished and forgotten: the disk cache has it (or nothing ran)
            slot.empty()
            return None
        line = (round(status.fraction, 3), status.describe())
        if line != shown:
            bar.progress(min(1.0, status.fraction), text=line[1])
            shown = line
        time.sleep(POLL_SECONDS)


def cifar10_folder(experiment_name: str, values: dict) -> str | None:
    """The CIFAR-10 folder box (key '<experiment>.data_dir') when the dataset knob says cifar10, else None."""
    if values.get("dataset") != "cifar10":
        return None
    return (
        st.text_input(
            "CIFAR-10 folder (the python version: data_batch_1..5, test_batch, batches.meta)",
            key=f"{experiment_name}.data_dir",
            placeholder="/data/cifar-10-batches-py",
        )
        or None
    )


def warn_if_stale(experiment: Experiment, outcome: Outcome, values: dict) -> None:
    """A warning naming the knobs whose widgets moved away from the settings the shown figures were computed with."""
    changed = differing(experiment, outcome, values)
    if changed:
        st.warning(
            f"The figures below were computed with {', '.join(changed)}; press the button for the settings above."
        )


def differing(experiment: Experiment, outcome: Outcome, values: dict) -> list[str]:
    """Knobs whose widget differs from the settings the shown outcome was computed with."""
    try:
        wanted = experiment.check(values)
    except ExplorerError:
        return [k.title for k in experiment.knobs]
    return [
        f"{k.title} {k.format(outcome.settings[k.name])} (not {k.format(wanted[k.name])})"
        for k in experiment.knobs
        if outcome.settings.get(k.name) != wanted.get(k.name)
    ]


def bullets(sentences) -> None:
    """An experiment's findings, one bullet each (one markdown element per sentence, as the tests read them)."""
    for sentence in sentences:
        st.markdown(f"- {sentence}")


def timing_caption(outcome: Outcome, train_seconds: float | None = None) -> str:
    if outcome.from_cache:
        computed = f", computed in {train_seconds:.0f} s of training when first asked for" if train_seconds else ""
        return f"Loaded from the disk cache in {outcome.seconds:.2f} s{computed}."
    return f"Computed live in {outcome.seconds:.1f} s; stored on disk, so the next visit is instant."


def shared_knobs(name: str, knobs: tuple) -> Experiment:
    """A namespace for knobs several experiments share (one set of widgets, keys '<name>.<knob>')."""
    return Experiment(name, name, "", knobs, run=lambda *args: {}, report=str)


def remember_variants(result: dict) -> None:
    """Add an experiment's variants to the session's table (a later measurement of one replaces it)."""
    table = st.session_state.setdefault(VARIANTS, {})
    for record in result.get("variants", []):
        table[record["variant"]] = record


def variants() -> list[dict]:
    return list(st.session_state.get(VARIANTS, {}).values())


def variant_rows() -> list[dict]:
    return [
        {
            "variant": r["variant"],
            "parameters": r["params"],
            "size (MB)": round(r["size_mb"], 3),
            "multiply-adds": r["mult_adds"],
            "accuracy": f"{r['accuracy']:.1%}",
            "latency (ms, 1 image)": round(r["latency_ms"], 3),
            "note": r["note"],
        }
        for r in st.session_state.get(VARIANTS, {}).values()
    ]
