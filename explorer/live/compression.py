"""The lecture's three ways to lighten a network for edge devices, on real trained PyTorch models.

    Quantization   int8 weights and activations (torch.ao.quantization, FX graph mode, static):
                   "Reducing a model encoded in 32-bit into 8-bit cut model size x4"
    Pruning        magnitude pruning (torch.nn.utils.prune), globally or per layer:
                   "reduced up to 2x in size while retaining 97% of the original accuracy"
    Truncation     the network cut after a stage, with a new head (torch.fx keeps the layers before the cut)
    Distillation   "smaller networks trained from a large pretrained network" (Hinton et al. 2015)

Sizes are measured, never computed from parameter counts: the bytes torch.save writes for the model's
state_dict (MB = 2^20 bytes, as explorer.analysis counts). Latency is measured on the CPU, one image at a
time, as the median of repeated runs.
"""

from __future__ import annotations

import contextlib
import copy
import io
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
from torch.nn.utils import prune as torch_prune

from ..build import fx_traced_here
from ..errors import ExperimentError, KnobError
from .latency import Figure, time_models
from .training import compute_threads

MB = 2**20
BACKENDS = ("x86", "fbgemm", "qnnpack", "onednn")  # PyTorch's quantized engines (torch.backends.quantized)


# -- size and latency ---------------------------------------------------------------------------------
def serialized_bytes(obj) -> int:
    """Bytes torch.save writes for obj (a state_dict, or any tensor container)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.tell()


def model_bytes(model: nn.Module) -> int:
    """The model's size on disk: its state_dict as torch.save writes it."""
    return serialized_bytes(model.state_dict())


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def latency_figures(
    models: dict[str, nn.Module], input_shape: tuple, repeats: int = 50, warmup: int = 5, seed: int = 0
) -> dict[str, Figure]:
    """Median and quartiles of one forward pass of one image, for each model, in milliseconds.

    The one method of the app (explorer.live.latency.time_models, which the Explore and Compare figures use
    too): the models take turns within each repetition, so a burst of load from another process slows them
    all alike; the median ignores the bursts. Threads as the rest of the app (compute_threads: one).
    """
    x = torch.rand(1, *input_shape, generator=torch.Generator().manual_seed(seed))
    with compute_threads():
        times = time_models(models, x, repeats, warmup)
    return {name: Figure.of(t) for name, t in times.items()}


def latency_ms(
    models: dict[str, nn.Module], input_shape: tuple, repeats: int = 50, warmup: int = 5, seed: int = 0
) -> dict[str, float]:
    """Median CPU time of one forward pass of one image, for each model, in milliseconds (latency_figures)."""
    return {name: f.median for name, f in latency_figures(models, input_shape, repeats, warmup, seed).items()}


def on_cpu(model: nn.Module) -> nn.Module:
    """A CPU copy in eval mode (quantized kernels and the latency measurement are CPU-only)."""
    return copy.deepcopy(model).cpu().eval()


# -- quantization -------------------------------------------------------------------------------------
def available_backends() -> tuple[str, ...]:
    return tuple(e for e in torch.backends.quantized.supported_engines if e in BACKENDS)


def check_backend(backend: str | None) -> str:
    """The quantized engine to use: the one asked for, or PyTorch's choice for this CPU ("default" or None)."""
    available = available_backends()
    if backend in (None, "default"):
        backend = torch.backends.quantized.engine
        if backend not in available:
            backend = available[0] if available else "none"
    if backend not in available:
        raise ExperimentError(
            f"This machine's PyTorch has no '{backend}' quantization engine; choose one of "
            f"{', '.join(available) or 'none (this build cannot quantize)'}."
        )
    return backend


@contextlib.contextmanager
def quantized_engine(backend: str):
    before = torch.backends.quantized.engine
    torch.backends.quantized.engine = backend
    try:
        yield
    finally:
        torch.backends.quantized.engine = before


