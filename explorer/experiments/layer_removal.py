"""Veit, Wilber and Belongie 2016 ("Residual Networks Behave Like Ensembles of Relatively Shallow
Networks"), Sections 4.1 and 4.2, live: train a residual network and its plain twin, then delete blocks
at test time, one at a time (their Fig. 3) and k at random (their Fig. 5a).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from ..analysis import analyze_config
from ..build import real_model
from ..families.resnet import ResNet, derive
from ..live import data as datasets
from ..live.cache import cached_model
from ..live.training import ProgressFn, as_part, compute_threads, evaluate, seed_everything, train
from ..registry import Knob, configure
from .base import Experiment, register, scaled

NETS = ("residual", "plain")
SIZES = {"digits": (None, None), "shapes": (2000, 500), "cifar10": (5000, 1000)}  # train, test images used

# Shared with the path-gradient measurement, which measures the trained residual network made here.
NETWORK_KNOBS = (
    Knob(
        "depth",
        "int",
        32,
        "Weight layers, 6n+2: three stages of n blocks of two 3x3 convolutions, plus the "
        "stem and the classifier (He et al.'s CIFAR ResNets: 20, 32, 44, 56, 110).",
        8,
        56,
        step=6,
    ),
    Knob(
        "width",
        "int",
        16,
        "Channels of the first stage; the second and third stages double them.",
        4,
        32,
        step=4,
        label="width",
    ),
    Knob("epochs", "int", 4, "Passes over the training images (SGD with momentum, one-cycle learning rate).", 1, 30),
    Knob(
        "dataset",
        "choice",
        "digits",
        "Built-in handwritten digits (1,797 images), generated coloured shapes, or CIFAR-10 from a local folder.",
        choices=datasets.DATASETS,
    ),
    Knob(
        "image_size",
        "choice",
        16,
        "Side of the images fed to the networks, in pixels.",
        choices=(16, 32),
        label="image size",
    ),
    Knob("seed", "int", 0, "Fixes the data split, the initial weights, the batches and the random deletions.", 0, 9999),
)
KNOBS = NETWORK_KNOBS + (
    Knob("draws", "int", 3, "Random draws of k blocks to delete, for each k.", 1, 20, label="draws per k"),
)


def load_data(settings: dict, data_dir: str | None = None) -> datasets.Dataset:
    n_train, n_test = SIZES[settings["dataset"]]
    return datasets.load(
        settings["dataset"],
        size=settings["image_size"],
        seed=settings["seed"],
        n_train=n_train,
        n_test=n_test,
        data_dir=data_dir,
    )


def network_settings(settings: dict, net: str, data_dir: str | None = None) -> dict:
    """What a trained network depends on: the network knobs, the data (its folder for CIFAR-10), which net."""
    values = {k.name: settings[k.name] for k in NETWORK_KNOBS}
    if settings["dataset"] == "cifar10":
        values["data"] = datasets.fingerprint("cifar10", data_dir)
    return {**values, "net": net}


def blocks_for_depth(depth: int) -> int:
    """Blocks per stage n of a 6n+2-layer CIFAR ResNet; the family's own check names the nearest depths."""
    return derive(dict(depth=depth, block="basic", stem="cifar", width=None, shortcut=None))["layers"][0]


def build(
    depth: int, width: int, residual: bool, in_channels: int, num_classes: int, seed: int, side: int = 32
) -> ResNet:
    """He et al.'s CIFAR ResNet from the registry (Sec. 4.2; option-A skips), or its plain twin (no skips),
    with the initial weights fixed by the seed: the two networks start from the same weights."""
    config = configure(
        "resnet",
        (in_channels, side, side),
        depth=depth,
        stem="cifar",
        width=width,
        block="basic",
        shortcut="A" if residual else "plain",
        num_classes=num_classes,
    )
    analyze_config(config)  # the project's one-sentence errors before any weight is allocated
    torch.manual_seed(seed)
    return real_model(config)


