"""Lightening a trained network for edge devices, live: quantize, prune, truncate, distill (the lecture's
"Brief Overview: Edge-Computing").

All four start from one network trained on the chosen data and cached on disk (the "base"), so the
first experiment trains it and the others load it. Each result lists its variants (parameters, size,
multiply-adds, accuracy, latency) for the edge page's table of everything made in the session.
"""
from __future__ import annotations

import copy

import torch

from .. import data as datasets
from .. import edge, transfer
from ..errors import KnobError
from ..reference import LECTURE_EDGE
from ..registry import Knob
from ..training import ProgressFn, as_part, device, evaluate, seed_everything, train
from .base import Experiment, register
from .networks import (EPOCHS_KNOB, FAMILY_KNOB, IMAGE_SIDE, SEED_KNOB, TITLES, WIDTH_KNOB, build_network,
                       network_analysis, trained_network)

SIZES = {"digits": (None, None), "shapes": (2000, 500), "cifar10": (5000, 1000)}  # train, test images used
NETWORK_KNOBS = (
    FAMILY_KNOB, WIDTH_KNOB, EPOCHS_KNOB,
    Knob("dataset", "choice", "shapes", "Generated coloured shapes (ten classes), scikit-learn's handwritten digits, "
         "or CIFAR-10 from a local folder.", choices=datasets.DATASETS),
    SEED_KNOB,
)
REPEATS_KNOB = Knob("repeats", "int", 50, "Timed forward passes of one image per model; the latency is their "
                    "median.", 5, 500, label="latency repeats")


# -- the base network ---------------------------------------------------------------------------------
def load_data(settings: dict, data_dir: str | None = None) -> datasets.Dataset:
    n_train, n_test = SIZES[settings["dataset"]]
    return datasets.load(settings["dataset"], size=IMAGE_SIDE, seed=settings["seed"], n_train=n_train,
                         n_test=n_test, domain="day", data_dir=data_dir)


def analysis_for(settings: dict, data: datasets.Dataset, width: int | None = None):
    return network_analysis(settings["family"], width or settings["width"], data.input_shape, data.num_classes)


def base_network(settings: dict, data: datasets.Dataset, progress: ProgressFn | None, data_dir: str | None):
    """(model, info, from_cache): the trained base network, shared by the four experiments."""
    return trained_network("edge/base", {"dataset": datasets.fingerprint(settings["dataset"], data_dir),
                                         "sizes": list(SIZES[settings["dataset"]])},
                           settings["family"], settings["width"], data, settings["epochs"], settings["seed"],
                           progress, stage="base network")


def variant(name: str, model, size_bytes: int, mult_adds: int, accuracy: float, latency_ms: float,
            note: str = "", params: int | None = None) -> dict:
    """One row of the session's table of variants."""
    return {"variant": name, "params": edge.param_count(model) if params is None else params, "size_bytes": size_bytes,
            "size_mb": size_bytes / edge.MB, "mult_adds": int(mult_adds), "accuracy": accuracy,
            "latency_ms": latency_ms, "note": note}


def base_summary(settings: dict, data: datasets.Dataset, model, info: dict, from_cache: bool) -> dict:
    return {"network": TITLES[settings["family"]], "dataset": data.description, "train": len(data.train_y),
            "test": len(data.test_y), "input_shape": list(data.input_shape), "classes": data.num_classes,
            "chance": datasets.chance(data), "train_seconds": info["train_seconds"], "from_cache": from_cache,
            "params": edge.param_count(model)}


def fp32_name(settings: dict) -> str:
    return f"{settings['family']} w{settings['width']}, fp32"


