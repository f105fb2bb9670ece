"""Quantization, live: the base network's weights and activations in 8-bit integers (post-training, static),
its size, accuracy and latency beside the fp32 original."""

from __future__ import annotations

from ..live import compression
from ..live.training import ProgressFn, evaluate
from ..reference import LECTURE_EDGE
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


def run_quantize(settings: dict, progress: ProgressFn | None = None, data_dir: str | None = None) -> dict:
    backend = compression.check_backend(settings["backend"])  # before training: a missing engine is said at once
    data = load_data(settings, data_dir)
    model, info, from_cache = base_network(settings, data, progress, data_dir)
    analysis = analysis_for(settings, data)
    fp32 = compression.on_cpu(model)
    int8 = compression.quantize_int8(fp32, data.train_x[: settings["calibration"]], backend)
    fp32_accuracy, int8_accuracy = evaluate(fp32, data.test_x, data.test_y), evaluate(int8, data.test_x, data.test_y)
    fp32_bytes, int8_bytes = compression.model_bytes(fp32), compression.model_bytes(int8)
    latency = compression.latency_ms({"fp32": fp32, "int8": int8}, data.input_shape, settings["repeats"])
    macs = analysis.totals.mult_adds
    return {
        "base": base_summary(settings, data, model, info, from_cache),
        "backend": backend,
        "available_backends": list(compression.available_backends()),
        "method": "post-training static quantization, FX graph mode (torch.ao.quantization prepare_fx/convert_fx)",
        "calibration_images": min(settings["calibration"], len(data.train_y)),
        "fp32_size_bytes": fp32_bytes,
        "int8_size_bytes": int8_bytes,
        "size_ratio": fp32_bytes / int8_bytes,
        "fp32_accuracy": fp32_accuracy,
        "int8_accuracy": int8_accuracy,
        "fp32_latency_ms": latency["fp32"],
        "int8_latency_ms": latency["int8"],
        "speedup": latency["fp32"] / latency["int8"],
        "variants": [
            variant(fp32_name(settings), fp32, fp32_bytes, macs, fp32_accuracy, latency["fp32"]),
            variant(
                f"{settings['family']} w{settings['width']}, int8 ({backend})",
                fp32,
                int8_bytes,
                macs,
                int8_accuracy,
                latency["int8"],
                "int8 multiply-adds",
            ),
        ],
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
        f"({r['backend']} engine, one thread): "
        + (
            f"{faster:.1f}x faster."
            if faster >= 1.05
            else "no faster."
            if faster > 0.95
            else f"{1 / faster:.1f}x slower: at this size, converting the "
            "activations to int8 and back costs more than the int8 "
            "arithmetic saves."
        ),
    ]


def report_quantize(r: dict) -> str:
    lines = [
        f"{r['base']['network']} on {r['base']['dataset']}; {r['method']}, {r['backend']} engine.",
        f"{'':14}{'size (bytes)':>14}{'accuracy':>10}{'latency (ms)':>14}",
        f"{'fp32':14}{r['fp32_size_bytes']:>14,}{r['fp32_accuracy']:>10.1%}{r['fp32_latency_ms']:>14.3f}",
        f"{'int8':14}{r['int8_size_bytes']:>14,}{r['int8_accuracy']:>10.1%}{r['int8_latency_ms']:>14.3f}",
    ]
    return "\n".join(lines + [""] + findings_quantize(r))


register(
    Experiment(
        name="quantize",
        title="Quantization: fp32 to int8",
        summary="Converts the trained network's weights and activations to 8-bit integers with PyTorch's own "
        "post-training quantization, then measures its size, accuracy and latency beside the original.",
        knobs=NETWORK_KNOBS
        + (
            Knob(
                "backend",
                "choice",
                "default",
                "PyTorch's quantized engine: x86 and fbgemm (Intel/AMD), qnnpack (ARM, "
                "phones), onednn; default: PyTorch's choice for this CPU.",
                choices=("default",) + compression.BACKENDS,
            ),
            Knob(
                "calibration",
                "int",
                200,
                "Training images run through the network to observe the activations' ranges.",
                1,
                2000,
                label="calibration images",
            ),
            REPEATS_KNOB,
        ),
        run=run_quantize,
        report=report_quantize,
        cost=lambda s: base_cost(s) + 2.3 * scaled(s, {"calibration": 200}, {"calibration": 0.5}),
        validate=lambda settings: compression.check_backend(settings["backend"]),
        paper='the lecture: "Reducing a model encoded in 32-bit into 8-bit cut model size '
        f'x{LECTURE_EDGE["quantization_size_ratio"]:g}"',
    )
)
