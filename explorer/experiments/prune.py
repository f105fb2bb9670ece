"""Pruning, live: the smallest weights of the base network set to zero (unstructured, torch.nn.utils.prune),
fine-tuned, measured against the lecture's "reduced up to 2x in size while retaining 97% of the original accuracy"
(reference.LECTURE_EDGE)."""

from __future__ import annotations

import copy

from ..live import compression
from ..live import data as datasets
from ..live.training import ProgressFn, as_part, evaluate, seed_everything, train
from ..registry import Knob
from .base import Experiment, register, scaled
from .edge_base import (
    KEPT,
    LECTURE_PRUNING,
    NETWORK_KNOBS,
    REPEATS_KNOB,
    analysis_for,
    base_cost,
    base_network,
    base_summary,
    fp32_name,
    load_data,
    variant,
)

SPARSITY_CURVE = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
FINE_TUNE_LR = 0.01  # a tenth of the base training's peak: the surviving weights are already trained


def pruned_copy(model, sparsity: float, scope: str):
    return compression.prune_magnitude(copy.deepcopy(model), sparsity, scope)


def fine_tune_pruned(model, data: datasets.Dataset, steps: int, seed: int, progress, stage: str) -> None:
    """A short fine-tune with the masks attached: the pruned weights stay zero, the others adjust."""
    n = min(len(data.train_y), steps * 64)
    seed_everything(seed)
    train(
        model, data.train_x[:n], data.train_y[:n], epochs=1, lr=FINE_TUNE_LR, seed=seed, stage=stage, progress=progress
    )


def run_prune(settings: dict, progress: ProgressFn | None = None, data_dir: str | None = None) -> dict:
    data = load_data(settings, data_dir)
    sparsities = sorted(set(SPARSITY_CURVE) | {settings["sparsity"]})
    steps = settings["finetune_steps"]
    parts = 1 + (len(sparsities) if steps else 0)
    model, info, from_cache = base_network(settings, data, as_part(progress, 1, parts), data_dir)
    analysis = analysis_for(settings, data)
    base_accuracy = evaluate(model, data.test_x, data.test_y)
    dense_bytes = compression.model_bytes(compression.on_cpu(model))
    curve = {
        "sparsity": [],
        "accuracy": [],
        "finetuned_accuracy": [],
        "measured_sparsity": [],
        "compressed_bytes": [],
        "finetuned_measured_sparsity": [],
        "nonzero_mult_adds": [],
    }
    chosen = {}
    for i, s in enumerate(sparsities, start=2):
        pruned = pruned_copy(model, s, settings["scope"])
        measured = compression.weight_sparsity(pruned)["all"]  # the masked weights, as the forward pass uses them
        accuracy = evaluate(pruned, data.test_x, data.test_y)
        if steps:
            fine_tune_pruned(
                pruned,
                data,
                steps,
                settings["seed"],
                as_part(progress, i, parts),
                f"network pruned to {s:.0%} sparsity",
            )
            tuned = evaluate(pruned, data.test_x, data.test_y)
        else:
            tuned = accuracy
        permanent = compression.make_permanent(compression.on_cpu(pruned))
        curve["sparsity"].append(s)
        curve["accuracy"].append(accuracy)
        curve["finetuned_accuracy"].append(tuned)
        curve["measured_sparsity"].append(measured)
        curve["finetuned_measured_sparsity"].append(compression.weight_sparsity(permanent)["all"])
        curve["compressed_bytes"].append(compression.compressed_bytes(permanent))
        curve["nonzero_mult_adds"].append(compression.nonzero_mult_adds(permanent, analysis))
        if s == settings["sparsity"]:
            chosen = {
                "model": permanent,
                "accuracy": accuracy,
                "tuned": tuned,
                "bytes": curve["compressed_bytes"][-1],
                "layers": compression.weight_sparsity(permanent),
            }
    fp32 = compression.on_cpu(model)
    figures = compression.latency_figures(
        {"fp32": fp32, "pruned": chosen["model"]}, data.input_shape, settings["repeats"]
    )
    latency = {k: f.median for k, f in figures.items()}
    macs = analysis.totals.mult_adds
    label = f"{settings['family']} w{settings['width']}, pruned {settings['sparsity']:.0%} ({settings['scope']})"
    return {
        "base": base_summary(settings, data, model, info, from_cache),
        "scope": settings["scope"],
        "base_accuracy": base_accuracy,
        "dense_bytes": dense_bytes,
        "finetune_steps": steps,
        **curve,
        "retained": [a / base_accuracy for a in curve["accuracy"]],
        "finetuned_retained": [a / base_accuracy for a in curve["finetuned_accuracy"]],
        "chosen": {
            "sparsity": settings["sparsity"],
            "accuracy": chosen["accuracy"],
            "finetuned_accuracy": chosen["tuned"],
            "compressed_bytes": chosen["bytes"],
            "layer_sparsity": chosen["layers"],
            "latency_ms": latency["pruned"],
            "fp32_latency_ms": latency["fp32"],
            "latency_quartiles_ms": [figures["pruned"].low, figures["pruned"].high],
            "fp32_latency_quartiles_ms": [figures["fp32"].low, figures["fp32"].high],
        },
        "variants": [
            variant(fp32_name(settings), fp32, dense_bytes, macs, base_accuracy, latency["fp32"]),
            variant(
                label + (f" + {steps}-step fine-tune" if steps else ""),
                chosen["model"],
                chosen["bytes"],
                macs,
                chosen["tuned"],
                latency["pruned"],
                "parameters: the non-zero ones; size: bit "
                "mask + non-zero weights; dense kernels still multiply the zeros",
                params=int(sum((p != 0).sum() for p in chosen["model"].parameters())),
            ),
        ],
    }


