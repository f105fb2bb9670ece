"""The lecture's "How should I choose the right cut?", answered live for one of its three transfer scenarios.

A network is trained on a source task (cached on disk), then fine-tuned on a target task from a few
labelled examples per class: once for each cut (the first k weight layers frozen, the rest trained from
their source weights, the last layer replaced by a new head), and once from scratch with the same
budget. A second sweep varies the number of labelled target examples at one cut.

The scenarios are the lecture's taxonomy (slides "Formal definition of Transfer Learning"):
    Y_o != Y_n          new labels, same domain: source classes 0-4, target classes 5-9
    P(X_o) != P(X_n)    domain adaptation: the same five shapes by day (source) and by night (target)
    X_o != X_n          a different feature space: coloured shapes (source) to handwritten digits (target)
"""

from __future__ import annotations

import statistics
from dataclasses import replace

import torch

from ..errors import KnobError
from ..live import cuts
from ..live import data as datasets
from ..live.networks import (
    EPOCHS_KNOB,
    FAMILY_KNOB,
    IMAGE_SIDE,
    SEED_KNOB,
    TITLES,
    WIDTH_KNOB,
    build_network,
    network_analysis,
    trained_network,
)
from ..live.training import ProgressFn, as_part, device, evaluate, recompute_batchnorm, seed_everything, train
from ..registry import Knob
from .base import Experiment, register, scaled

SCENARIOS = {  # name: (notation, title, what the target is)
    "new-labels": ("Y_o ≠ Y_n", "new labels, same domain", "the other five classes of the same images"),
    "domain": ("P(X_o) ≠ P(X_n)", "domain adaptation, day to night", "the same five shapes photographed at night"),
    "relabelled": (
        "P(Y_o|X_o) ≠ P(Y_n|X_n)",
        "the same images, labelled by another rule",
        "the same five shapes by day, each labelled as the next shape in the list (disk as 'square', ...)",
    ),
    "feature-space": ("X_o ≠ X_n", "a different feature space", "handwritten digits 0-4 (scikit-learn's)"),
}
SOURCE_CLASSES, TARGET_CLASSES = range(0, 5), range(5, 10)
SOURCE_IMAGES = {"shapes": (2000, 500), "cifar10": (5000, 1000)}  # before keeping five of the ten classes
EXAMPLE_SWEEP = (1, 2, 5, 10, 20)  # labelled target examples per class, beside the chosen number
# Learning rates (SGD, one-cycle peak), measured on the shapes scenarios at 1, 5 and 20 examples per class
# and 30 steps: fine-tuning from the source weights did best at 0.01 (0.05 undid the source's features:
# 77% instead of 93% with 5 examples per class, training the entire model), training from scratch at 0.05
# (0.01 left it at 40% instead of 63%). Each gets its own best, as practitioners tune them.
FINE_TUNE_LR, SCRATCH_LR = 0.01, 0.05
# At most 64 images a step, in equal batches: from scratch, 100 images in batches of 25 reached 52% and in
# batches of 50 94% (measured: batch norm's statistics over 25 images are noise); a last batch of 4 was worse.
FINE_TUNE_BATCH = 64
KNOBS = (
    Knob(
        "scenario",
        "choice",
        "new-labels",
        "Which transfer: new labels in the same domain (Y_o ≠ Y_n), the "
        "same labels in another domain (P(X_o) ≠ P(X_n), day to night), the same images labelled by another "
        "rule (P(Y_o|X_o) ≠ P(Y_n|X_n)) or another feature space (X_o ≠ X_n, shapes to digits).",
        choices=tuple(SCENARIOS),
    ),
    FAMILY_KNOB,
    WIDTH_KNOB,
    Knob(
        "cut",
        "int",
        None,
        "Weight layers frozen for the sweep over the number of examples (0: train the "
        "entire model). The sweep over cuts visits every stage boundary and this one.",
        0,
        None,  # the chosen network's last layer bounds it (validate below), so one range is said, the network's
        optional=True,
        auto="the best cut of the sweep",
    ),
    Knob(
        "examples",
        "int",
        5,
        "Labelled target examples per class for fine-tuning (five classes).",
        0,
        100,
        label="target examples per class",
    ),
    Knob(
        "steps",
        "int",
        30,
        "Fine-tuning steps (SGD, one-cycle), the same for every cut and for scratch.",
        5,
        200,
        label="fine-tuning steps",
    ),
    replace(EPOCHS_KNOB, default=3, label="source epochs"),
    Knob(
        "dataset",
        "choice",
        "shapes",
        "Source images: generated shapes, or CIFAR-10 from a local folder "
        "(classes 0-4 as the source; 5-9 as the target of new labels).",
        choices=("shapes", "cifar10"),
    ),
    SEED_KNOB,
)