def trained_network(
    settings: dict, net: str, data: datasets.Dataset, progress: ProgressFn | None = None, data_dir: str | None = None
) -> tuple[ResNet, dict, bool]:
    """(model, info, from_cache): the residual or plain network trained on the data, or loaded from disk."""

    def make():
        return build(
            settings["depth"],
            settings["width"],
            net == "residual",
            data.input_shape[0],
            data.num_classes,
            settings["seed"],
            data.input_shape[1],
        )

    def fit(model):
        seed_everything(settings["seed"])
        start = time.perf_counter()
        history = train(
            model,
            data.train_x,
            data.train_y,
            epochs=settings["epochs"],
            seed=settings["seed"],
            stage=f"{net} network",
            progress=progress,
        )
        return {"history": history, "train_seconds": time.perf_counter() - start}

    return cached_model("layer-removal", network_settings(settings, net, data_dir), make, fit)


def deleted_accuracy(model: ResNet, data: datasets.Dataset, removed) -> float:
    """Test accuracy with these blocks deleted (their skip kept, their branch dropped)."""
    removed = frozenset(int(i) for i in removed)
    return evaluate(model, data.test_x, data.test_y, forward=lambda m, x: m.lesioned(x, removed=removed))


@torch.no_grad()
def single_deletions(model: ResNet, data: datasets.Dataset) -> list[float]:
    """Test accuracy with block i deleted, for each i.

    The blocks before i compute what they compute in the full network, so one pass carries y_i
    forward and each deletion runs only the blocks after i: half the work of N full evaluations.
    """
    model.eval()
    dev = next(model.parameters()).device
    accuracies = []
    with compute_threads():
        y = model.stem(data.test_x.to(dev))  # y_0 for every test image
        for i, block in enumerate(model.blocks):
            logits = model.head(model.run_blocks(block(y, removed=True), start=i + 1))
            accuracies.append(float((logits.argmax(1).cpu() == data.test_y).float().mean()))
            y = block(y)
    return accuracies


def random_deletions(n_blocks: int, draws: int, seed: int) -> dict[int, list[tuple[int, ...]]]:
    """For each k, `draws` random sets of k blocks (the same sets for both networks: a paired comparison).

    k runs over at most six values from 1 to every block, so the evaluation stays a few seconds.
    """
    rng = np.random.default_rng(seed)
    ks = sorted(set(np.linspace(1, n_blocks, min(n_blocks, 6)).round().astype(int).tolist()))
    return {k: [tuple(sorted(rng.choice(n_blocks, size=k, replace=False).tolist())) for _ in range(draws)] for k in ks}


def run(settings: dict, progress: ProgressFn | None = None, data_dir: str | None = None) -> dict:
    data = load_data(settings, data_dir)
    draws = random_deletions(3 * blocks_for_depth(settings["depth"]), settings["draws"], settings["seed"])
    result = {
        "dataset": {
            "name": data.name,
            "description": data.description,
            "train": len(data.train_y),
            "test": len(data.test_y),
            "input_shape": list(data.input_shape),
            "chance": datasets.chance(data),
        }
    }
    for part, net in enumerate(NETS, start=1):
        model, info, from_cache = trained_network(settings, net, data, as_part(progress, part, len(NETS)), data_dir)
        start = time.perf_counter()
        single = single_deletions(model, data)
        random = {str(k): [deleted_accuracy(model, data, chosen) for chosen in sets] for k, sets in draws.items()}
        full = deleted_accuracy(model, data, [])
        result[net] = {
            "full_accuracy": full,
            "deleted": single,
            "median_drop": statistics.median(full - a for a in single),
            "random": {
                "k": [int(k) for k in random],
                "mean": [statistics.fmean(v) for v in random.values()],
                "draws": list(random.values()),
            },
            "params": sum(p.numel() for p in model.parameters()),
            "history": info["history"],
            "train_seconds": info["train_seconds"],
            "weights_from_cache": from_cache,
            "eval_seconds": time.perf_counter() - start,
        }
        if net == "residual":
            result["blocks"] = [
                {
                    "index": i,
                    "name": name,
                    "downsampling": block.downsampling,
                    "plain_replacement": "subsample by 2 and zero-pad the channels (identity "
                    "cannot fit: the shape changes)"
                    if block.downsampling
                    else "identity",
                }
                for i, (name, block) in enumerate(zip(model.block_names, model.blocks))
            ]
    result["random_sets"] = {str(k): [list(s) for s in sets] for k, sets in draws.items()}
    return result