def lecture_check(r: dict) -> dict:
    """The lecture's "2x smaller, 97% of the accuracy", on this curve: the first sparsity at half the size."""
    target_bytes = r["dense_bytes"] / LECTURE_PRUNING[0]
    index = next((i for i, b in enumerate(r["compressed_bytes"]) if b <= target_bytes), None)
    if index is None:
        return {"found": False}
    return {
        "found": True,
        "sparsity": r["sparsity"][index],
        "ratio": r["dense_bytes"] / r["compressed_bytes"][index],
        "retained": r["retained"][index],
        "finetuned_retained": r["finetuned_retained"][index],
        "holds": max(r["retained"][index], r["finetuned_retained"][index]) >= LECTURE_PRUNING[1],
    }


def findings_prune(r: dict) -> list[str]:
    check = lecture_check(r)
    sentences = []
    if check["found"]:
        if check["retained"] >= LECTURE_PRUNING[1]:
            verdict = "holds here, even without fine-tuning"
        elif r["finetune_steps"] and check["finetuned_retained"] >= LECTURE_PRUNING[1]:
            verdict = "holds here only with the fine-tune"
        else:
            verdict = "does not hold here"
        tuned = (
            f", {check['finetuned_retained']:.1%} after the {r['finetune_steps']}-step fine-tune"
            if r["finetune_steps"]
            else ""
        )
        sentences.append(
            f'The lecture\'s "{LECTURE_PRUNING[0]:g}x smaller, {KEPT} of the accuracy" {verdict}: at '
            f"{check['sparsity']:.0%} sparsity the network stored sparsely is {check['ratio']:.2f}x smaller and keeps "
            f"{check['retained']:.1%} of its accuracy{tuned}."
        )
    else:
        sentences.append(
            f"No sparsity on the curve makes the stored size {LECTURE_PRUNING[0]:g}x smaller; the "
            "lecture's figure is out of reach here."
        )
    keeps = [s for s, a in zip(r["sparsity"], r["retained"]) if a >= LECTURE_PRUNING[1]]
    keeps_tuned = [s for s, a in zip(r["sparsity"], r["finetuned_retained"]) if a >= LECTURE_PRUNING[1]]
    sentences.append(
        f"Without fine-tuning, pruning up to {max(keeps):.0%} of the weights keeps {KEPT} of the accuracy"
        + (f"; with it, up to {max(keeps_tuned):.0%}." if r["finetune_steps"] and keeps_tuned else ".")
        if keeps
        else f"Every pruned network loses more than {1 - LECTURE_PRUNING[1]:.0%} of the accuracy."
    )
    c = r["chosen"]
    sentences.append(
        f"At the chosen {c['sparsity']:.0%} ({r['scope']}): accuracy {c['accuracy']:.1%}"
        + (f", {c['finetuned_accuracy']:.1%} after fine-tuning" if r["finetune_steps"] else "")
        + f"; stored sparsely {c['compressed_bytes']:,} bytes against {r['dense_bytes']:,} dense. "
        f"A dense tensor keeps its zeros, so only a sparse format saves space, and dense kernels skip "
        f"none of the zeros ({c['fp32_latency_ms']:.2f} → {c['latency_ms']:.2f} ms{_speed_verdict(c)})."
    )
    return sentences


