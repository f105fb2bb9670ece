"""The trained network the four edge-computing experiments lighten (the lecture's "Brief Overview:
Edge-Computing"): its data, its knobs, and the rows of the edge page's table of variants.

All four (quantize, prune, truncate, distill) start from one network trained on the chosen data and cached
on disk (the "base"), so the first experiment trains it and the others load it. Each result lists its
variants (parameters, size, multiply-adds, accuracy, latency).
"""

from __future__ import annotations

from ..live import compression
from ..live import data as datasets
from ..live.networks import (
    EPOCHS_KNOB,
    FAMILY_KNOB,
    IMAGE_SIDE,
    SEED_KNOB,
    TITLES,
    WIDTH_KNOB,
    network_analysis,
    trained_network,
)
from ..live.training import ProgressFn
from ..reference import LECTURE_EDGE
from ..registry import Knob
from .base import scaled

SIZES = {"digits": (None, None), "shapes": (2000, 500), "cifar10": (5000, 1000)}  # train, test images used
NETWORK_KNOBS = (
    FAMILY_KNOB,
    WIDTH_KNOB,
    EPOCHS_KNOB,
    Knob(
        "dataset",
        "choice",
        "shapes",
        "Generated coloured shapes (ten classes), scikit-learn's handwritten digits, or CIFAR-10 from a local folder.",
        choices=datasets.DATASETS,
    ),
    Knob(
        "domain",
        "choice",
        "noisy",
        "How the generated shapes look (shapes only): 'noisy' adds camera-like pixel noise, so the base network "
        "stays well below 100% and every lighter variant shows what it costs; 'day' is the clean scenes, on "
        "which every variant scores 100% and no trade-off can show.",
        choices=tuple(datasets.DOMAINS),
    ),
    SEED_KNOB,
)
REPEATS_KNOB = Knob(
    "repeats",
    "int",
    50,
    "Timed forward passes of one image per model; the latency is their median.",
    5,
    500,
    label="latency repeats",
)
LECTURE_PRUNING = (LECTURE_EDGE["pruning_size_ratio"], LECTURE_EDGE["pruning_accuracy_retained"])
KEPT = f"{LECTURE_PRUNING[1]:.0%}"  # the lecture's share of the accuracy, as the sentences write it


# Cost of training the base network: about 7 s of one core at the defaults (width 16, 4 epochs, 2,000 shapes;
# benchmarks/bench_experiments.py --all measured 9.3 s for quantize, base included, load average 0.3).
BASE_REFERENCE = {"width": 16, "epochs": 4}
BASE_IMAGES = {"digits": 0.7, "shapes": 1.0, "cifar10": 2.5}  # training images used, relative to 2,000 shapes


def base_cost(settings: dict) -> float:
    """Estimated core-seconds of the base network's training (counted even when another variant cached it)."""
    return 7.0 * BASE_IMAGES[settings["dataset"]] * scaled(settings, BASE_REFERENCE, {"width": 2, "epochs": 1})


def load_data(settings: dict, data_dir: str | None = None) -> datasets.Dataset:
    n_train, n_test = SIZES[settings["dataset"]]
    return datasets.load(
        settings["dataset"],
        size=IMAGE_SIDE,
        seed=settings["seed"],
        n_train=n_train,
        n_test=n_test,
        domain=scene_domain(settings),
        data_dir=data_dir,
    )


def scene_domain(settings: dict) -> str:
    """The shapes' domain; the other datasets are photographs or scans as they are ("day")."""
    return settings.get("domain", "day") if settings["dataset"] == "shapes" else "day"


def analysis_for(settings: dict, data: datasets.Dataset, width: int | None = None):
    return network_analysis(settings["family"], width or settings["width"], data.input_shape, data.num_classes)


def base_network(settings: dict, data: datasets.Dataset, progress: ProgressFn | None, data_dir: str | None):
    """(model, info, from_cache): the trained base network, shared by the four experiments."""
    return trained_network(
        "edge/base",
        {
            "dataset": datasets.fingerprint(settings["dataset"], data_dir),
            "sizes": list(SIZES[settings["dataset"]]),
            "domain": scene_domain(settings),
        },
        settings["family"],
        settings["width"],
        data,
        settings["epochs"],
        settings["seed"],
        progress,
        stage="base network",
    )


def variant(
    name: str,
    model,
    size_bytes: int,
    mult_adds: int,
    accuracy: float,
    latency_ms: float,
    note: str = "",
    params: int | None = None,
) -> dict:
    """One row of the session's table of variants."""
    return {
        "variant": name,
        "params": compression.param_count(model) if params is None else params,
        "size_bytes": size_bytes,
        "size_mb": size_bytes / compression.MB,
        "mult_adds": int(mult_adds),
        "accuracy": accuracy,
        "latency_ms": latency_ms,
        "note": note,
    }


def base_summary(settings: dict, data: datasets.Dataset, model, info: dict, from_cache: bool) -> dict:
    return {
        "network": TITLES[settings["family"]],
        "dataset": data.description,
        "train": len(data.train_y),
        "test": len(data.test_y),
        "input_shape": list(data.input_shape),
        "classes": data.num_classes,
        "chance": datasets.chance(data),
        "train_seconds": info["train_seconds"],
        "from_cache": from_cache,
        "params": compression.param_count(model),
    }


def fp32_name(settings: dict) -> str:
    return f"{settings['family']} w{settings['width']}, fp32"
