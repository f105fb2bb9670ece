"""Train and evaluate small networks, reproducibly, with a disk cache shared by every visitor.

    seed_everything(0)
    history = train(model, data.train_x, data.train_y, epochs=5, progress=print)
    accuracy = evaluate(model, data.test_x, data.test_y)

CPU by default, CUDA when available ($EXPLORER_DEVICE overrides). The progress callback receives a
Progress after every step: pages turn it into st.progress, the CLI prints or ignores it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from ..errors import ExperimentError

DEVICE_ENV = "EXPLORER_DEVICE"
THREADS_ENV = "EXPLORER_THREADS"


@dataclass(frozen=True)
class Progress:
    """Where a training run is: the stage (e.g. "residual"), epoch and step (1-based), running loss and accuracy."""

    stage: str
    epoch: int
    epochs: int
    step: int
    steps: int
    loss: float
    accuracy: float
    part: int = 1  # this stage is part `part` of `parts` of a longer job (two networks: parts=2)
    parts: int = 1

    @property
    def fraction(self) -> float:
        """Share of this stage done, 0..1."""
        return ((self.epoch - 1) * self.steps + self.step) / max(1, self.epochs * self.steps)

    @property
    def overall(self) -> float:
        """Share of the whole job done, 0..1."""
        return (self.part - 1 + self.fraction) / max(1, self.parts)

    def text(self) -> str:
        stage = f"{self.stage}: " if self.stage else ""
        return (
            f"{stage}epoch {self.epoch}/{self.epochs}, step {self.step}/{self.steps}, "
            f"loss {self.loss:.3f}, training accuracy {self.accuracy:.1%}"
        )


ProgressFn = Callable[[Progress], None]


def as_part(progress: ProgressFn | None, part: int, parts: int) -> ProgressFn | None:
    """A callback that reports a stage as part `part` of `parts` (for one progress bar over several trainings)."""
    if progress is None:
        return None
    return lambda p: progress(replace(p, part=part, parts=parts))


# Incremented by every call of train(): how tests tell a cached result from a fresh one.
TRAIN_CALLS = 0


def device() -> torch.device:
    """CUDA when available, else the CPU; $EXPLORER_DEVICE=cpu forces the CPU."""
    wanted = os.environ.get(DEVICE_ENV, "").strip().lower()
    if wanted:
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise ExperimentError(f"{DEVICE_ENV}={wanted} but this machine has no CUDA device; unset it or use cpu.")
        return torch.device(wanted)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextlib.contextmanager
def compute_threads():
    """CPU threads for training and evaluation: $EXPLORER_THREADS, else one.

    Measured on the shared 2-core machine while other processes ran (load average 2.7): the default
    layer-removal experiment took 33 s on one thread and 145 s on two (benchmarks/bench_experiments.py);
    a busy core stalls the other thread at every barrier. Several students training at once on one
    server is the same situation. One thread also makes the results independent of the core count:
    summation order changes with the threads, and so did the trained accuracies.
    """
    text = os.environ.get(THREADS_ENV, "")
    wanted = max(1, int(text) if text.strip().isdigit() else 1)
    # torch's intra-op thread count belongs to the calling thread (OpenMP's setting is per thread; measured: a
    # count set in one training thread is not seen by another), so each training sets and restores its own
    before = torch.get_num_threads()
    torch.set_num_threads(wanted)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def seed_everything(seed: int) -> None:
    """The same seed gives the same initial weights, batches and results (on the same device and threads)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def keep_frozen_statistics(model: nn.Module) -> None:
    """Batch-norm layers whose parameters are all frozen keep their running statistics (eval mode).

    Freezing a layer means its output must not change during fine-tuning; a batch-norm layer in train
    mode would still update its running mean and variance, so it is switched to eval mode.
    """
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            params = list(module.parameters(recurse=False))
            if params and not any(p.requires_grad for p in params):
                module.eval()


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> None:
    """Re-estimate the running statistics of the trainable batch-norm layers over x (frozen ones keep theirs).

    After a few dozen steps the running averages (momentum 0.1) still lag the weights: a VGG trained from
    scratch for 30 steps on 250 images scored 20% (chance) in eval mode, and 75% after this pass
    (measured). One pass with a cumulative average fixes that, as torch.optim.swa_utils.update_bn does;
    update_bn is not used because it re-estimates every layer, frozen ones included.
    """
    layers = [
        m
        for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and any(p.requires_grad for p in m.parameters(recurse=False))
    ]
    if not layers:
        return
    model.eval()
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below
        m.train()
    dev = next(model.parameters()).device
    with compute_threads():
        for i in range(0, len(x), batch_size):
            model(x[i : i + batch_size].to(dev))
    for m, momentum in zip(layers, momenta):
        m.momentum = momentum
    model.eval()


