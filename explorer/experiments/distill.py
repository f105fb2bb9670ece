"""Distillation, live: a small student trained from labels alone and from the base network's soft targets
(Hinton et al. 2015), at the same budget."""

from __future__ import annotations

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
# Defaults T = 2 and soft weight 0.5, measured with a width-8 VGG student trained for 4 epochs: against labels
# alone, T = 4 with weight 0.9 cost 30-37 points on the shapes, T = 2 with 0.5 ranged from -13 to +11 points
# over shapes and digits, seeds 1-2. Distillation pays when the teacher knows much more than the student can
# learn alone in its budget; on these small tasks the student often learns the labels as fast on its own.


def train_student(settings: dict, data: datasets.Dataset, teacher, progress, stage: str):
    """The small network trained from labels alone (teacher None) or from the teacher's soft targets."""
    student = build_network(
        settings["family"], settings["student_width"], data.input_shape, data.num_classes, settings["seed"] + 1
    ).to(device())  # both students start from the same weights
    loss = (
        None
        if teacher is None
        else compression.distillation_loss(teacher, settings["temperature"], settings["soft_weight"])
    )
    seed_everything(settings["seed"])
    train(
        student,
        data.train_x,
        data.train_y,
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
    teacher, info, from_cache = base_network(settings, data, as_part(progress, 1, 3), data_dir)
    plain = train_student(settings, data, None, as_part(progress, 2, 3), "student from labels")
    distilled = train_student(
        settings, data, teacher, as_part(progress, 3, 3), f"student from soft targets (T = {settings['temperature']:g})"
    )
    models = {
        "teacher": compression.on_cpu(teacher),
        "labels": compression.on_cpu(plain),
        "distilled": compression.on_cpu(distilled),
    }
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
    return {
        "base": base_summary(settings, data, teacher, info, from_cache),
        **out,
        "temperature": s["temperature"],
        "soft_weight": s["soft_weight"],
        "student_width": s["student_width"],
        "student_epochs": s["student_epochs"],
        "variants": [
            variant(
                fp32_name(s) + " (teacher)",
                models["teacher"],
                out["teacher"]["size_bytes"],
                teacher_macs,
                out["teacher"]["accuracy"],
                latency["teacher"],
            ),
            variant(
                f"{student} student, labels only",
                models["labels"],
                out["labels"]["size_bytes"],
                student_macs,
                out["labels"]["accuracy"],
                latency["labels"],
            ),
            variant(
                f"{student} student, distilled (T = {s['temperature']:g})",
                models["distilled"],
                out["distilled"]["size_bytes"],
                student_macs,
                out["distilled"]["accuracy"],
                latency["distilled"],
                f"soft-target weight {s['soft_weight']:g}",
            ),
        ],
    }


def findings_distill(r: dict) -> list[str]:
    t, plain, soft = r["teacher"], r["labels"], r["distilled"]
    gain = (soft["accuracy"] - plain["accuracy"]) * 100
    verdict = "helps" if gain >= 0.5 else "does not help" if gain <= -0.5 else "makes no difference"
    return [
        f"The student has {plain['params']:,} parameters, {t['params'] / plain['params']:.1f}x fewer than the "
        f"teacher's {t['params']:,} ({t['accuracy']:.1%}).",
        f"Trained from labels alone it reaches {plain['accuracy']:.1%}; from the teacher's soft targets at "
        f"temperature {r['temperature']:g}, {soft['accuracy']:.1%}: distillation {verdict} here ({gain:+.1f} points).",
    ]


def report_distill(r: dict) -> str:
    lines = [
        f"{r['base']['network']} on {r['base']['dataset']}.",
        f"{'':22}{'params':>10}{'bytes':>12}{'accuracy':>10}",
    ]
    for name, title in (("teacher", "teacher"), ("labels", "student, labels"), ("distilled", "student, distilled")):
        lines.append(f"{title:22}{r[name]['params']:>10,}{r[name]['size_bytes']:>12,}{r[name]['accuracy']:>10.1%}")
    return "\n".join(lines + [""] + findings_distill(r))


# Cost: 19.3 s of one core at the defaults, the teacher (the base network) included (load average 0.3).
STUDENT_REFERENCE = {"student_width": 8, "student_epochs": 4}


register(
    Experiment(
        name="distill",
        title="Distillation: a small student learns from the trained network",
        summary="Trains a narrower copy of the network twice from the same start: from the labels alone, and from the "
        "trained network's soft targets at a temperature (Hinton, Vinyals & Dean 2015).",
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
                2.0,
                "Softens the teacher's probabilities, softmax(z / T): higher T shows "
                "more of how the teacher ranks the wrong classes.",
                1.0,
                20.0,
                step=0.5,
            ),
            Knob(
                "soft_weight",
                "float",
                0.5,
                "Share of the soft-target loss in the student's loss (the rest is the "
                "ordinary cross-entropy with the labels).",
                0.0,
                1.0,
                step=0.05,
                label="soft-target weight",
            ),
            Knob(
                "student_epochs",
                "int",
                4,
                "Passes over the training images for each student.",
                1,
                20,
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