def validate(settings: dict) -> None:
    if settings["examples"] < 1:
        raise KnobError(
            "With zero labelled target examples there is nothing to fine-tune on; give at least one example per class."
        )
    if settings["scenario"] in ("domain", "relabelled") and settings["dataset"] != "shapes":
        shift = "day-to-night domain shift" if settings["scenario"] == "domain" else "relabelled task"
        raise KnobError(f"The {shift} is generated for the shapes only; choose the shapes dataset or another scenario.")
    if settings["cut"] is not None:
        cuts.check_cut(analysis_for(settings), settings["cut"])


def analysis_for(settings: dict):
    """The target network as configured (five classes: the new head), read by the page's graph and table."""
    return network_analysis(settings["family"], settings["width"], (3, IMAGE_SIDE, IMAGE_SIDE), len(TARGET_CLASSES))


def source_data(settings: dict, data_dir: str | None = None) -> datasets.Dataset:
    n_train, n_test = SOURCE_IMAGES[settings["dataset"]]
    return datasets.load(
        settings["dataset"],
        size=IMAGE_SIDE,
        channels=3,
        seed=settings["seed"],
        domain="day",
        classes=SOURCE_CLASSES,
        n_train=n_train,
        n_test=n_test,
        data_dir=data_dir,
    )


def target_data(settings: dict, data_dir: str | None = None) -> datasets.Dataset:
    scenario, seed = settings["scenario"], settings["seed"]
    if scenario == "new-labels":
        n_train, n_test = SOURCE_IMAGES[settings["dataset"]]
        return datasets.load(
            settings["dataset"],
            size=IMAGE_SIDE,
            channels=3,
            seed=seed,
            domain="day",
            classes=TARGET_CLASSES,
            n_train=n_train,
            n_test=n_test,
            data_dir=data_dir,
        )
    if scenario == "domain":  # other scenes (seed + 1) of the same five shapes, at night
        return datasets.load(
            "shapes",
            size=IMAGE_SIDE,
            channels=3,
            seed=seed + 1,
            classes=SOURCE_CLASSES,
            domain="night",
            n_train=1000,
            n_test=500,
        )
    if scenario == "relabelled":  # other scenes (seed + 1) of the source's five shapes; the label rule changes
        same = datasets.load(
            "shapes",
            size=IMAGE_SIDE,
            channels=3,
            seed=seed + 1,
            classes=SOURCE_CLASSES,
            domain="day",
            n_train=1000,
            n_test=500,
        )
        k = len(same.classes)
        return replace(  # P(X) and P(Y) stay; P(Y|X) changes: each shape gets the next one's label
            same,
            train_y=(same.train_y + 1) % k,
            test_y=(same.test_y + 1) % k,
            description=same.description + ", each labelled as the next shape",
        )
    return datasets.load("digits", size=IMAGE_SIDE, channels=3, seed=seed, classes=range(5))