def findings(result: dict) -> list[str]:
    """What the measurement shows, in sentences computed from it (the page and the terminal print them)."""
    res, plain, blocks = result["residual"], result["plain"], result["blocks"]
    drops = [res["full_accuracy"] - a for a in res["deleted"]]
    worst = max(range(len(drops)), key=drops.__getitem__)
    calm = sum(d <= 0.05 for d in drops)
    sentences = [
        f"Deleting one block costs the residual network a median of {res['median_drop']:.1%} of test accuracy "
        f"({calm} of {len(drops)} deletions cost at most 5 points); the plain network loses a median of "
        f"{plain['median_drop']:.1%}, falling to between {min(plain['deleted']):.0%} and "
        f"{max(plain['deleted']):.0%} (chance: {result['dataset']['chance']:.0%}).",
        f"The residual network's most harmful deletion is {blocks[worst]['name']}"
        f"{' (a downsampling block)' if blocks[worst]['downsampling'] else ''}: "
        f"{res['full_accuracy']:.1%} → {res['deleted'][worst]:.1%}.",
    ]
    if "params" in res and "history" in res:  # the fairness of the comparison, read off the two trainings
        same = res["params"] == plain["params"] and len(res["history"]) == len(plain["history"])
        sentences.append(
            f"A fair comparison: both networks have {res['params']:,} parameters, start from the same weights and "
            f"train for the same {len(res['history'])} epochs on the same images; before any deletion the residual "
            f"network reaches {res['full_accuracy']:.1%} and the plain one {plain['full_accuracy']:.1%}."
            if same
            else f"Not an equal budget: the residual network has {res['params']:,} parameters and trained "
            f"{len(res['history'])} epochs, the plain one {plain['params']:,} and {len(plain['history'])}."
        )
    ks, means = res["random"]["k"], res["random"]["mean"]
    if len(ks) > 1:
        sentences.append(
            f"Deleting k random blocks: the residual network keeps {means[0]:.0%} at k = {ks[0]} and "
            f"{means[1]:.0%} at k = {ks[1]}; the plain network {plain['random']['mean'][0]:.0%} and "
            f"{plain['random']['mean'][1]:.0%}."
        )
    return sentences


def report(result: dict) -> str:
    """The terminal's table: accuracy of the full networks and after deleting each block."""
    d = result["dataset"]
    lines = [
        f"{d['description']}: {d['train']} training and {d['test']} test images, "
        f"{'x'.join(map(str, d['input_shape']))}; chance {d['chance']:.1%}.",
        f"{'test accuracy':38}{'residual':>10}{'plain':>10}",
        f"{'full network':38}{result['residual']['full_accuracy']:>10.1%}{result['plain']['full_accuracy']:>10.1%}",
    ]
    for block, res, plain in zip(result["blocks"], result["residual"]["deleted"], result["plain"]["deleted"]):
        mark = " (downsampling)" if block["downsampling"] else ""
        lines.append(f"{'without ' + block['name'] + mark:38}{res:>10.1%}{plain:>10.1%}")
    lines.append(f"{'median drop':38}{result['residual']['median_drop']:>10.1%}{result['plain']['median_drop']:>10.1%}")
    return "\n".join(lines + [""] + findings(result))


# Cost: 26.9 s of one core at the defaults (benchmarks/bench_experiments.py --all, load average 0.3): two
# networks trained; the work grows with depth, epochs, images and width^2 and image_size^2 (the convolutions).
IMAGES = {"digits": 1.0, "shapes": 1.5, "cifar10": 3.7}  # training images used, relative to the 1,347 digits
REFERENCE = {"depth": 32, "width": 16, "epochs": 4, "image_size": 16}


def cost(settings: dict) -> float:
    """Estimated core-seconds: both networks trained (deleting blocks only evaluates)."""
    return (
        26.9
        * IMAGES[settings["dataset"]]
        * scaled(settings, REFERENCE, {"depth": 1, "width": 2, "epochs": 1, "image_size": 2})
    )


EXPERIMENT = register(
    Experiment(
        name="layer-removal",
        title="Deleting blocks from a trained residual and plain network",
        summary="Trains a residual network and the same stack without skips, then deletes blocks at test time: "
        "one at a time, then k at random.",
        knobs=KNOBS,
        run=run,
        report=report,
        cost=cost,
        validate=lambda settings: blocks_for_depth(settings["depth"]),
        paper="Veit, Wilber & Belongie, Residual Networks Behave Like Ensembles of Relatively Shallow Networks, "
        "NeurIPS 2016, Sections 4.1-4.2",
    )
)