# -- quantization -------------------------------------------------------------------------------------
def run_quantize(settings: dict, progress: ProgressFn | None = None, data_dir: str | None = None) -> dict:
    backend = edge.check_backend(settings["backend"])  # before training: a missing engine is said at once
    data = load_data(settings, data_dir)
    model, info, from_cache = base_network(settings, data, progress, data_dir)
    analysis = analysis_for(settings, data)
    fp32 = edge.on_cpu(model)
    int8 = edge.quantize_int8(fp32, data.train_x[:settings["calibration"]], backend)
    fp32_accuracy, int8_accuracy = evaluate(fp32, data.test_x, data.test_y), evaluate(int8, data.test_x, data.test_y)
    fp32_bytes, int8_bytes = edge.model_bytes(fp32), edge.model_bytes(int8)
    latency = edge.latency_ms({"fp32": fp32, "int8": int8}, data.input_shape, settings["repeats"])
    macs = analysis.totals.mult_adds
    return {
        "base": base_summary(settings, data, model, info, from_cache),
        "backend": backend, "available_backends": list(edge.available_backends()),
        "method": "post-training static quantization, FX graph mode (torch.ao.quantization prepare_fx/convert_fx)",
        "calibration_images": min(settings["calibration"], len(data.train_y)),
        "fp32_size_bytes": fp32_bytes, "int8_size_bytes": int8_bytes, "size_ratio": fp32_bytes / int8_bytes,
        "fp32_accuracy": fp32_accuracy, "int8_accuracy": int8_accuracy,
        "fp32_latency_ms": latency["fp32"], "int8_latency_ms": latency["int8"],
        "speedup": latency["fp32"] / latency["int8"],
        "variants": [variant(fp32_name(settings), fp32, fp32_bytes, macs, fp32_accuracy, latency["fp32"]),
                     variant(f"{settings['family']} w{settings['width']}, int8 ({backend})", fp32, int8_bytes, macs,
                             int8_accuracy, latency["int8"], "int8 multiply-adds")],
    }


def findings_quantize(r: dict) -> list[str]:
    faster = r["speedup"]
    return [
        f"int8 weights make the model {r['size_ratio']:.2f}x smaller on disk ({r['fp32_size_bytes']:,} → "
        f"{r['int8_size_bytes']:,} bytes; the lecture: x{LECTURE_EDGE['quantization_size_ratio']:g}): each weight "
        f"takes one byte instead of four, plus a scale and zero point per channel and the layer names.",
        f"Test accuracy {r['fp32_accuracy']:.1%} → {r['int8_accuracy']:.1%} "
        f"({(r['int8_accuracy'] - r['fp32_accuracy']) * 100:+.1f} points) after calibrating on "
        f"{r['calibration_images']} training images.",
        f"One image takes {r['fp32_latency_ms']:.2f} ms in fp32 and {r['int8_latency_ms']:.2f} ms in int8 on this CPU "
        f"({r['backend']} engine, one thread): " + (f"{faster:.1f}x faster." if faster >= 1.05 else
                                                     "no faster." if faster > 0.95 else
                                                     f"{1 / faster:.1f}x slower: at this size, converting the "
                                                     "activations to int8 and back costs more than the int8 "
                                                     "arithmetic saves."),
    ]


def report_quantize(r: dict) -> str:
    lines = [f"{r['base']['network']} on {r['base']['dataset']}; {r['method']}, {r['backend']} engine.",
             f"{'':14}{'size (bytes)':>14}{'accuracy':>10}{'latency (ms)':>14}",
             f"{'fp32':14}{r['fp32_size_bytes']:>14,}{r['fp32_accuracy']:>10.1%}{r['fp32_latency_ms']:>14.3f}",
             f"{'int8':14}{r['int8_size_bytes']:>14,}{r['int8_accuracy']:>10.1%}{r['int8_latency_ms']:>14.3f}"]
    return "\n".join(lines + [""] + findings_quantize(r))


register(Experiment(
    name="quantize",
    title="Quantization: fp32 to int8",
    summary="Converts the trained network's weights and activations to 8-bit integers with PyTorch's own "
            "post-training quantization, then measures its size, accuracy and latency beside the original.",
    knobs=NETWORK_KNOBS + (
        Knob("backend", "choice", "default", "PyTorch's quantized engine: x86 and fbgemm (Intel/AMD), qnnpack (ARM, "
             "phones), onednn; default: PyTorch's choice for this CPU.", choices=("default",) + edge.BACKENDS),
        Knob("calibration", "int", 200, "Training images run through the network to observe the activations' "
             "ranges.", 1, 2000, label="calibration images"),
        REPEATS_KNOB,
    ),
    run=run_quantize, report=report_quantize, validate=lambda settings: edge.check_backend(settings["backend"]),
    paper="the lecture: \"Reducing a model encoded in 32-bit into 8-bit cut model size x4\"",
))


