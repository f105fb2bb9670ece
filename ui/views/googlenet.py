"""GoogLeNet's "The idea" tab: the Inception module, its cost beside the paper's Table 1, and the 1x1 calculator."""

from __future__ import annotations

import streamlit as st

from explorer import analyze
from explorer.analysis.report import human, shape_text
from explorer.errors import ExplorerError
from explorer.families.googlenet import (
    INCEPTION,
    PAPER_INPUT,
    TITLES,
    WIDTH_NAMES,
    aux_params,
    module_costs,
    reduction_saving,
)
from explorer.reference import GOOGLENET_TABLE_1, GOOGLENET_TABLE_1_SOURCE, MOBILENET_TABLE_8
from ui import graphs
from ui.network import _use_setting as use_input
from ui.notices import show_error
from ui.sidebar import number_box

FAMILY = "googlenet"
CALC_DEFAULT = ("inception3a", 192, 28)  # the calculator opens on inception (3a): 192 channels of 28x28


def render(selection, analysis) -> None:
    if tuple(analysis.input_shape) != PAPER_INPUT:
        fifth = next(r for r in analysis.rows if r.name.startswith("inception5a.")).input_shape
        st.info(
            f"GoogLeNet was designed for 224x224 inputs (Table 1). At {shape_text(analysis.input_shape)} the "
            f"maps entering inception (5a) are {fifth[1]}x{fifth[2]} instead of 7x7, so the multiply-adds "
            f"shrink while the parameters stay the same."
        )
        st.button("Analyse at 3x224x224", key="googlenet.at224", on_click=use_input, args=(PAPER_INPUT,))
    module_view(analysis)
    st.divider()
    table_1_view(analysis)
    st.divider()
    calculator()


def module_view(analysis) -> None:
    st.subheader("The Inception module")
    kernel = analysis.resolved.get("branch3_kernel", 5)
    names = list(INCEPTION)
    name = st.selectbox("Module", names, format_func=TITLES.get, key="googlenet.module")
    rows = [r for r in analysis.rows if r.name.startswith(name + ".")]
    inp, out = rows[0].input_shape, rows[-1].output_shape
    widths = INCEPTION[name]
    left, right = st.columns([1, 1])
    left.graphviz_chart(graphs.inception_module(inp[0], widths, inp[1], TITLES[name], kernel))
    branches = []
    for b, what in enumerate(
        ("1x1", "1x1 reduce → 3x3", f"1x1 reduce → {kernel}x{kernel}", "3x3 max pool → 1x1 proj"), start=1
    ):
        mine = [r for r in rows if r.name.startswith(f"{name}.branch{b}.")]
        branches.append(
            {
                "branch": f"branch{b}: {what}",
                "output": shape_text(mine[-1].output_shape),
                "params": sum(r.params for r in mine),
                "mult-adds": sum(r.mult_adds for r in mine),
            }
        )
    right.dataframe(branches, hide_index=True, column_config=_number_columns("params", "mult-adds"))
    right.markdown("Table 1 widths: " + ", ".join(f"{n} **{w}**" for n, w in zip(WIDTH_NAMES, widths)) + ".")
    right.caption(
        f"At this input the module takes {shape_text(inp)} and its concatenation gives "
        f"{shape_text(out)}: {' + '.join(b['output'].split('x')[0] for b in branches)} "
        f"= {out[0]} channels. The 3x3 and {kernel}x{kernel} branches are padded so all four keep "
        f"{inp[1]}x{inp[2]}."
    )


def _number_columns(*names):
    return {n: st.column_config.NumberColumn(format="localized") for n in names}


@st.cache_data(show_spinner=False, max_entries=16)
def _paper_setting(batch_norm: bool, branch3_kernel: int, aux_logits: bool):
    a = analyze(
        "googlenet",
        PAPER_INPUT,
        batch_norm=batch_norm,
        branch3_kernel=branch3_kernel,
        aux_logits=aux_logits,
        num_classes=1000,
    )
    return module_costs(a), aux_params(a), a.totals.params, a.totals.mult_adds