def report_prune(r: dict) -> str:
    lines = [
        f"{r['base']['network']} on {r['base']['dataset']}: magnitude pruning ({r['scope']}), "
        f"base accuracy {r['base_accuracy']:.1%}, {r['dense_bytes']:,} bytes dense.",
        f"{'sparsity':>9}{'accuracy':>10}{'fine-tuned':>12}{'retained':>10}{'stored bytes':>14}",
    ]
    for s, a, t, k, b in zip(
        r["sparsity"], r["accuracy"], r["finetuned_accuracy"], r["retained"], r["compressed_bytes"]
    ):
        lines.append(f"{s:>9.0%}{a:>10.1%}{t:>12.1%}{k:>10.1%}{b:>14,}")
    return "\n".join(lines + [""] + findings_prune(r))


def validate_prune(settings: dict) -> None:
    compression.check_sparsity(settings["sparsity"])


register(
    Experiment(
        name="prune",
        title="Pruning: remove the smallest weights",
        summary="Zeroes the smallest-magnitude weights of the trained network (torch.nn.utils.prune) at a range of "
        "sparsities, with and without a short fine-tune, and measures accuracy and the size stored sparsely.",
        knobs=NETWORK_KNOBS
        + (
            Knob(
                "sparsity",
                "float",
                0.5,
                "Share of the convolution and fully connected weights set to zero.",
                0.0,
                1.0,
                step=0.05,
            ),
            Knob(
                "scope",
                "choice",
                "global",
                "global: one magnitude threshold for the whole network; layer: every layer loses the same share.",
                choices=compression.SCOPES,
            ),
            Knob(
                "finetune_steps",
                "int",
                20,
                "Steps of 64 training images after pruning (0: no fine-tune).",
                0,
                200,
                label="fine-tuning steps",
            ),
            REPEATS_KNOB,
        ),
        run=run_prune,
        report=report_prune,
        cost=lambda s: base_cost(s) + 16.0 * scaled(s, {"finetune_steps": 20}, {"finetune_steps": 1}),
        validate=validate_prune,
        paper=f'the lecture: "reduced up to {LECTURE_PRUNING[0]:g}x in size while retaining {KEPT} of the original '
        'accuracy"',
    )
)


def _speed_verdict(chosen: dict) -> str:
    """Whether the measured spreads of the dense and the pruned network overlap (results from before had none)."""
    a, b = chosen.get("fp32_latency_quartiles_ms"), chosen.get("latency_quartiles_ms")
    if not a or not b:
        return ""
    if a[0] <= b[1] and b[0] <= a[1]:
        return f"; quartiles {a[0]:.2f}-{a[1]:.2f} and {b[0]:.2f}-{b[1]:.2f} ms overlap: indistinguishable here"
    faster = "faster" if chosen["latency_ms"] < chosen["fp32_latency_ms"] else "slower"
    return f"; quartiles {a[0]:.2f}-{a[1]:.2f} and {b[0]:.2f}-{b[1]:.2f} ms apart: measurably {faster} here"
