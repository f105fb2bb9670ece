"""Truncation, live: the base network cut after layer k with a new linear head trained on its features, for
every k: how much of the network does the task need?"""

from __future__ import annotations

import torch

from ..errors import KnobError
from ..live import compression, cuts
from ..live import data as datasets
from ..live.networks import (
    IMAGE_SIDE,
    network_analysis,
)
from ..live.training import ProgressFn, as_part, device, evaluate, seed_everything, train
from ..registry import Knob
from .base import Experiment, register
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

HEAD_EPOCHS = 30  # the new head is one linear layer on stored features: thirty passes take a second


def truncation_points(analysis) -> list[int]:
    """Weight layers kept: every stage boundary (VGG: after each block and each FC layer)."""
    return [k for k in cuts.stage_cuts(analysis) if k > 0]


def validate_truncate(settings: dict) -> None:
    if settings["keep"] is None:
        return
    data_shape = (1 if settings["dataset"] == "digits" else 3, IMAGE_SIDE, IMAGE_SIDE)
    analysis = network_analysis(settings["family"], settings["width"], data_shape, 10)
    points = truncation_points(analysis)
    cuts.check_cut(analysis, settings["keep"])
    if settings["keep"] not in points:
        raise KnobError(
            f"Truncation keeps whole stages; keep one of {', '.join(map(str, points))} weight layers "
            f"(got {settings['keep']})."
        )