def table_1_view(analysis) -> None:
    st.subheader("Per module, beside the paper's Table 1")
    k = analysis.resolved
    costs, aux, total_params, total_madds = _paper_setting(k["batch_norm"], k["branch3_kernel"], k["aux_logits"])
    st.caption(
        f"Ours: explorer.analyze at Table 1's setting (3x224x224, 1000 classes) with this page's "
        f"batch norm and '5x5' kernel knobs. Printed: {GOOGLENET_TABLE_1_SOURCE}, the params and ops "
        f"columns as published (K and M as printed)."
    )
    unit = costs[-1].weights / GOOGLENET_TABLE_1["fc"][0]
    rows = [
        {
            "Table 1 row": c.title,
            "output": shape_text(c.output_shape),
            "our params": c.params,
            "our weights (K)": round(c.weights / unit, 1),
            "printed params (K)": c.printed_k,
            "our mult-adds (M)": round(c.mult_adds / 1e6, 1),
            "printed ops (M)": c.printed_ops_m,
            "agrees": c.agrees,
        }
        for c in costs
    ]
    if aux:
        rows.append(
            {
                "Table 1 row": "auxiliary classifiers (training only)",
                "output": "not called",
                "our params": aux,
                "our weights (K)": None,
                "printed params (K)": None,
                "our mult-adds (M)": 0.0,
                "printed ops (M)": None,
                "agrees": None,
            }
        )
    rows.append(
        {
            "Table 1 row": "total",
            "output": "1000",
            "our params": total_params,
            "our weights (K)": round(sum(c.weights for c in costs) / unit, 1),
            "printed params (K)": round(sum(v[0] for v in GOOGLENET_TABLE_1.values()), 1),
            "our mult-adds (M)": round(total_madds / 1e6, 1),
            "printed ops (M)": sum(v[1] for v in GOOGLENET_TABLE_1.values()),
            "agrees": None,
        }
    )
    st.dataframe(
        rows,
        hide_index=True,
        key="googlenet.table1",
        height=35 * (len(rows) + 1) + 3,
        column_config={
            **_number_columns("our params", "our weights (K)", "printed params (K)"),
            "agrees": st.column_config.CheckboxColumn(
                "agrees",
                help="Our weight count and multiply-adds agree with "
                "the printed params and ops to the table's rounding.",
            ),
        },
    )
    st.markdown("**Where and why our counts differ**")
    st.markdown("\n".join(f"- **{c.title}**: {c.note}" for c in costs))
    agree = sum(c.agrees for c in costs)
    _, _, table_8_madds, table_8_params = next(row for row in MOBILENET_TABLE_8 if row[1] == "googlenet")
    st.markdown(
        f"- **The unit**: the linear row's {costs[-1].weights:,} weights print as "
        f"{GOOGLENET_TABLE_1['fc'][0]:g}K, so Table 1's K is {unit:,.0f}; {agree} of {len(costs)} rows agree with "
        f"our weight counts to its rounding.\n"
        f"- **Auxiliary classifiers**: Table 1 leaves them out (Section 5 describes them). "
        + (
            f"With them on, our totals include their {aux:,} parameters ({aux / total_params:.0%} of "
            f"{total_params:,}), listed as 'unused' rows because the forward pass of inference never calls them; "
            f"they add no inference multiply-adds."
            if aux
            else "Switch 'auxiliary classifiers' on in the sidebar to count their parameters."
        )
        + f"\n- **MobileNet Table 8** prints GoogLeNet at {table_8_params:g}M parameters and "
        f"{table_8_madds:,}M mult-adds; this params column adds up to "
        f"{sum(v[0] for v in GOOGLENET_TABLE_1.values()):,.1f}K and its ops column to "
        f"{sum(v[1] for v in GOOGLENET_TABLE_1.values()):,}M. Ours: {total_params:,} parameters and "
        f"{total_madds / 1e6:,.0f}M multiply-adds."
    )


def calculator() -> None:
    st.subheader("Inception module calculator")
    st.caption(
        "Set the input and the six widths (defaults: inception (3a)). Both modules are built with "
        "PyTorch and counted live: the module of Figure 2(b), with 1x1 reductions, against the naive "
        "module of Figure 2(a), whose 3x3 and 5x5 convolutions and pool see all input channels."
    )
    name, in_default, side_default = CALC_DEFAULT
    top = st.columns(3)
    # the float boxes the calculator judges (ui.sidebar.number_box): '1e9' and '12.5' are refused, not read as 1 and 12
    channels = number_box(top[0], "Input channels", in_default, key="googlenet.calc.in")
    side = number_box(top[1], "Input side (H = W)", side_default, key="googlenet.calc.side")
    kernel = top[2].radio("'5x5' branch kernel", (5, 3), horizontal=True, key="googlenet.calc.kernel")
    cols = st.columns(6)
    widths = tuple(
        number_box(col, label, value, key=f"googlenet.calc.w{i}")
        for i, (col, label, value) in enumerate(zip(cols, WIDTH_NAMES, INCEPTION[name]))
    )
    try:
        saving = reduction_saving(channels, widths, side, int(kernel))
    except ExplorerError as e:
        show_error(e)
        return
    reduced, naive = saving.reduced, saving.naive
    m = st.columns(3)
    m[0].metric(
        "Parameters, with 1x1 reductions",
        f"{reduced.params:,}",
        delta=f"{-saving.params_saved:.1%} vs naive",
        delta_color="inverse",
    )
    m[1].metric("Parameters, naive module", f"{naive.params:,}")
    m[2].metric(
        "Parameter saving",
        f"{naive.params - reduced.params:,}",
        help="Naive minus reduced: what the 1x1 reductions save.",
    )
    m = st.columns(3)
    m[0].metric(
        "Multiply-adds, with 1x1 reductions",
        human(reduced.mult_adds),
        delta=f"{-saving.mult_adds_saved:.1%} vs naive",
        delta_color="inverse",
    )
    m[1].metric("Multiply-adds, naive module", human(naive.mult_adds))
    m[2].metric(
        "Output channels (reduced / naive)",
        f"{reduced.out_channels} / {naive.out_channels}",
        help="The naive module's pool branch passes all input channels through, so its output grows "
        "from module to module (Section 4).",
    )
    left, right = st.columns(2)
    left.caption("With 1x1 reductions (Figure 2b)")
    left.graphviz_chart(graphs.inception_module(int(channels), widths, int(side), "input", int(kernel)))
    right.caption("Naive (Figure 2a)")
    right.graphviz_chart(
        graphs.inception_module(int(channels), widths, int(side), "input", int(kernel), reductions=False)
    )
