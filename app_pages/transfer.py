"""Transfer learning: "How should I choose the right cut?", answered by fine-tuning live at every cut."""

import streamlit as st

from explorer.experiments import get_experiment
from explorer.experiments.transfer_cut import SCENARIOS, analysis_for, cut_label, findings
from explorer.live import cuts as transfer
from ui import charts, sidebar
from ui import experiments as ux
from ui.graphs import graph

experiment = get_experiment("transfer-cut")
CUT = "transfer-cut.cut"
st.title("Transfer learning: where to cut")
st.caption(f"{experiment.summary} After {experiment.paper}.")

values = ux.knob_widgets(experiment, only=("scenario", "family", "width", "examples", "steps", "epochs"))
notation, title, target = SCENARIOS[values["scenario"]]
st.markdown(
    f"**{notation}**, {title}: the source task is five classes of the source images (0-4); the target is {target}."
)
with st.expander("Source data and seed"):
    values |= ux.knob_widgets(experiment, only=("dataset", "seed"))
    data_dir = ux.cifar10_folder(experiment.name, values)

analysis = analysis_for(values)  # the family and width only: other bad knobs are said below, results kept
presets = transfer.lecture_presets(analysis)
last = len(transfer.weight_layers(analysis)) - 1
st.subheader("The cut")
cols = st.columns(len(presets) + 1)
for col, (name, k) in zip(cols[1:], presets.items()):
    col.button(
        f"{name} (cut {k})",
        key=f"transfer-cut.preset.{name}",
        on_click=st.session_state.update,
        args=({CUT: k},),
        width="stretch",
    )
values["cut"] = sidebar.number_box(  # a box the experiment's knob judges ("1e9" is not 1)
    cols[0],
    f"Weight layers frozen (0 to {last}; empty: the best of the sweep)",
    key=CUT,
    placeholder="auto: the best cut of the sweep",
)
outcome = ux.outcome_for(experiment, values, "Fine-tune at every cut", data_dir)

shown = values["cut"]
if shown is None:
    shown = (
        outcome.result["best_cut"]
        if outcome and outcome.settings["family"] == values["family"]
        else presets["train some layers"]
    )
if isinstance(shown, int) and 0 <= shown <= last:  # else the knob's sentence is above
    cut = transfer.plan(analysis, shown)
    st.caption(
        f"Drawn: cut {shown}, {cut_label(analysis, shown)}"
        + (" (the best of the sweep)" if values["cut"] is None and outcome else "")
    )
    m = st.columns(4)
    m[0].metric("Frozen parameters", f"{cut.frozen_params:,}", help="The first weight layers and their batch norms.")
    m[1].metric(
        "Trainable parameters",
        f"{cut.trainable_params:,}",
        help="Fine-tuned from the source weights, plus the new head.",
    )
    m[2].metric(
        "Feature size at the cut",
        f"{cut.feature_size:,}",
        help="What the frozen part hands to the first "
        f"trained layer: {'×'.join(map(str, cut.feature_shape))} for one image.",
    )
    m[3].metric("New head", f"{cut.head_params:,}", help=f"{cut.head}: a new layer with one output per target class.")
    left, right = st.columns([3, 2])
    with left:
        graph(analysis, "transfer-cut.graph", row_states=cut.row_states)
        st.caption("Grey: frozen; red: fine-tuned from the source weights; green: the new head.")
    with right:
        st.dataframe(
            [
                {
                    "#": layer.position,
                    "layer": layer.row.name,
                    "output": "×".join(map(str, layer.row.output_shape)),
                    "parameters": layer.params,
                    "state": cut.row_states.get(layer.row.index, ""),
                }
                for layer in transfer.weight_layers(analysis)
            ],
            hide_index=True,
            height=420,
        )

if outcome is None:
    st.info(
        "Nothing has been fine-tuned at these settings yet. Press the button: the source network is trained "
        "(or loaded from the disk cache), then fine-tuned at every stage boundary and trained from scratch."
    )
    st.stop()
ux.warn_if_stale(experiment, outcome, values)
result = outcome.result
st.subheader("How should I choose the right cut?")
st.caption(
    f"Source: {result['source']['description']}, {result['source']['train']:,} images, "
    f"{result['source']['accuracy']:.1%} on its test images. Target: {result['target']['description']} "
    f"({', '.join(result['target']['classes'])}), "
    f"{result['target']['labelled']} labelled images, tested on {result['target']['test']:,}. "
    f"{ux.timing_caption(outcome, result['source']['train_seconds'])}"
)
ux.bullets(findings(result))
st.plotly_chart(charts.accuracy_against_cuts(result, shown), key="transfer-cut.by-cut")
st.plotly_chart(charts.accuracy_against_examples(result), key="transfer-cut.by-examples")
with st.expander("Every cut"):
    st.dataframe(
        [
            {
                "cut": r["cut"],
                "frozen up to": r["after"],
                "lecture": r["preset"] or "",
                "frozen parameters": r["frozen_params"],
                "trainable parameters": r["trainable_params"],
                "feature size": "×".join(map(str, r["feature_shape"])),
                "target accuracy": f"{r['accuracy']:.1%}",
            }
            for r in result["cuts"]
        ],
        hide_index=True,
    )
