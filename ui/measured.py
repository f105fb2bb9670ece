"""Measured latency on screen: the opt-in switch with its cost estimate and progress bar, the totals, the
table's columns, the share chart and the sentence computed from the measurement (explorer.live.latency)."""

from __future__ import annotations

import streamlit as st

from explorer.errors import ExplorerError
from explorer.live import latency
from explorer.reference import LATENCY_LITERATURE
from ui import charts
from ui.notices import show_error


def switch(selection, analysis, key: str):
    """The "measured" toggle: None when off or refused (after one sentence), else the Measurement."""
    on = st.toggle(
        "Measured latency",
        key=f"{key}.measured",
        help="Runs the network with real weights on this server's CPU, one image at a time, and times every layer.",
    )
    if not on:
        return None
    threads = st.radio(
        "CPU threads", (1, 2), horizontal=True, key=f"{key}.threads", help="Fixed for the whole measurement."
    )
    try:
        found = latency.cached(selection.name, selection.input_shape, threads=threads, **selection.knobs)
        if found is not None:
            return found
        cost = latency.check_request(analysis, threads, latency.CAP_S)
        bar = st.progress(0.0, text=f"Measuring: {cost.text()}")
        result = latency.measure(
            selection.name,
            selection.input_shape,
            threads=threads,
            progress=lambda f, text: bar.progress(f, text=f"Measuring: {text}"),
            **selection.knobs,
        )
        bar.empty()
        return result
    except ExplorerError as e:
        show_error(e)
    return None


def totals(m) -> None:
    cols = st.columns(3)
    cols[0].metric(
        "Median latency (1 image)",
        f"{m.whole.median:,.2f} ms",
        help=f"Quartiles {m.whole.low:,.2f}-{m.whole.high:,.2f} ms over {m.whole.runs} runs.",
    )
    cols[1].metric(
        "Multiply-adds per second",
        f"{m.rate / 1e9:,.2f} G",
        help="The network's multiply-adds divided by its median latency: the rate this CPU achieved.",
    )
    peak = m.peak_activation_bytes
    cols[2].metric(
        "Peak activation memory",
        f"{peak / 2**20:,.2f} MB" if peak is not None else "not reported",
        help="Measured by torch.profiler during one inference forward (what is alive at once), not computed.",
    )
    load = f", load average {m.load[0]:.2f}" if m.load else ""
    cuda = f" · on the GPU: {m.cuda.text()}" if m.cuda else ""
    st.caption(
        f"Spread: quartiles {m.whole.low:,.2f}-{m.whole.high:,.2f} ms over {m.whole.runs} runs · "
        f"{m.machine.text()}{load}{cuda}. {m.coherence()}"
    )


def columns(records: list[dict], m) -> list[dict]:
    """The table's records with the measured columns added (rows not called get none)."""
    by_row = m.by_row()
    out = []
    for rec in records:
        t = by_row.get(rec["#"])
        extra = (
            {
                "median ms": round(t.time.median, 4),
                "quartiles ms": f"{t.time.low:.3f}-{t.time.high:.3f}",
                "share of time": round(t.share, 4),
                "G mult-adds/s": round(t.rate / 1e9, 2) if t.rate else None,
            }
            if t
            else {"median ms": None, "quartiles ms": "", "share of time": None, "G mult-adds/s": None}
        )
        out.append({**rec, **extra})
    return out


def heat(m) -> dict:
    return {t.row: t.time.median for t in m.layers}


def chart(m, key: str) -> None:
    st.plotly_chart(charts.share_of_mult_adds_against_time(m), key=f"{key}.shares")
    st.markdown(latency.claim_sentence(m))
    st.caption("  \n".join(f"{p.claim} ({p.source})" for p in LATENCY_LITERATURE))