# -- pruning ------------------------------------------------------------------------------------------
SPARSITY_CURVE = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
LECTURE_PRUNING = (LECTURE_EDGE["pruning_size_ratio"], LECTURE_EDGE["pruning_accuracy_retained"])
KEPT = f"{LECTURE_PRUNING[1]:.0%}"  # the lecture's share of the accuracy, as the sentences write it
FINE_TUNE_LR = 0.01  # a tenth of the base training's peak: the surviving weights are already trained


def pruned_copy(model, sparsity: float, scope: str):
    return edge.prune_magnitude(copy.deepcopy(model), sparsity, scope)


def fine_tune_pruned(model, data: datasets.Dataset, steps: int, seed: int, progress, stage: str) -> None:
    """A short fine-tune with the masks attached: the pruned weights stay zero, the others adjust."""
    n = min(len(data.train_y), steps * 64)
    seed_everything(seed)
    train(model, data.train_x[:n], data.train_y[:n], epochs=1, lr=FINE_TUNE_LR, seed=seed, stage=stage,
          progress=progress)


def run_prune(settings: dict, progress: ProgressFn | None = None, data_dir: str | None = None) -> dict:
    data = load_data(settings, data_dir)
    sparsities = sorted(set(SPARSITY_CURVE) | {settings["sparsity"]})
    steps = settings["finetune_steps"]
    parts = 1 + (len(sparsities) if steps else 0)
    model, info, from_cache = base_network(settings, data, as_part(progress, 1, parts), data_dir)
    analysis = analysis_for(settings, data)
    base_accuracy = evaluate(model, data.test_x, data.test_y)
    dense_bytes = edge.model_bytes(edge.on_cpu(model))
    curve = {"sparsity": [], "accuracy": [], "finetuned_accuracy": [], "measured_sparsity": [],
             "compressed_bytes": [], "finetuned_measured_sparsity": [], "nonzero_mult_adds": []}
    chosen = {}
    for i, s in enumerate(sparsities, start=2):
        pruned = pruned_copy(model, s, settings["scope"])
        measured = edge.weight_sparsity(pruned)["all"]  # the masked weights, as the forward pass uses them
        accuracy = evaluate(pruned, data.test_x, data.test_y)
        if steps:
            fine_tune_pruned(pruned, data, steps, settings["seed"], as_part(progress, i, parts),
                             f"network pruned to {s:.0%} sparsity")
            tuned = evaluate(pruned, data.test_x, data.test_y)
        else:
            tuned = accuracy
        permanent = edge.make_permanent(edge.on_cpu(pruned))
        curve["sparsity"].append(s)
        curve["accuracy"].append(accuracy)
        curve["finetuned_accuracy"].append(tuned)
        curve["measured_sparsity"].append(measured)
        curve["finetuned_measured_sparsity"].append(edge.weight_sparsity(permanent)["all"])
        curve["compressed_bytes"].append(edge.compressed_bytes(permanent))
        curve["nonzero_mult_adds"].append(edge.nonzero_mult_adds(permanent, analysis))
        if s == settings["sparsity"]:
            chosen = {"model": permanent, "accuracy": accuracy, "tuned": tuned, "bytes": curve["compressed_bytes"][-1],
                      "layers": edge.weight_sparsity(permanent)}
    fp32 = edge.on_cpu(model)
    latency = edge.latency_ms({"fp32": fp32, "pruned": chosen["model"]}, data.input_shape, settings["repeats"])
    macs = analysis.totals.mult_adds
    label = f"{settings['family']} w{settings['width']}, pruned {settings['sparsity']:.0%} ({settings['scope']})"
    return {
        "base": base_summary(settings, data, model, info, from_cache), "scope": settings["scope"],
        "base_accuracy": base_accuracy, "dense_bytes": dense_bytes, "finetune_steps": steps, **curve,
        "retained": [a / base_accuracy for a in curve["accuracy"]],
        "finetuned_retained": [a / base_accuracy for a in curve["finetuned_accuracy"]],
        "chosen": {"sparsity": settings["sparsity"], "accuracy": chosen["accuracy"],
                   "finetuned_accuracy": chosen["tuned"],
                   "compressed_bytes": chosen["bytes"], "layer_sparsity": chosen["layers"],
                   "latency_ms": latency["pruned"], "fp32_latency_ms": latency["fp32"]},
        "variants": [variant(fp32_name(settings), fp32, dense_bytes, macs, base_accuracy, latency["fp32"]),
                     variant(label + (f" + {steps}-step fine-tune" if steps else ""), chosen["model"], chosen["bytes"],
                             macs, chosen["tuned"], latency["pruned"], "parameters: the non-zero ones; size: bit "
                             "mask + non-zero weights; dense kernels still multiply the zeros",
                             params=int(sum((p != 0).sum() for p in chosen["model"].parameters())))],
    }