def train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 0.02,
    weight_decay: float = 5e-4,
    seed: int = 0,
    stage: str = "",
    progress: ProgressFn | None = None,
    loss_fn: Callable | None = None,
    forward: Callable | None = None,
) -> list[dict]:
    """Train the model's trainable parameters with SGD and a one-cycle schedule; returns one dict per epoch.

    SGD with momentum and a one-cycle learning rate (Smith and Topin 2019) reaches a good accuracy in
    a handful of epochs, which is what a live experiment can afford. loss_fn(logits, y, x) replaces the
    cross-entropy (distillation); forward(model, x) replaces model(x).
    """
    global TRAIN_CALLS
    TRAIN_CALLS += 1
    if epochs < 1:
        raise ExperimentError(f"Training needs at least one epoch; got {epochs}.")
    if len(y) == 0:
        raise ExperimentError("There are no training examples; choose more examples or other classes.")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ExperimentError("Every parameter is frozen, so there is nothing to train; move the cut.")
    dev = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    steps = (len(y) + batch_size - 1) // batch_size
    optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps)
    loss_fn = loss_fn or (lambda logits, target, _x: nn.functional.cross_entropy(logits, target))
    forward = forward or (lambda m, inputs: m(inputs))
    history = []
    with compute_threads():
        for epoch in range(1, epochs + 1):
            model.train()
            keep_frozen_statistics(model)
            order = torch.randperm(len(y), generator=generator)
            total_loss, correct, seen = 0.0, 0, 0
            for step in range(1, steps + 1):
                index = order[(step - 1) * batch_size : step * batch_size]
                inputs, target = x[index].to(dev), y[index].to(dev)
                logits = forward(model, inputs)
                loss = loss_fn(logits, target, inputs)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                total_loss += float(loss.detach()) * len(index)
                correct += int((logits.argmax(1) == target).sum())
                seen += len(index)
                if progress is not None:
                    progress(Progress(stage, epoch, epochs, step, steps, total_loss / seen, correct / seen))
            history.append({"epoch": epoch, "loss": total_loss / seen, "accuracy": correct / seen})
    model.eval()
    return history


def device_of(model: nn.Module) -> torch.device:
    """Where the model's tensors live (a quantized model has buffers but no parameters)."""
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        return tensor.device
    return torch.device("cpu")


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 500, forward: Callable | None = None) -> torch.Tensor:
    """Logits for every image, in eval mode, batch by batch."""
    model.eval()
    dev = device_of(model)
    forward = forward or (lambda m, inputs: m(inputs))
    with compute_threads():
        return torch.cat([forward(model, x[i : i + batch_size].to(dev)).cpu() for i in range(0, len(x), batch_size)])


def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500, forward: Callable | None = None
) -> float:
    """Accuracy (a fraction in [0, 1]) of the model in eval mode."""
    if len(y) == 0:
        raise ExperimentError("There are no test examples to measure the accuracy on.")
    return float((predict(model, x, batch_size, forward).argmax(1) == y).float().mean())