def few_shot(data: datasets.Dataset, per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """per_class labelled training examples of each class, drawn by the seed (the same draw for every cut)."""
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for c in range(data.num_classes):
        members = torch.nonzero(data.train_y == c).flatten()
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    index = torch.cat(chosen).sort().values
    return data.train_x[index], data.train_y[index]


def fine_tune(settings: dict, source_state: dict | None, cut: int | None, x, y, target, progress, stage) -> float:
    """Target test accuracy after fine-tuning at this cut (None: from scratch, every layer trained)."""
    analysis = analysis_for(settings)
    model = build_network(
        settings["family"], settings["width"], target.input_shape, target.num_classes, settings["seed"] + 1
    )  # the new head's (and scratch's) initial weights
    if cut is not None:
        cuts.load_source(model, analysis, source_state)
        cuts.freeze(model, analysis, cut)
    model.to(device())
    seed_everything(settings["seed"])
    batches = -(-len(y) // FINE_TUNE_BATCH)
    batch = -(-len(y) // batches)
    epochs = max(1, round(settings["steps"] * batch / len(y)))  # about `steps` steps whatever the count
    train(
        model,
        x,
        y,
        epochs=epochs,
        batch_size=batch,
        lr=SCRATCH_LR if cut is None else FINE_TUNE_LR,
        seed=settings["seed"],
        stage=stage,
        progress=progress,
    )
    recompute_batchnorm(model, x)
    return evaluate(model, target.test_x, target.test_y)


def cut_label(analysis, k: int) -> str:
    return "train the entire model" if k == 0 else f"freeze up to {cuts.plan(analysis, k).after}"


def run(settings: dict, progress: ProgressFn | None = None, data_dir: str | None = None) -> dict:
    analysis = analysis_for(settings)
    source, target = source_data(settings, data_dir), target_data(settings, data_dir)
    points = cuts.stage_cuts(analysis)
    if settings["cut"] is not None:
        points = sorted(set(points) | {settings["cut"]})
    counts = sorted(set(EXAMPLE_SWEEP) | {settings["examples"]})
    parts = 1 + len(points) + 1 + 2 * (len(counts) - 1)
    part = iter(range(1, parts + 1))
    model, info, from_cache = trained_network(
        "transfer/source",
        {"dataset": datasets.fingerprint(settings["dataset"], data_dir), "classes": list(SOURCE_CLASSES)},
        settings["family"],
        settings["width"],
        source,
        settings["epochs"],
        settings["seed"],
        as_part(progress, next(part), parts),
        stage="source network",
    )
    source_accuracy = evaluate(model, source.test_x, source.test_y)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}

    x, y = few_shot(target, settings["examples"], settings["seed"])
    rows = []
    for k in points:
        cut = cuts.plan(analysis, k)
        accuracy = fine_tune(
            settings, state, k, x, y, target, as_part(progress, next(part), parts), f"network, {cut_label(analysis, k)}"
        )
        rows.append(
            {
                "cut": k,
                "after": cut.after,
                "label": cut_label(analysis, k),
                "preset": cuts.preset_of(analysis, k),
                "frozen_params": cut.frozen_params,
                "trainable_params": cut.trainable_params,
                "head_params": cut.head_params,
                "feature_shape": list(cut.feature_shape),
                "accuracy": accuracy,
            }
        )
    scratch = fine_tune(
        settings, None, None, x, y, target, as_part(progress, next(part), parts), "network from scratch"
    )
    best = max(rows, key=lambda r: (r["accuracy"], r["cut"]))  # ties: freeze more (cheaper to train)
    chosen = settings["cut"] if settings["cut"] is not None else best["cut"]

    by_count = {"examples": counts, "cut": chosen, "transfer": [], "scratch": []}
    for n in counts:
        if n == settings["examples"]:
            by_count["transfer"].append(next(r["accuracy"] for r in rows if r["cut"] == chosen))
            by_count["scratch"].append(scratch)
            continue
        xn, yn = few_shot(target, n, settings["seed"])
        for key, cut, stage in (
            ("transfer", chosen, f"network at cut {chosen}"),
            ("scratch", None, "network from scratch"),
        ):
            by_count[key].append(
                fine_tune(
                    settings,
                    state if cut is not None else None,
                    cut,
                    xn,
                    yn,
                    target,
                    as_part(progress, next(part), parts),
                    f"{stage}, {n} examples per class",
                )
            )
    notation, title, what = SCENARIOS[settings["scenario"]]
    return {
        "scenario": settings["scenario"],
        "notation": notation,
        "scenario_title": title,
        "target_description": what,
        "network": TITLES[settings["family"]],
        "params": analysis.totals.params,
        "source": {
            "description": source.description,
            "classes": list(source.classes),
            "train": len(source.train_y),
            "test": len(source.test_y),
            "accuracy": source_accuracy,
            "train_seconds": info["train_seconds"],
            "from_cache": from_cache,
        },
        "target": {
            "description": target.description,
            "classes": list(target.classes),
            "labelled": len(y),
            "test": len(target.test_y),
            "chance": datasets.chance(target),
        },
        "scratch_accuracy": scratch,
        "cuts": rows,
        "best_cut": best["cut"],
        "chosen_cut": chosen,
        "presets": cuts.lecture_presets(analysis),
        "by_examples": by_count,
    }


def findings(result: dict) -> list[str]:
    """The lecture's question answered for this scenario, in sentences computed from the measurements."""
    rows, scratch = result["cuts"], result["scratch_accuracy"]
    best = next(r for r in rows if r["cut"] == result["best_cut"])
    last = rows[-1]
    near = [r for r in rows if r["accuracy"] >= best["accuracy"] - 0.01]
    per_class = result["target"]["labelled"] // len(result["target"]["classes"])
    if best["cut"] == 0:
        advice = (
            "train the entire model: the source weights are a better start than random ones, but every "
            "layer has to adapt to the target"
        )
    elif best["cut"] == last["cut"]:
        advice = "freeze almost all: the source's features already separate the target classes"
    else:
        advice = (
            f"freeze the layers up to {best['after']} ({best['frozen_params']:,} parameters) and train the "
            f"{best['trainable_params']:,} above them"
        )
    lead = (
        f"{best['accuracy']:.1%} on the target's test images, against {scratch:.1%} for the same network "
        f"trained from scratch (chance: {result['target']['chance']:.0%})"
    )
    if scratch >= best["accuracy"]:
        answer = (
            f"no cut beats training from scratch: the best, {best['label']}, reaches {lead}; the source's "
            f"features do not help this target at this number of examples"
        )
    else:
        answer = f"{advice}. That cut reaches {lead}"
    sentences = [
        f"How should I choose the right cut? For {result['scenario_title']} ({result['notation']}) with "
        f"{per_class} labelled example{'s' if per_class != 1 else ''} per class: {answer}.",
    ]
    if len(near) > 1:
        sentences.append(
            f"{len(near)} cuts are within a point of the best: "
            + "; ".join(f"{r['label']} ({r['accuracy']:.1%})" for r in near)
            + "."
        )
    frozen_all = next((r for r in rows if r["preset"] == "freeze almost all"), None)
    if frozen_all and frozen_all["cut"] != best["cut"]:
        sentences.append(
            f'Freezing the whole convolutional base ("freeze almost all") gives '
            f"{frozen_all['accuracy']:.1%}; training the entire model gives {rows[0]['accuracy']:.1%}."
        )
    counts = result["by_examples"]
    gaps = [t - s for t, s in zip(counts["transfer"], counts["scratch"])]
    if counts["examples"]:
        fewest, most = 0, len(gaps) - 1
        at = next(r for r in rows if r["cut"] == counts["cut"])
        sentences.append(
            f"At cut {at['cut']} ({at['label']}), with {counts['examples'][fewest]} example"
            f"{'s' if counts['examples'][fewest] != 1 else ''} per class transfer leads scratch by "
            f"{gaps[fewest] * 100:+.1f} points; with {counts['examples'][most]}, by {gaps[most] * 100:+.1f} points "
            f"(median over the sweep {statistics.median(gaps) * 100:+.1f})."
        )
    return sentences


def report(result: dict) -> str:
    lines = [
        f"{result['scenario_title']} ({result['notation']}): {result['network']}, "
        f"source {result['source']['description']} ({result['source']['accuracy']:.1%} on its test images), "
        f"target {result['target_description']}, {result['target']['labelled']} labelled examples.",
        f"{'cut':<36}{'frozen':>10}{'trainable':>11}{'accuracy':>10}",
    ]
    for r in result["cuts"]:
        lines.append(
            f"{r['label'][:35]:<36}{r['frozen_params']:>10,}{r['trainable_params']:>11,}{r['accuracy']:>10.1%}"
        )
    lines.append(f"{'from scratch':<36}{0:>10,}{result['params']:>11,}{result['scratch_accuracy']:>10.1%}")
    return "\n".join(lines + [""] + findings(result))


# Cost: 26.4 s of one core at the defaults (load average 0.3): about 6 s training the source network, the
# rest fine-tuning at every cut and for every example count, which grows with the steps.
SOURCE_COST = {"shapes": 1.0, "cifar10": 2.5}  # training images used, relative to 2,000 shapes


def cost(s: dict) -> float:
    """Estimated core-seconds: the source network's training, then the fine-tuning runs."""
    source = 6.0 * SOURCE_COST[s["dataset"]] * scaled(s, {"epochs": 3, "width": 16}, {"epochs": 1, "width": 2})
    return source + 20.4 * scaled(s, {"steps": 30, "width": 16}, {"steps": 1, "width": 2})


EXPERIMENT = register(
    Experiment(
        name="transfer-cut",
        title="Transfer learning: where to cut",
        summary="Trains a network on a source task, then fine-tunes it on a target task from a few labelled examples, "
        "freezing the layers below each cut in turn, beside the same network trained from scratch.",
        knobs=KNOBS,
        run=run,
        report=report,
        cost=lambda s: (
            6.0 * SOURCE_COST[s["dataset"]] * scaled(s, {"epochs": 3, "width": 16}, {"epochs": 1, "width": 2})
            + 20.4 * scaled(s, {"steps": 30, "width": 16}, {"steps": 1, "width": 2})
        ),
        validate=validate,
        paper='the lecture\'s "How should I choose the right cut?" and its transfer-learning taxonomy',
    )
)