def quantize_int8(model: nn.Module, calibration: torch.Tensor, backend: str | None = None) -> nn.Module:
    """Post-training static int8 quantization of a float model (a CPU copy; the model is untouched).

    FX graph mode (prepare_fx, calibrate, convert_fx) rather than eager mode: it fuses conv + batch norm
    + ReLU and quantizes the residual additions by itself, where eager mode needs QuantStub/DeQuantStub
    and FloatFunctional written into every family. Weights are int8 per channel, activations uint8 with
    ranges observed on the calibration images. Dynamic quantization would only cover the Linear layers.
    torch 2.13 marks torch.ao.quantization as deprecated in favour of the separate torchao package, which
    is not installed; the tooling still works (tested), so its deprecation warning is silenced here.
    """
    backend = check_backend(backend)
    if len(calibration) == 0:
        raise ExperimentError("Static quantization needs at least one calibration image.")
    float_model = on_cpu(model)
    with warnings.catch_warnings(), quantized_engine(backend), compute_threads(), torch.no_grad():
        warnings.simplefilter("ignore", (DeprecationWarning, UserWarning, FutureWarning))
        with fx_traced_here():
            prepared = prepare_fx(float_model, get_default_qconfig_mapping(backend), (calibration[:1],))
        for i in range(0, len(calibration), 100):
            prepared(calibration[i : i + 100])  # the observers record the activations' ranges
        with fx_traced_here():
            quantized = convert_fx(prepared)
    return QuantizedModel(quantized, backend)


class QuantizedModel(nn.Module):
    """An int8 model that runs on the engine it was converted for (the engine is a process-wide setting)."""

    def __init__(self, model: nn.Module, backend: str):
        super().__init__()
        self.model, self.backend = model, backend

    def forward(self, x):
        with quantized_engine(self.backend):
            return self.model(x.cpu())

    def state_dict(self, *args, **kwargs):
        return self.model.state_dict(*args, **kwargs)


# -- pruning ------------------------------------------------------------------------------------------
SCOPES = ("global", "layer")


def prunable(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """The weights magnitude pruning removes: every convolution's and fully connected layer's."""
    return [(m, "weight") for m in model.modules() if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear))]


def check_sparsity(sparsity: float) -> None:
    if not 0 <= sparsity < 1:
        raise KnobError(
            f"A sparsity of {sparsity:.0%} would remove every weight, and the network would answer "
            "the same class for every image; choose a sparsity below 100%."
        )


def prune_magnitude(model: nn.Module, sparsity: float, scope: str = "global") -> nn.Module:
    """Zero the smallest-magnitude weights in place (torch.nn.utils.prune's L1 criterion); returns the model.

    global: one threshold over every layer's weights, so layers with many small weights lose more; layer:
    each layer loses the same share. The masks stay attached (weight = weight_orig * weight_mask), so a
    fine-tune afterwards keeps the pruned weights at zero; make_permanent() removes them.
    """
    check_sparsity(sparsity)
    if scope not in SCOPES:
        raise KnobError(f"Prune 'global' (one threshold for the whole network) or per 'layer'; got '{scope}'.")
    targets = prunable(model)
    if scope == "global":
        torch_prune.global_unstructured(targets, pruning_method=torch_prune.L1Unstructured, amount=float(sparsity))
    else:
        for module, name in targets:
            torch_prune.l1_unstructured(module, name, amount=float(sparsity))
    return model


def make_permanent(model: nn.Module) -> nn.Module:
    """Fold the pruning masks into the weights (torch_prune.remove), leaving plain tensors with zeros."""
    for module, name in prunable(model):
        if torch_prune.is_pruned(module) and hasattr(module, f"{name}_mask"):
            torch_prune.remove(module, name)
    return model


def weight_sparsity(model: nn.Module) -> dict[str, float]:
    """Share of zero weights in each convolution and fully connected layer, and over all of them ("all")."""
    zeros, total, shares = 0, 0, {}
    for name, module in model.named_modules():
        if isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)):
            w = module.weight
            shares[name] = float((w == 0).sum()) / w.numel()
            zeros += int((w == 0).sum())
            total += w.numel()
    shares["all"] = zeros / max(1, total)
    return shares