@torch.no_grad()
def features(trunk, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """The trunk's output for every image, pooled to one value per channel (what the new head reads)."""
    out = []
    dev = next(trunk.parameters()).device
    for i in range(0, len(x), batch_size):
        f = trunk(x[i : i + batch_size].to(dev))
        out.append((f.mean(dim=(2, 3)) if f.dim() == 4 else f.flatten(1)).cpu())
    return torch.cat(out)


def truncate_at(model, analysis, k: int, data: datasets.Dataset, seed: int, progress, stage: str):
    """The first k weight layers of the trained network and a new head trained on their (frozen) features."""
    layers = cuts.weight_layers(analysis)
    trunk = compression.trunk_before(compression.on_cpu(model), layers[k].row.name).to(device()).eval()
    feature_shape = cuts.plan(analysis, k).feature_shape
    head = compression.new_head(feature_shape, data.num_classes)
    linear = head[-1]
    torch.manual_seed(seed)
    linear.reset_parameters()
    linear.to(device())
    seed_everything(seed)
    train(
        linear,
        features(trunk, data.train_x),
        data.train_y,
        epochs=HEAD_EPOCHS,
        lr=0.05,
        seed=seed,
        stage=stage,
        progress=progress,
    )
    truncated = compression.Truncated(trunk, head.to(device())).eval()
    # the analysis's multiply-adds of the rows before the cut, plus the head's fully connected layer
    first = layers[k].row.index
    macs = sum(r.mult_adds for r in analysis.rows if r.index < first) + linear.in_features * linear.out_features
    return truncated, feature_shape, macs


def run_truncate(settings: dict, progress: ProgressFn | None = None, data_dir: str | None = None) -> dict:
    data = load_data(settings, data_dir)
    analysis = analysis_for(settings, data)
    points = truncation_points(analysis)
    parts = 1 + len(points)
    model, info, from_cache = base_network(settings, data, as_part(progress, 1, parts), data_dir)
    full_accuracy = evaluate(model, data.test_x, data.test_y)
    rows, models = [], {"full": compression.on_cpu(model)}
    layers = cuts.weight_layers(analysis)
    for i, k in enumerate(points, start=2):
        truncated, shape, macs = truncate_at(
            model,
            analysis,
            k,
            data,
            settings["seed"],
            as_part(progress, i, parts),
            f"new head after {layers[k - 1].row.name}",
        )
        accuracy = evaluate(truncated, data.test_x, data.test_y)
        cpu = compression.on_cpu(truncated)
        models[k] = cpu
        rows.append(
            {
                "keep": k,
                "after": layers[k - 1].row.name,
                "feature_shape": list(shape),
                "params": compression.param_count(cpu),
                "size_bytes": compression.model_bytes(cpu),
                "mult_adds": macs,
                "accuracy": accuracy,
                "retained": accuracy / full_accuracy,
            }
        )
    latency = compression.latency_ms(models, data.input_shape, settings["repeats"])
    for row in rows:
        row["latency_ms"] = latency[row["keep"]]
    keep = settings["keep"] or next((r["keep"] for r in rows if r["retained"] >= LECTURE_PRUNING[1]), points[-1])
    chosen = next(r for r in rows if r["keep"] == keep)
    full = models["full"]
    return {
        "base": base_summary(settings, data, model, info, from_cache),
        "full_accuracy": full_accuracy,
        "full_params": compression.param_count(full),
        "full_mult_adds": analysis.totals.mult_adds,
        "full_latency_ms": latency["full"],
        "cuts": rows,
        "keep": keep,
        "variants": [
            variant(
                fp32_name(settings),
                full,
                compression.model_bytes(full),
                analysis.totals.mult_adds,
                full_accuracy,
                latency["full"],
            ),
            variant(
                f"{settings['family']} w{settings['width']}, truncated after {chosen['after']}",
                models[keep],
                chosen["size_bytes"],
                chosen["mult_adds"],
                chosen["accuracy"],
                chosen["latency_ms"],
                "new head: global average pooling + one linear layer",
            ),
        ],
    }


def findings_truncate(r: dict) -> list[str]:
    chosen = next(c for c in r["cuts"] if c["keep"] == r["keep"])
    smallest = next((c for c in r["cuts"] if c["retained"] >= LECTURE_PRUNING[1]), None)
    sentences = [
        f"Cut after {chosen['after']} with a new head: {chosen['params']:,} parameters "
        f"({chosen['params'] / r['full_params']:.0%} of {r['full_params']:,}), "
        f"{chosen['mult_adds'] / r['full_mult_adds']:.0%} of the multiply-adds, accuracy "
        f"{chosen['accuracy']:.1%} against {r['full_accuracy']:.1%} for the whole network "
        f"({chosen['latency_ms']:.2f} against {r['full_latency_ms']:.2f} ms an image)."
    ]
    if smallest:
        sentences.append(
            f"The shortest network keeping {KEPT} of the accuracy ends after {smallest['after']}: "
            f"{r['full_params'] / smallest['params']:.1f}x fewer parameters."
        )
    else:
        sentences.append(f"No truncation keeps {KEPT} of the accuracy: every stage is needed.")
    return sentences


def report_truncate(r: dict) -> str:
    lines = [
        f"{r['base']['network']} on {r['base']['dataset']}: full network {r['full_params']:,} parameters, "
        f"{r['full_accuracy']:.1%}.",
        f"{'cut after':<24}{'params':>10}{'mult-adds':>12}{'accuracy':>10}",
    ]
    for c in r["cuts"]:
        lines.append(f"{c['after']:<24}{c['params']:>10,}{c['mult_adds']:>12,}{c['accuracy']:>10.1%}")
    return "\n".join(lines + [""] + findings_truncate(r))


register(
    Experiment(
        name="truncate",
        title="Truncation: cut the network short",
        summary="Keeps the trained network's layers up to each stage boundary and trains a new head (global average "
        "pooling and one linear layer) on their features: parameters against accuracy.",
        knobs=NETWORK_KNOBS
        + (
            Knob(
                "keep",
                "int",
                None,
                "Weight layers kept before the new head (a stage boundary).",
                1,
                60,
                optional=True,
                auto=f"the shortest keeping {KEPT} of the accuracy",
                label="weight layers kept",
            ),
            REPEATS_KNOB,
        ),
        run=run_truncate,
        report=report_truncate,
        cost=lambda s: base_cost(s) + 7.0,
        validate=validate_truncate,
        paper='the lecture: "Pruning & Truncation: a subnetwork can achieve accuracy levels similar to large networks"',
    )
)
