"""Distillation, live: a small student trained from labels alone and from the base network's soft targets
(Hinton et al. 2015), at the same budget."""

from __future__ import annotations

import torch

from ..live import compression
from ..live import data as datasets
from ..live.networks import (
    build_network,
)
from ..live.training import ProgressFn, as_part, device, evaluate, seed_everything, train
from ..registry import Knob
from .base import Experiment, register, scaled
from .edge_base import (
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

STUDENT_LR = 0.02  # the base network's own (explorer.training's default peak)
# The regime in which Hinton, Vinyals & Dean (2015) report that soft targets help: a teacher trained on all
# the data, and a much smaller student that sees only a few labelled examples (their Sec. 4: a model trained
# on 3% of the speech data reached 57.0% with soft targets against 44.5% with hard ones). The defaults
# follow the paper and the common practice after it, fixed before looking at our results: 20 labelled
# images per class, T = 4, soft-target weight 0.9 (the T^2-scaled soft loss dominating). All three
# students start from the same weights, see the same images for the same number of steps and differ only
# in their loss: labels alone, soft targets with the labels, soft targets alone.
STUDENTS = (
    ("labels", "labels only", 0.0),
    ("distilled", "soft targets + labels", None),  # None: the soft_weight knob
    ("soft", "soft targets only", 1.0),
)


def student_images(settings: dict, data: datasets.Dataset):
    """The labelled images the students learn from: `student_examples` per class, drawn by the seed."""
    per_class = settings["student_examples"]
    if per_class is None:
        return data.train_x, data.train_y
    generator = torch.Generator().manual_seed(settings["seed"])
    chosen = []
    for c in range(data.num_classes):
        members = torch.nonzero(data.train_y == c).flatten()
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    index = torch.cat(chosen).sort().values
    return data.train_x[index], data.train_y[index]


def train_student(settings: dict, data: datasets.Dataset, teacher, soft_weight: float, progress, stage: str):
    """The small network trained on the student's images with this share of soft-target loss (0: labels only)."""
    student = build_network(
        settings["family"], settings["student_width"], data.input_shape, data.num_classes, settings["seed"] + 1
    ).to(device())  # every student starts from the same weights
    loss = None if soft_weight == 0 else compression.distillation_loss(teacher, settings["temperature"], soft_weight)
    x, y = student_images(settings, data)
    seed_everything(settings["seed"])
    train(
        student,
        x,
        y,
        epochs=settings["student_epochs"],
        lr=STUDENT_LR,
        seed=settings["seed"],
        stage=stage,
        progress=progress,
        loss_fn=loss,
    )
    return student


def run_distill(settings: dict, progress: ProgressFn | None = None, data_dir: str | None = None) -> dict:
    data = load_data(settings, data_dir)
    parts = 1 + len(STUDENTS)
    teacher, info, from_cache = base_network(settings, data, as_part(progress, 1, parts), data_dir)
    models = {"teacher": compression.on_cpu(teacher)}
    for i, (key, title, weight) in enumerate(STUDENTS, start=2):
        weight = settings["soft_weight"] if weight is None else weight
        student = train_student(settings, data, teacher, weight, as_part(progress, i, parts), f"student, {title}")
        models[key] = compression.on_cpu(student)
    latency = compression.latency_ms(models, data.input_shape, settings["repeats"])
    teacher_macs = analysis_for(settings, data).totals.mult_adds
    student_macs = analysis_for(settings, data, settings["student_width"]).totals.mult_adds
    out = {}
    for name, model in models.items():
        out[name] = {
            "params": compression.param_count(model),
            "size_bytes": compression.model_bytes(model),
            "accuracy": evaluate(model, data.test_x, data.test_y),
            "latency_ms": latency[name],
            "mult_adds": teacher_macs if name == "teacher" else student_macs,
        }
    s = settings
    student = f"{s['family']} w{s['student_width']}"
    labelled = len(student_images(settings, data)[1])
    variants = [
        variant(
            fp32_name(s) + " (teacher)",
            models["teacher"],
            out["teacher"]["size_bytes"],
            teacher_macs,
            out["teacher"]["accuracy"],
            latency["teacher"],
        )
    ]
    for key, title, weight in STUDENTS:
        weight = s["soft_weight"] if weight is None else weight
        variants.append(
            variant(
                f"{student} student, {title}" + (f" (T = {s['temperature']:g})" if weight else ""),
                models[key],
                out[key]["size_bytes"],
                student_macs,
                out[key]["accuracy"],
                latency[key],
                f"{labelled:,} labelled images" + (f", soft-target weight {weight:g}" if weight else ""),
            )
        )
    return {
        "base": base_summary(settings, data, teacher, info, from_cache),
        **out,
        "temperature": s["temperature"],
        "soft_weight": s["soft_weight"],
        "student_width": s["student_width"],
        "student_epochs": s["student_epochs"],
        "student_images": labelled,
        "variants": variants,
    }


def findings_distill(r: dict) -> list[str]:
    t, plain, both = r["teacher"], r["labels"], r["distilled"]
    soft = r.get("soft")
    gain = (both["accuracy"] - plain["accuracy"]) * 100
    verdict = "helps" if gain >= 0.5 else "does not help" if gain <= -0.5 else "makes no difference"
    images = r.get("student_images")
    seen = f" from {images:,} labelled images" if images else ""
    sentences = [
        f"The student has {plain['params']:,} parameters, {t['params'] / plain['params']:.1f}x fewer than the "
        f"teacher's {t['params']:,} ({t['accuracy']:.1%}, trained on all {r['base']['train']:,} images).",
        f"Trained{seen} with labels alone it reaches {plain['accuracy']:.1%}; with the teacher's soft targets at "
        f"temperature {r['temperature']:g} (weight {r['soft_weight']:g}) and the labels, {both['accuracy']:.1%}: "
        f"distillation {verdict} here ({gain:+.1f} points).",
    ]
    if soft is not None:
        sentences.append(
            f"From the soft targets alone, without a single label, the student reaches {soft['accuracy']:.1%} "
            f"({(soft['accuracy'] - plain['accuracy']) * 100:+.1f} points against labels alone)."
        )
    return sentences


def report_distill(r: dict) -> str:
    lines = [
        f"{r['base']['network']} on {r['base']['dataset']}.",
        f"{'':32}{'params':>10}{'bytes':>12}{'accuracy':>10}",
    ]
    rows = [("teacher", "teacher")] + [(key, f"student, {title}") for key, title, _ in STUDENTS]
    for name, title in (row for row in rows if row[0] in r):
        lines.append(f"{title:32}{r[name]['params']:>10,}{r[name]['size_bytes']:>12,}{r[name]['accuracy']:>10.1%}")
    return "\n".join(lines + [""] + findings_distill(r))


# Cost: 19.3 s of one core at the defaults, the teacher (the base network) included (load average 0.3).
STUDENT_REFERENCE = {"student_width": 8, "student_epochs": 4}


register(
    Experiment(
        name="distill",
        title="Distillation: a small student learns from the trained network",
        summary="Trains a narrower copy of the network three times from the same start on a few labelled images: "
        "from the labels alone, from the trained network's soft targets at a temperature with the labels, and "
        "from the soft targets alone (Hinton, Vinyals & Dean 2015).",
        knobs=NETWORK_KNOBS
        + (
            Knob(
                "student_width",
                "int",
                8,
                "Channels of the student's first stage (the teacher's is 'width').",
                4,
                32,
                step=4,
                label="student width",
            ),
            Knob(
                "temperature",
                "float",
                4.0,
                "Softens the teacher's probabilities, softmax(z / T): higher T shows "
                "more of how the teacher ranks the wrong classes.",
                1.0,
                20.0,
                step=0.5,
            ),
            Knob(
                "soft_weight",
                "float",
                0.9,
                "Share of the soft-target loss in the student's loss (the rest is the "
                "ordinary cross-entropy with the labels).",
                0.0,
                1.0,
                step=0.05,
                label="soft-target weight",
            ),
            Knob(
                "student_examples",
                "int",
                20,
                "Labelled training images per class the students learn from (the teacher saw them all): soft "
                "targets are said to help most when labels are few.",
                1,
                1000,
                optional=True,
                auto="every training image",
                label="student's images per class",
            ),
            Knob(
                "student_epochs",
                "int",
                20,
                "Passes over the student's images (each student the same).",
                1,
                100,
                label="student epochs",
            ),
            REPEATS_KNOB,
        ),
        run=run_distill,
        report=report_distill,
        cost=lambda s: base_cost(s) + 12.3 * scaled(s, STUDENT_REFERENCE, {"student_width": 2, "student_epochs": 1}),
        paper="Hinton, Vinyals & Dean, Distilling the Knowledge in a Neural Network, 2015",
    )
)
