"""The small networks that the transfer-learning and edge-computing experiments train: registered families.

Each choice is a registered family at a CIFAR-sized setting, so explorer.analyze describes exactly the
network that is trained (parameters, multiply-adds, the graph the pages colour):

    "vgg"     VGG paper, Table 1, column A (VGG-11's layout) with batch norm; stages w, 2w, 4w, 8w, 8w
              channels, FC widths 8w: the lecture's "Input, Conv2D, Pooling, ..., FC1, FC2, Softmax" picture
    "resnet"  He et al.'s CIFAR ResNet (Sec. 4.2) at its smallest, 6n+2 = 8 layers: a 3x3 stem, three stages
              of one basic block with w, 2w, 4w channels, global average pooling and one fully connected layer
              (ResNet-14 took 65 s for the transfer sweep on the shared 2-core machine; ResNet-8 stays under 60)

    analysis = network_analysis("vgg", 16, (3, 32, 32), num_classes=5)
    model = build_network("vgg", 16, (3, 32, 32), num_classes=5, seed=0)   # outputs logits
"""

from __future__ import annotations

import time

import torch
from torch import nn

from ..analysis import Analysis, analyze, build
from ..registry import Knob
from . import data as datasets
from .cache import cached_model
from .training import ProgressFn, seed_everything, train

# choice -> (registered family, its knobs at width w). The paper's tables stay in the family modules.
FAMILIES = {
    "vgg": ("vgg", lambda w: dict(config="A", width=w, fc_width=8 * w, batch_norm=True)),
    "resnet": ("resnet", lambda w: dict(depth=8, stem="cifar", width=w, block="basic", shortcut="A")),
}
TITLES = {"vgg": "VGG-11 layout (Table 1, column A) with batch norm", "resnet": "CIFAR ResNet-8 (He et al., Sec. 4.2)"}
IMAGE_SIDE = 32  # VGG's five 2x2 pools need at least 32x32 (32 -> 1)

FAMILY_KNOB = Knob(
    "family",
    "choice",
    "vgg",
    "The network: a small VGG (column A of the VGG paper's Table 1, "
    "with batch norm) or the smallest CIFAR ResNet (8 layers).",
    choices=tuple(FAMILIES),
)
WIDTH_KNOB = Knob(
    "width",
    "int",
    16,
    "Channels of the first stage; later stages double them (VGG: and its FC layers have 8x as many units).",
    4,
    32,
    step=4,
)
EPOCHS_KNOB = Knob(
    "epochs",
    "int",
    4,
    "Passes over the training images when the network is first trained (SGD with momentum, one-cycle learning rate).",
    1,
    20,
)
SEED_KNOB = Knob("seed", "int", 0, "Fixes the data, the initial weights and the batches.", 0, 9999)


def family_config(choice: str, width: int, num_classes: int) -> tuple[str, dict]:
    family, knobs = FAMILIES[choice]
    return family, {**knobs(width), "num_classes": num_classes}


def network_analysis(choice: str, width: int, input_shape: tuple, num_classes: int) -> Analysis:
    """explorer.analyze of the network as configured: what the tables and graphs show."""
    family, knobs = family_config(choice, width, num_classes)
    return analyze(family, tuple(input_shape), **knobs)


def without_softmax(model: nn.Module) -> nn.Module:
    """The network's logits: a final Softmax (VGG's, as in the paper) becomes the identity.

    Cross-entropy applies log-softmax itself, so training through the paper's softmax would apply it
    twice and shrink the gradients; the arg-max, hence every accuracy, is the same with or without it.
    """
    for name, module in list(model.named_modules()):
        if isinstance(module, nn.Softmax):
            parent, _, leaf = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, leaf, nn.Identity())
    return model


def build_network(choice: str, width: int, input_shape: tuple, num_classes: int, seed: int) -> nn.Module:
    """The configured family with real weights fixed by the seed, producing logits (on the CPU)."""
    family, knobs = family_config(choice, width, num_classes)
    torch.manual_seed(seed)
    return without_softmax(build(family, tuple(input_shape), **knobs))


def trained_network(
    kind: str,
    settings: dict,
    choice: str,
    width: int,
    data: datasets.Dataset,
    epochs: int,
    seed: int,
    progress: ProgressFn | None = None,
    stage: str = "network",
):
    """(model, info, from_cache): the network trained on the data, or its weights loaded from the disk cache.

    settings must identify the data (dataset, classes, domain, sizes, folder): it is the cache key with
    the network's own choice, width, epochs and seed.
    """
    key = {
        **settings,
        "family": choice,
        "width": width,
        "epochs": epochs,
        "seed": seed,
        "input_shape": list(data.input_shape),
        "classes": data.num_classes,
    }

    def make():
        return build_network(choice, width, data.input_shape, data.num_classes, seed)

    def fit(model):
        seed_everything(seed)
        start = time.perf_counter()
        history = train(model, data.train_x, data.train_y, epochs=epochs, seed=seed, stage=stage, progress=progress)
        return {"history": history, "train_seconds": time.perf_counter() - start}

    return cached_model(kind, key, make, fit)
