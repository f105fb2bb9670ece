"""Edge computing: quantize, prune, truncate and distill one trained network, live; every variant in one table."""

import streamlit as st

from explorer.experiments import get_experiment
from explorer.experiments.distill import findings_distill
from explorer.experiments.edge_base import NETWORK_KNOBS
from explorer.experiments.prune import findings_prune
from explorer.experiments.quantize import findings_quantize
from explorer.experiments.truncate import findings_truncate
from explorer.live.compression import MB
from ui import charts
from ui import experiments as ux

st.title("Edge computing: lighter networks")
st.caption(
    '"We need to be faster as possible in inference, not in training" (the lecture). One network is '
    "trained on the built-in data (or your CIFAR-10 folder) and cached; each tab makes a lighter variant "
    "of it with PyTorch's own tools and measures it on this CPU."
)
shared = ux.shared_knobs("edge", NETWORK_KNOBS)
network = ux.knob_widgets(shared, columns=6)
data_dir = ux.cifar10_folder(shared.name, network)
TABS = {
    "quantize": "Quantization",
    "prune": "Pruning and its curve",
    "truncate": "Truncation",
    "distill": "Distillation",
}
OWN = {
    "quantize": ("backend", "calibration", "repeats"),
    "prune": ("sparsity", "scope", "finetune_steps", "repeats"),
    "truncate": ("keep", "repeats"),
    "distill": ("student_width", "student_examples", "temperature", "soft_weight", "student_epochs", "repeats"),
}
tabs = st.tabs(list(TABS.values()) + ["Every variant of this session"])


def section(name: str, tab):
    """The experiment's own knobs, its button or stored result, and a warning when the knobs moved since."""
    experiment = get_experiment(name)
    with tab:
        st.caption(f"{experiment.summary} After {experiment.paper}.")
        values = {**network, **ux.knob_widgets(experiment, columns=4, only=OWN[name])}
        outcome = ux.outcome_for(experiment, values, f"Run: {TABS[name].lower()}", data_dir)
        if outcome is None:
            st.info(
                "Not computed at these settings yet: press the button (the base network is trained once, then "
                "loaded from the disk cache by every tab)."
            )
            return None
        ux.warn_if_stale(experiment, outcome, values)
        ux.remember_variants(outcome.result)
        base = outcome.result["base"]
        st.caption(
            f"{base['network']}, {base['params']:,} parameters, on {base['dataset']} ({base['train']:,} "
            f"training and {base['test']:,} test images). {ux.timing_caption(outcome, base['train_seconds'])}"
        )
        return outcome.result


result = section("quantize", tabs[0])
if result:
    with tabs[0]:
        m = st.columns(3)
        m[0].metric(
            "Size, int8",
            f"{result['int8_size_bytes'] / MB:.3f} MB",
            delta=f"{result['size_ratio']:.2f}x smaller than {result['fp32_size_bytes'] / MB:.3f} MB",
            delta_color="off",
            help="Bytes torch.save writes for the state_dict (MB = 2^20 bytes).",
        )
        drop = (result["int8_accuracy"] - result["fp32_accuracy"]) * 100
        m[1].metric(
            "Accuracy, int8",
            f"{result['int8_accuracy']:.1%}",
            delta=f"{drop:+.1f} points from {result['fp32_accuracy']:.1%}",
        )
        m[2].metric(
            "Latency, int8",
            f"{result['int8_latency_ms']:.2f} ms",
            delta=f"{result['speedup']:.2f}x the speed of fp32's {result['fp32_latency_ms']:.2f} ms",
            delta_color="off",
            help="Median of repeated forward passes of one image, one CPU thread.",
        )
        ux.bullets(findings_quantize(result))
        st.caption(f"Method: {result['method']}. Engines in this PyTorch: {', '.join(result['available_backends'])}.")

result = section("prune", tabs[1])
if result:
    with tabs[1]:
        ux.bullets(findings_prune(result))
        st.plotly_chart(charts.pruning_curve(result), key="prune.curve")
        with st.expander("Each layer's sparsity at the chosen setting"):
            shares = result["chosen"]["layer_sparsity"]
            st.dataframe([{"layer": k, "zero weights": f"{v:.1%}"} for k, v in shares.items()], hide_index=True)
        st.caption(
            "Size counted as a sparse format stores it: one bit per weight position (a mask) plus the non-zero "
            "weights at fp32, measured as the bytes torch.save writes; biases and batch norms stay dense."
        )

result = section("truncate", tabs[2])
if result:
    with tabs[2]:
        ux.bullets(findings_truncate(result))
        st.plotly_chart(charts.truncation_chart(result), key="truncate.chart")
        st.dataframe(
            [
                {
                    "cut after": c["after"],
                    "parameters": c["params"],
                    "multiply-adds": c["mult_adds"],
                    "feature": "×".join(map(str, c["feature_shape"])),
                    "accuracy": f"{c['accuracy']:.1%}",
                    "latency (ms)": round(c["latency_ms"], 3),
                }
                for c in result["cuts"]
            ],
            hide_index=True,
        )

result = section("distill", tabs[3])
if result:
    with tabs[3]:
        shown = [
            ("teacher", "Teacher"),
            ("labels", "Student, labels only"),
            ("distilled", "Student, soft targets + labels"),
            ("soft", "Student, soft targets only"),
        ]
        shown = [(key, title) for key, title in shown if key in result]
        m = st.columns(len(shown))
        for col, (key, title) in zip(m, shown):
            col.metric(
                title,
                f"{result[key]['accuracy']:.1%}",
                delta=f"{result[key]['params']:,} parameters, {result[key]['size_bytes'] / MB:.2f} MB",
                delta_color="off",
            )
        ux.bullets(findings_distill(result))

with tabs[4]:
    rows = ux.variant_rows()
    if not rows:
        st.info("No variant yet: run one of the tabs (results already on disk appear as soon as their tab shows them).")
    else:
        st.dataframe(
            rows,
            hide_index=True,
            column_config={
                "parameters": st.column_config.NumberColumn(format="localized"),
                "multiply-adds": st.column_config.NumberColumn(format="localized"),
            },
        )
        st.plotly_chart(charts.size_against_accuracy(ux.variants()), key="edge.variants.chart")
        st.caption(
            "Multiply-adds from explorer.analyze of the network as configured (a truncated network: the rows "
            "before its cut plus its new head); an int8 model does the same count in int8. Latency: median of "
            "one-image forward passes, measured when the variant was made."
        )