def compressed_state(model: nn.Module) -> dict:
    """The state_dict as a sparse format would store it: each pruned weight as a bit mask and its non-zeros.

    A dense tensor keeps its zeros, so pruning alone saves no bytes (torch.save of a pruned model is as
    large as the original). A weight stored as one bit per position (numpy.packbits) plus its non-zero
    values at fp32 costs 1/32 + (1 - sparsity) of its dense size; everything else stays dense.
    """
    state = {}
    for key, value in model.state_dict().items():
        if key.endswith("weight") and value.dim() > 1 and value.is_floating_point():
            mask = (value != 0).flatten().numpy()
            state[key] = {
                "shape": list(value.shape),
                "mask": torch.from_numpy(np.packbits(mask)),
                "values": value.flatten()[torch.from_numpy(mask)].clone(),
            }
        else:
            state[key] = value
    return state


def compressed_bytes(model: nn.Module) -> int:
    """Measured size of compressed_state: what a pruned model costs on disk stored sparsely."""
    return serialized_bytes(compressed_state(model))


def nonzero_mult_adds(model: nn.Module, analysis) -> int:
    """Multiply-adds with a non-zero weight: each layer's (from the analysis) times the share of its weights kept.

    Dense kernels still multiply the zeros, so this is what a sparse kernel could skip, not a speed-up.
    """
    density = {name: 1 - share for name, share in weight_sparsity(model).items()}
    return int(sum(row.mult_adds * density.get(row.name, 1.0) for row in analysis.rows))


# -- truncation ---------------------------------------------------------------------------------------
class Truncated(nn.Module):
    """The layers of a network before a cut (traced with torch.fx, nothing after the cut kept) and a new head."""

    def __init__(self, trunk: nn.Module, head: nn.Module):
        super().__init__()
        self.trunk, self.head = trunk, head

    def forward(self, x):
        return self.head(self.trunk(x))


def trunk_before(model: nn.Module, module_name: str) -> torch.fx.GraphModule:
    """The network up to the input of the named layer: a GraphModule holding only the layers it runs.

    torch.fx traces the forward (residual additions included); the graph's output becomes what the named
    layer receives, and the layers after it are dropped (dead-code elimination), weights shared.
    """
    with fx_traced_here():
        traced = torch.fx.symbolic_trace(model)
    calls = [n for n in traced.graph.nodes if n.op == "call_module" and n.target == module_name]
    if not calls:
        raise ExperimentError(f"The network has no layer '{module_name}' to cut before.")
    graph = traced.graph
    feature = calls[0].args[0]
    for node in list(graph.nodes):
        if node.op == "output":
            node.args = (feature,)
    graph.eliminate_dead_code()
    graph.lint()
    return torch.fx.GraphModule(traced, graph)


def new_head(feature_shape: tuple, num_classes: int) -> nn.Module:
    """Global average pooling (for feature maps) and one fully connected layer: the truncated network's head."""
    if len(feature_shape) == 3:
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(feature_shape[0], num_classes))
    return nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(feature_shape)), num_classes))


# -- distillation -------------------------------------------------------------------------------------
def distillation_loss(teacher: nn.Module, temperature: float, soft_weight: float):
    """Hinton, Vinyals & Dean 2015: soft_weight * T^2 * KL(teacher_T || student_T) + (1 - soft_weight) * CE.

    The soft targets are the teacher's probabilities at temperature T (softmax(z / T)); the T^2 factor
    keeps their gradients' scale independent of T (their Sec. 2). The teacher runs in eval mode, no grad.
    """
    if temperature <= 0:
        raise KnobError(f"The temperature must be positive; got {temperature}.")
    teacher.eval()

    def loss(logits, target, x):
        with torch.no_grad():
            soft = F.softmax(teacher(x) / temperature, dim=1)
        kl = F.kl_div(F.log_softmax(logits / temperature, dim=1), soft, reduction="batchmean")
        return soft_weight * temperature**2 * kl + (1 - soft_weight) * F.cross_entropy(logits, target)

    return loss
