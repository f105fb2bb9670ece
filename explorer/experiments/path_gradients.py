"""Veit, Wilber and Belongie 2016, Sec. 5 ("The importance of short paths"), measured live.

"To sample a path of length k, we first feed a batch forward through the whole network. During the
backward pass, we randomly sample k residual blocks. For those k blocks, we only propagate through
the residual module; for the remaining n - k blocks, we only propagate through the skip connection."
The gradient magnitude at the input of the first block (y_0) for a single path of length k, times
the number of paths of that length C(n, k), is the total gradient that paths of length k carry.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import torch
import torch.nn.functional as F

from ..families.resnet import ResNet
from ..live.training import ProgressFn, compute_threads, device, seed_everything
from ..registry import Knob
from .base import Experiment, register, scaled
from .layer_removal import NETWORK_KNOBS, blocks_for_depth, build, load_data, trained_network
from .layer_removal import cost as lr_cost

KNOBS = NETWORK_KNOBS + (
    Knob(
        "samples", "int", 20, "Paths sampled for each length k, each with its own batch (Veit et al.: 1,000).", 1, 200
    ),
    Knob("batch_size", "int", 32, "Training images in each sampled batch.", 1, 256, label="batch size"),
    Knob(
        "trained",
        "bool",
        True,
        "Measure the trained residual network (the layer-removal one), or the same "
        "network at its random initialisation.",
    ),
)
GRADIENT_SHARE = 0.9  # "most of the gradient": the shortest run of lengths carrying 90% of it


def path_gradient(model: ResNet, x: torch.Tensor, y: torch.Tensor, routes: list[str]) -> float:
    """Mean per-image norm of d(loss)/d(y_0) flowing along the single path that `routes` picks."""
    y0 = model.stem(x).detach().requires_grad_(True)  # y_0: the input of the first block
    logits = model.head(model.run_blocks(y0, routes=routes))
    loss = F.cross_entropy(logits, y, reduction="sum")  # each image's own loss: per-image gradients
    (grad,) = torch.autograd.grad(loss, y0)
    return float(grad.flatten(1).norm(dim=1).mean())


def measure(
    model: ResNet, x: torch.Tensor, y: torch.Tensor, samples: int, batch_size: int, seed: int
) -> list[list[float]]:
    """For each length k = 0..n, `samples` gradient magnitudes of randomly chosen paths of length k."""
    model.eval()  # batch norm with its running statistics: every image's gradient is its own
    n = len(model.blocks)
    rng = np.random.default_rng(seed)
    dev = next(model.parameters()).device
    magnitudes = []
    with compute_threads():
        for k in range(n + 1):
            found = []
            for _ in range(samples):
                branches = set(rng.choice(n, size=k, replace=False).tolist())
                routes = ["branch" if i in branches else "skip" for i in range(n)]
                batch = torch.from_numpy(rng.choice(len(y), size=min(batch_size, len(y)), replace=False))
                found.append(path_gradient(model, x[batch].to(dev), y[batch].to(dev), routes))
            magnitudes.append(found)
    return magnitudes


def carrying_range(shares: list[float], wanted: float = GRADIENT_SHARE) -> tuple[int, int]:
    """The shortest run of lengths [low, high] whose shares add up to `wanted` (the larger sum on a tie)."""
    best = (0, len(shares) - 1)
    best_key = (len(shares), -sum(shares))
    for low in range(len(shares)):
        total = 0.0
        for high in range(low, len(shares)):
            total += shares[high]
            if total >= wanted - 1e-9:  # 0.3 + 0.3 + 0.3 is 0.8999999999999999 in floating point
                key = (high - low, -total)
                if key < best_key:
                    best, best_key = (low, high), key
                break
    return best


def run(settings: dict, progress: ProgressFn | None = None, data_dir: str | None = None) -> dict:
    data = load_data(settings, data_dir)
    if settings["trained"]:
        model, info, _ = trained_network(settings, "residual", data, progress, data_dir)
    else:
        model = build(
            settings["depth"],
            settings["width"],
            True,
            data.input_shape[0],
            data.num_classes,
            settings["seed"],
            data.input_shape[1],
        ).to(device())
    seed_everything(settings["seed"])
    found = measure(model, data.train_x, data.train_y, settings["samples"], settings["batch_size"], settings["seed"])
    n = len(model.blocks)
    paths = [math.comb(n, k) for k in range(n + 1)]
    magnitude = [statistics.fmean(v) for v in found]
    total = [m * c for m, c in zip(magnitude, paths)]
    shares = [t / sum(total) for t in total]
    low, high = carrying_range(shares)
    return {
        "blocks": n,
        "trained": settings["trained"],
        "lengths": list(range(n + 1)),
        "paths": paths,
        "magnitude": magnitude,
        "magnitude_spread": [statistics.pstdev(v) for v in found],
        "total": total,
        "share": shares,
        "peak": int(np.argmax(total)),
        "range": {
            "low": low,
            "high": high,
            "gradient_share": sum(shares[low : high + 1]),
            "path_share": sum(paths[low : high + 1]) / 2**n,
            "wanted": GRADIENT_SHARE,
        },
        "mean_length": n / 2,
        "samples": settings["samples"],
        "decay": (magnitude[0] / magnitude[-1]) ** (1 / n) if magnitude[-1] > 0 else None,
    }


def findings(result: dict) -> list[str]:
    """Which path lengths carry the gradient, in sentences computed from the measurement."""
    r, n = result["range"], result["blocks"]
    state = "trained" if result["trained"] else "untrained (randomly initialised)"
    sentences = [
        f"On this {state} ResNet with {n} blocks, paths of length {r['low']} to {r['high']} carry "
        f"{r['gradient_share']:.0%} of the gradient that reaches y_0, yet they are {r['path_share']:.1%} of "
        f"the 2^{n} paths; the most gradient comes from paths of length {result['peak']}, while the average "
        f"path has {result['mean_length']:g} blocks.",
    ]
    if result["decay"]:
        sentences.append(
            f"A single path's gradient shrinks about {result['decay']:.2f}x with each extra block it "
            f"passes through (geometric mean from length 0 to {n})."
        )
    return sentences


def report(result: dict) -> str:
    lines = [
        f"{result['blocks']} residual blocks ({'trained' if result['trained'] else 'untrained'}), "
        f"{result['samples']} sampled paths per length",
        f"{'length':>6} {'paths':>12} {'|grad| one path':>16} {'total':>12} {'share':>8}",
    ]
    for k, (c, m, t, s) in enumerate(zip(result["paths"], result["magnitude"], result["total"], result["share"])):
        lines.append(f"{k:>6} {c:>12,} {m:>16.4g} {t:>12.4g} {s:>8.1%}")
    return "\n".join(lines + [""] + findings(result))


# Cost: 18.1 s of one core at the defaults: the residual network of layer removal trained (half of that
# experiment) and 4.6 s of path sampling, which grows with samples, batch and depth^2 (paths of each length).
MEASURE_REFERENCE = {"samples": 20, "batch_size": 32, "depth": 32, "width": 16, "image_size": 16}


EXPERIMENT = register(
    Experiment(
        name="path-gradients",
        title="Gradient carried by paths of each length",
        summary="Samples single paths through the trained residual network and measures the gradient that "
        "reaches the first block along each, by path length.",
        knobs=KNOBS,
        run=run,
        report=report,
        cost=lambda s: (
            (lr_cost(s) / 2 if s["trained"] else 0.0)
            + 4.6
            * scaled(s, MEASURE_REFERENCE, {"samples": 1, "batch_size": 1, "depth": 2, "width": 2, "image_size": 2})
        ),
        validate=lambda settings: blocks_for_depth(settings["depth"]),
        paper="Veit, Wilber & Belongie 2016, Section 5 and Fig. 6",
    )
)