def lecture_check(r: dict) -> dict:
    """The lecture's "2x smaller, 97% of the accuracy", on this curve: the first sparsity at half the size."""
    target_bytes = r["dense_bytes"] / LECTURE_PRUNING[0]
    index = next((i for i, b in enumerate(r["compressed_bytes"]) if b <= target_bytes), None)
    if index is None:
        return {"found": False}
    return {"found": True, "sparsity": r["sparsity"][index], "ratio": r["dense_bytes"] / r["compressed_bytes"][index],
            "retained": r["retained"][index], "finetuned_retained": r["finetuned_retained"][index],
            "holds": max(r["retained"][index], r["finetuned_retained"][index]) >= LECTURE_PRUNING[1]}


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
        tuned = f", {check['finetuned_retained']:.1%} after the {r['finetune_steps']}-step fine-tune" \
            if r["finetune_steps"] else ""
        sentences.append(
            f"The lecture's \"{LECTURE_PRUNING[0]:g}x smaller, {KEPT} of the accuracy\" {verdict}: at "
            f"{check['sparsity']:.0%} sparsity the network stored sparsely is {check['ratio']:.2f}x smaller and keeps "
            f"{check['retained']:.1%} of its accuracy{tuned}.")
    else:
        sentences.append(f"No sparsity on the curve makes the stored size {LECTURE_PRUNING[0]:g}x smaller; the "
                         "lecture's figure is out of reach here.")
    keeps = [s for s, a in zip(r["sparsity"], r["retained"]) if a >= LECTURE_PRUNING[1]]
    keeps_tuned = [s for s, a in zip(r["sparsity"], r["finetuned_retained"]) if a >= LECTURE_PRUNING[1]]
    sentences.append(f"Without fine-tuning, pruning up to {max(keeps):.0%} of the weights keeps {KEPT} of the accuracy"
                     + (f"; with it, up to {max(keeps_tuned):.0%}." if r["finetune_steps"] and keeps_tuned else ".")
                     if keeps else f"Every pruned network loses more than {1 - LECTURE_PRUNING[1]:.0%} of the "
                     "accuracy.")
    c = r["chosen"]
    sentences.append(f"At the chosen {c['sparsity']:.0%} ({r['scope']}): accuracy {c['accuracy']:.1%}"
                     + (f", {c['finetuned_accuracy']:.1%} after fine-tuning" if r["finetune_steps"] else "")
                     + f"; stored sparsely {c['compressed_bytes']:,} bytes against {r['dense_bytes']:,} dense. "
                     f"A dense tensor keeps its zeros, so only a sparse format saves space, and dense kernels gain "
                     f"no speed ({c['fp32_latency_ms']:.2f} → {c['latency_ms']:.2f} ms).")
    return sentences


def report_prune(r: dict) -> str:
    lines = [f"{r['base']['network']} on {r['base']['dataset']}: magnitude pruning ({r['scope']}), "
             f"base accuracy {r['base_accuracy']:.1%}, {r['dense_bytes']:,} bytes dense.",
             f"{'sparsity':>9}{'accuracy':>10}{'fine-tuned':>12}{'retained':>10}{'stored bytes':>14}"]
    for s, a, t, k, b in zip(r["sparsity"], r["accuracy"], r["finetuned_accuracy"], r["retained"],
                             r["compressed_bytes"]):
        lines.append(f"{s:>9.0%}{a:>10.1%}{t:>12.1%}{k:>10.1%}{b:>14,}")
    return "\n".join(lines + [""] + findings_prune(r))


