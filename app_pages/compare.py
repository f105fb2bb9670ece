"""Compare: VGG configurations A to E beside the paper's Table 2, and presets across families."""

import streamlit as st

from explorer import all_presets, analyze
from explorer.analysis.compare import compare, default_selection, table_8
from explorer.analysis.report import shape_text
from explorer.errors import ExplorerError
from explorer.families.vgg import CONFIGS
from explorer.live import latency
from explorer.reference import LATENCY_LITERATURE, MNASNET_PHONE_LATENCY, VGG_TABLE_2
from ui import charts, notices
from ui.notices import show_error
from ui.sidebar import current_selection


def vgg_view(selection) -> None:
    st.subheader("VGG configurations A to E")
    vgg_knobs = {k: v for k, v in selection.knobs.items() if k != "config"} if selection.family == "vgg" else {}
    shape = selection.input_shape
    st.caption(
        f"Input {'x'.join(map(str, shape))} from the sidebar"
        + (
            f", with the sidebar's VGG knobs ({', '.join(f'{k}={v}' for k, v in vgg_knobs.items())})"
            if vgg_knobs
            else ", VGG's default knobs (pick the VGG family in the sidebar to change them)"
        )
        + ". Table 2 of the paper counts parameters at 224x224 with 1000 classes."
    )

    rows, here = [], {}
    try:
        for config in CONFIGS:
            here[config] = analyze("vgg", shape, **{**vgg_knobs, "config": config})
            at_224 = analyze("vgg", (3, 224, 224), config=config)
            rows.append(
                {
                    "configuration": config,
                    "weight layers": here[config].totals.weight_layers,
                    "params (this input)": here[config].totals.params,
                    "mult-adds (this input)": here[config].totals.mult_adds,
                    "params at 224": at_224.totals.params,
                    "Table 2 (millions)": VGG_TABLE_2[config],
                    "ours at 224, millions": round(at_224.totals.params / 1e6),
                }
            )
    except ExplorerError as e:
        notices.show_error(e)
        return

    st.plotly_chart(
        charts.vgg_params(
            CONFIGS, [r["params (this input)"] / 1e6 for r in rows], [r["Table 2 (millions)"] for r in rows], shape
        ),
        key="compare.vgg.params",
    )
    st.plotly_chart(charts.vgg_mult_adds(CONFIGS, [r["mult-adds (this input)"] for r in rows]), key="compare.vgg.madds")
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            c: st.column_config.NumberColumn(format="localized")
            for c in ("params (this input)", "mult-adds (this input)", "params at 224")
        },
    )
    here_d = here["D"]
    fc = [r for r in here_d.rows if r.kind == "linear"]
    fc_share = sum(r.params for r in fc) / here_d.totals.params
    small, large = rows[0]["params (this input)"], rows[-1]["params (this input)"]
    st.markdown(
        f"From A to E the depth grows from {rows[0]['weight layers']} to {rows[-1]['weight layers']} weight "
        f"layers and the parameters by "
        f"{(large - small) / small:.0%} at this input. In configuration D the three fully connected layers "
        f"hold **{fc_share:.0%}** of the parameters, the first one alone "
        f"{fc[0].params / here_d.totals.params:.0%} (its input is the last pool's "
        f"{'x'.join(map(str, fc[0].input_shape))} output, so it grows with the input size: compare 32x32 "
        f"with 224x224)."
    )


@st.cache_data(show_spinner="Analysing the presets…", max_entries=32)
def _entries(names: tuple):
    return compare(names)


def across_families() -> None:
    st.subheader("Parameters against multiply-adds, across families")
    presets = all_presets()
    chosen = st.multiselect(
        "Presets",
        list(presets),
        default=default_selection(),
        key="compare.presets",
        format_func=lambda n: presets[n].title,
    )
    if not chosen:
        st.info("Pick one or more presets to compare.")
        return
    try:
        entries = _entries(tuple(chosen))
    except ExplorerError as e:
        show_error(e)
        return
    points = table_8()
    st.plotly_chart(charts.params_against_mult_adds(entries, points), key="compare.families.scatter")
    st.caption(
        "Each preset is analysed at its own natural input: 224x224 for ImageNet networks (1000 classes), "
        "32x32 for CIFAR ones; the 'input' column says which. The diamonds are the MobileNet paper's "
        "published figures (Table 8), shown beside our analyses, not computed."
    )
    rows = [
        {
            "preset": e.preset,
            "network": e.title,
            "input": shape_text(e.input_shape),
            "dataset": e.dataset,
            "input chosen by": e.why,
            "depth (weight layers on the longest path)": e.depth,
            "weight layers (all)": e.weight_layers,
            "parameters": e.params,
            "multiply-adds": e.mult_adds,
            "parameter memory (fp32)": f"{e.param_mb:,.1f} MB",
        }
        for e in entries
    ]
    st.dataframe(
        rows,
        hide_index=True,
        key="compare.families.table",
        column_config={n: st.column_config.NumberColumn(format="localized") for n in ("parameters", "multiply-adds")},
    )
    ours = {e.preset: e for e in entries}
    lines = [
        f"- **{p.model}**: published {p.mult_adds / 1e6:,.0f}M mult-adds, {p.params / 1e6:g}M parameters; "
        + (
            f"ours ({p.preset}) {ours[p.preset].mult_adds / 1e6:,.0f}M and {ours[p.preset].params / 1e6:.2f}M "
            f"({ours[p.preset].mult_adds / p.mult_adds - 1:+.1%}, {ours[p.preset].params / p.params - 1:+.1%})"
            if p.preset in ours
            else f"add '{p.preset}' to the selection to see ours"
            if p.preset in presets
            else f"no '{p.preset}' preset in this build"
        )
        for p in points
    ]
    st.markdown("\n".join(lines))