def validate_prune(settings: dict) -> None:
    edge.check_sparsity(settings["sparsity"])


register(Experiment(
    name="prune",
    title="Pruning: remove the smallest weights",
    summary="Zeroes the smallest-magnitude weights of the trained network (torch.nn.utils.prune) at a range of "
            "sparsities, with and without a short fine-tune, and measures accuracy and the size stored sparsely.",
    knobs=NETWORK_KNOBS + (
        Knob("sparsity", "float", 0.5, "Share of the convolution and fully connected weights set to zero.", 0.0,
             1.0, step=0.05),
        Knob("scope", "choice", "global", "global: one magnitude threshold for the whole network; layer: every "
             "layer loses the same share.", choices=edge.SCOPES),
        Knob("finetune_steps", "int", 20, "Steps of 64 training images after pruning (0: no fine-tune).", 0, 200,
             label="fine-tuning steps"),
        REPEATS_KNOB,
    ),
    run=run_prune, report=report_prune, validate=validate_prune,
    paper="the lecture: \"reduced up to 2x in size while retaining 97% of the original accuracy\"",
))


# -- truncation ---------------------------------------------------------------------------------------
HEAD_EPOCHS = 30  # the new head is one linear layer on stored features: thirty passes take a second


def truncation_points(analysis) -> list[int]:
    """Weight layers kept: every stage boundary (VGG: after each block and each FC layer)."""
    return [k for k in transfer.stage_cuts(analysis) if k > 0]


def validate_truncate(settings: dict) -> None:
    if settings["keep"] is None:
        return
    data_shape = (1 if settings["dataset"] == "digits" else 3, IMAGE_SIDE, IMAGE_SIDE)
    analysis = network_analysis(settings["family"], settings["width"], data_shape, 10)
    points = truncation_points(analysis)
    transfer.check_cut(analysis, settings["keep"])
    if settings["keep"] not in points:
        raise KnobError(f"Truncation keeps whole stages; keep one of {', '.join(map(str, points))} weight layers "
                        f"(got {settings['keep']}).")


@torch.no_grad()
def features(trunk, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """The trunk's output for every image, pooled to one value per channel (what the new head reads)."""
    out = []
    dev = next(trunk.parameters()).device
    for i in range(0, len(x), batch_size):
        f = trunk(x[i:i + batch_size].to(dev))
        out.append((f.mean(dim=(2, 3)) if f.dim() == 4 else f.flatten(1)).cpu())
    return torch.cat(out)


def truncate_at(model, analysis, k: int, data: datasets.Dataset, seed: int, progress, stage: str):
    """The first k weight layers of the trained network and a new head trained on their (frozen) features."""
    layers = transfer.weight_layers(analysis)
    trunk = edge.trunk_before(edge.on_cpu(model), layers[k].row.name).to(device()).eval()
    feature_shape = transfer.plan(analysis, k).feature_shape
    head = edge.new_head(feature_shape, data.num_classes)
    linear = head[-1]
    torch.manual_seed(seed)
    linear.reset_parameters()
    linear.to(device())
    seed_everything(seed)
    train(linear, features(trunk, data.train_x), data.train_y, epochs=HEAD_EPOCHS, lr=0.05, seed=seed, stage=stage,
          progress=progress)
    truncated = edge.Truncated(trunk, head.to(device())).eval()
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
    rows, models = [], {"full": edge.on_cpu(model)}
    layers = transfer.weight_layers(analysis)
    for i, k in enumerate(points, start=2):
        truncated, shape, macs = truncate_at(model, analysis, k, data, settings["seed"], as_part(progress, i, parts),
                                             f"new head after {layers[k - 1].row.name}")
        accuracy = evaluate(truncated, data.test_x, data.test_y)
        cpu = edge.on_cpu(truncated)
        models[k] = cpu
        rows.append({"keep": k, "after": layers[k - 1].row.name, "feature_shape": list(shape),
                     "params": edge.param_count(cpu), "size_bytes": edge.model_bytes(cpu), "mult_adds": macs,
                     "accuracy": accuracy, "retained": accuracy / full_accuracy})
    latency = edge.latency_ms(models, data.input_shape, settings["repeats"])
    for row in rows:
        row["latency_ms"] = latency[row["keep"]]
    keep = settings["keep"] or next((r["keep"] for r in rows if r["retained"] >= LECTURE_PRUNING[1]), points[-1])
    chosen = next(r for r in rows if r["keep"] == keep)
    full = models["full"]
    return {
        "base": base_summary(settings, data, model, info, from_cache), "full_accuracy": full_accuracy,
        "full_params": edge.param_count(full), "full_mult_adds": analysis.totals.mult_adds,
        "full_latency_ms": latency["full"], "cuts": rows, "keep": keep,
        "variants": [variant(fp32_name(settings), full, edge.model_bytes(full), analysis.totals.mult_adds,
                             full_accuracy, latency["full"]),
                     variant(f"{settings['family']} w{settings['width']}, truncated after {chosen['after']}",
                             models[keep], chosen["size_bytes"], chosen["mult_adds"], chosen["accuracy"],
                             chosen["latency_ms"], "new head: global average pooling + one linear layer")],
    }


def findings_truncate(r: dict) -> list[str]:
    chosen = next(c for c in r["cuts"] if c["keep"] == r["keep"])
    smallest = next((c for c in r["cuts"] if c["retained"] >= LECTURE_PRUNING[1]), None)
    sentences = [f"Cut after {chosen['after']} with a new head: {chosen['params']:,} parameters "
                 f"({chosen['params'] / r['full_params']:.0%} of {r['full_params']:,}), "
                 f"{chosen['mult_adds'] / r['full_mult_adds']:.0%} of the multiply-adds, accuracy "
                 f"{chosen['accuracy']:.1%} against {r['full_accuracy']:.1%} for the whole network "
                 f"({chosen['latency_ms']:.2f} against {r['full_latency_ms']:.2f} ms an image)."]
    if smallest:
        sentences.append(f"The shortest network keeping {KEPT} of the accuracy ends after {smallest['after']}: "
                         f"{r['full_params'] / smallest['params']:.1f}x fewer parameters.")
    else:
        sentences.append(f"No truncation keeps {KEPT} of the accuracy: every stage is needed.")
    return sentences


def report_truncate(r: dict) -> str:
    lines = [f"{r['base']['network']} on {r['base']['dataset']}: full network {r['full_params']:,} parameters, "
             f"{r['full_accuracy']:.1%}.", f"{'cut after':<24}{'params':>10}{'mult-adds':>12}{'accuracy':>10}"]
    for c in r["cuts"]:
        lines.append(f"{c['after']:<24}{c['params']:>10,}{c['mult_adds']:>12,}{c['accuracy']:>10.1%}")
    return "\n".join(lines + [""] + findings_truncate(r))


register(Experiment(
    name="truncate",
    title="Truncation: cut the network short",
    summary="Keeps the trained network's layers up to each stage boundary and trains a new head (global average "
            "pooling and one linear layer) on their features: parameters against accuracy.",
    knobs=NETWORK_KNOBS + (
        Knob("keep", "int", None, "Weight layers kept before the new head (a stage boundary).", 1, 60, optional=True,
             auto=f"the shortest keeping {KEPT} of the accuracy", label="weight layers kept"),
        REPEATS_KNOB,
    ),
    run=run_truncate, report=report_truncate, validate=validate_truncate,
    paper="the lecture: \"Pruning & Truncation: a subnetwork can achieve accuracy levels similar to large networks\"",
))


# -- distillation -------------------------------------------------------------------------------------
STUDENT_LR = 0.02  # the base network's own (explorer.training's default peak)
# Defaults T = 2 and soft weight 0.5, measured with a width-8 VGG student trained for 4 epochs: against labels
# alone, T = 4 with weight 0.9 cost 30-37 points on the shapes, T = 2 with 0.5 ranged from -13 to +11 points
# over shapes and digits, seeds 1-2. Distillation pays when the teacher knows much more than the student can
# learn alone in its budget; on these small tasks the student often learns the labels as fast on its own.


def train_student(settings: dict, data: datasets.Dataset, teacher, progress, stage: str):
    """The small network trained from labels alone (teacher None) or from the teacher's soft targets."""
    student = build_network(settings["family"], settings["student_width"], data.input_shape, data.num_classes,
                            settings["seed"] + 1).to(device())  # both students start from the same weights
    loss = None if teacher is None else \
        edge.distillation_loss(teacher, settings["temperature"], settings["soft_weight"])
    seed_everything(settings["seed"])
    train(student, data.train_x, data.train_y, epochs=settings["student_epochs"], lr=STUDENT_LR, seed=settings["seed"],
          stage=stage, progress=progress, loss_fn=loss)
    return student


def run_distill(settings: dict, progress: ProgressFn | None = None, data_dir: str | None = None) -> dict:
    data = load_data(settings, data_dir)
    teacher, info, from_cache = base_network(settings, data, as_part(progress, 1, 3), data_dir)
    plain = train_student(settings, data, None, as_part(progress, 2, 3), "student from labels")
    distilled = train_student(settings, data, teacher, as_part(progress, 3, 3),
                              f"student from soft targets (T = {settings['temperature']:g})")
    models = {"teacher": edge.on_cpu(teacher), "labels": edge.on_cpu(plain), "distilled": edge.on_cpu(distilled)}
    latency = edge.latency_ms(models, data.input_shape, settings["repeats"])
    teacher_macs = analysis_for(settings, data).totals.mult_adds
    student_macs = analysis_for(settings, data, settings["student_width"]).totals.mult_adds
    out = {}
    for name, model in models.items():
        out[name] = {"params": edge.param_count(model), "size_bytes": edge.model_bytes(model),
                     "accuracy": evaluate(model, data.test_x, data.test_y), "latency_ms": latency[name],
                     "mult_adds": teacher_macs if name == "teacher" else student_macs}
    s = settings
    student = f"{s['family']} w{s['student_width']}"
    return {
        "base": base_summary(settings, data, teacher, info, from_cache), **out,
        "temperature": s["temperature"], "soft_weight": s["soft_weight"], "student_width": s["student_width"],
        "student_epochs": s["student_epochs"],
        "variants": [variant(fp32_name(s) + " (teacher)", models["teacher"], out["teacher"]["size_bytes"], teacher_macs,
                             out["teacher"]["accuracy"], latency["teacher"]),
                     variant(f"{student} student, labels only", models["labels"], out["labels"]["size_bytes"],
                             student_macs, out["labels"]["accuracy"], latency["labels"]),
                     variant(f"{student} student, distilled (T = {s['temperature']:g})", models["distilled"],
                             out["distilled"]["size_bytes"], student_macs, out["distilled"]["accuracy"],
                             latency["distilled"], f"soft-target weight {s['soft_weight']:g}")],
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
    lines = [f"{r['base']['network']} on {r['base']['dataset']}.",
             f"{'':22}{'params':>10}{'bytes':>12}{'accuracy':>10}"]
    for name, title in (("teacher", "teacher"), ("labels", "student, labels"), ("distilled", "student, distilled")):
        lines.append(f"{title:22}{r[name]['params']:>10,}{r[name]['size_bytes']:>12,}{r[name]['accuracy']:>10.1%}")
    return "\n".join(lines + [""] + findings_distill(r))


register(Experiment(
    name="distill",
    title="Distillation: a small student learns from the trained network",
    summary="Trains a narrower copy of the network twice from the same start: from the labels alone, and from the "
            "trained network's soft targets at a temperature (Hinton, Vinyals & Dean 2015).",
    knobs=NETWORK_KNOBS + (
        Knob("student_width", "int", 8, "Channels of the student's first stage (the teacher's is 'width').", 4, 32,
             step=4, label="student width"),
        Knob("temperature", "float", 2.0, "Softens the teacher's probabilities, softmax(z / T): higher T shows "
             "more of how the teacher ranks the wrong classes.", 1.0, 20.0, step=0.5),
        Knob("soft_weight", "float", 0.5, "Share of the soft-target loss in the student's loss (the rest is the "
             "ordinary cross-entropy with the labels).", 0.0, 1.0, step=0.05, label="soft-target weight"),
        Knob("student_epochs", "int", 4, "Passes over the training images for each student.", 1, 20,
             label="student epochs"),
        REPEATS_KNOB,
    ),
    run=run_distill, report=report_distill,
    paper="Hinton, Vinyals & Dean, Distilling the Knowledge in a Neural Network, 2015",
))