MEASURE_BUDGET_S = 90.0  # the most one click may spend measuring, split over the chosen presets
MEASURE_DEFAULT = ("mobilenet_v1", "mobilenet_v1_050", "mobilenet_v2", "squeezenet1_1", "nasnet_a_mobile")


def _measure_all(names, shape) -> dict:
    """{preset: (analysis, Measurement)}, or raises the first refusal; each preset gets its share of the budget."""
    cap = MEASURE_BUDGET_S / len(names)
    analyses = {n: analyze(n, shape) for n in names}
    for a in analyses.values():
        latency.check_request(a, 1, cap)
    bar = st.progress(0.0, text="Measuring…")
    out = {}
    for i, n in enumerate(names):
        bar.progress(i / len(names), text=f"Measuring {analyses[n].title or n} ({i + 1} of {len(names)})")
        out[n] = (analyses[n], latency.measure(n, shape, cap_s=cap))
    bar.empty()
    return out


def measured_view() -> None:
    st.subheader("Multiply-adds are not speed: measured latency")
    st.caption(" ".join(f"{c.claim} ({c.source})" for c in LATENCY_LITERATURE[:2]))
    presets = all_presets()
    chosen = st.multiselect(
        "Presets to measure",
        list(presets),
        default=[n for n in MEASURE_DEFAULT if n in presets],
        key="compare.measure.presets",
        format_func=lambda n: presets[n].title,
    )
    side = st.select_slider("Input side (the same for all)", (64, 96, 128, 160, 192, 224), 224, key="compare.side")
    if not chosen:
        st.info("Pick one or more presets to measure.")
        return
    shape = (3, side, side)
    cached = {n: latency.cached(n, shape, cap_s=MEASURE_BUDGET_S / len(chosen)) for n in chosen}
    if any(v is None for v in cached.values()) and not st.button(
        f"Measure {len(chosen)} presets at {side}x{side} (at most {MEASURE_BUDGET_S:g} s)", key="compare.measure.go"
    ):
        st.caption("Measurement runs each network with real weights on this server's CPU, one thread, batch 1.")
        return
    try:
        results = _measure_all(tuple(chosen), shape)
    except ExplorerError as e:
        show_error(e)
        return
    by_ma = sorted(chosen, key=lambda n: results[n][0].totals.mult_adds)
    by_time = sorted(chosen, key=lambda n: results[n][1].whole.median)
    flips = latency.rank_flips({n: (results[n][0].totals.mult_adds, results[n][1].whole) for n in chosen})
    flipped = {n for pair in flips for n in pair}
    rows = [
        {
            "preset": n,
            "parameters": a.totals.params,
            "multiply-adds": a.totals.mult_adds,
            "median ms": round(m.whole.median, 2),
            "quartiles ms": f"{m.whole.low:.2f}-{m.whole.high:.2f}",
            "peak activations (MB, measured)": round(m.peak_activation_bytes / 2**20, 2)
            if m.peak_activation_bytes
            else None,
            "rank by multiply-adds": by_ma.index(n) + 1,
            "rank by latency": by_time.index(n) + 1,
            "order flips": "⚠ yes" if n in flipped else "",
        }
        for n, (a, m) in results.items()
    ]
    st.dataframe(
        rows,
        hide_index=True,
        key="compare.measure.table",
        column_config={n: st.column_config.NumberColumn(format="localized") for n in ("parameters", "multiply-adds")},
    )
    machine = next(iter(results.values()))[1]
    load = f", load average {machine.load[0]:.2f}" if machine.load else ""
    st.caption(f"Measured on {machine.machine.text()}{load}. Ranks by median; see the flips below for what is ranked.")
    if flips:
        st.markdown(
            "\n".join(
                f"- **{a}** has fewer multiply-adds ({results[a][0].totals.mult_adds / 1e6:,.0f}M against "
                f"{results[b][0].totals.mult_adds / 1e6:,.0f}M) but is slower than **{b}** here: "
                f"{results[a][1].whole.median:,.2f} against {results[b][1].whole.median:,.2f} ms, spreads apart."
                for a, b in flips
            )
        )
    else:
        st.markdown("No pair ranks differently by multiply-adds and by measured time, where the spreads are apart.")
    close = [
        (a, b)
        for i, a in enumerate(chosen)
        for b in chosen[i + 1 :]
        if latency.order(results[a][1].whole, results[b][1].whole) == 0
    ]
    if close:
        st.caption("Indistinguishable here (spreads overlap): " + ", ".join(f"{a} and {b}" for a, b in close) + ".")
    phone = [p for k, p in MNASNET_PHONE_LATENCY.items() if k in results]
    if phone:
        st.caption(
            "Published, on a Pixel 1 phone (MnasNet, Table 1): "
            + "; ".join(f"{p['model']} {p['mult_adds'] / 1e6:.0f}M multiply-adds, {p['latency_ms']} ms" for p in phone)
            + "."
        )


selection = current_selection()
st.title("Compare architectures")
tab_vgg, tab_families, tab_measured = st.tabs(["VGG A to E", "Across families", "Measured latency"])
with tab_vgg:
    vgg_view(selection)
with tab_families:
    across_families()
with tab_measured:
    measured_view()
