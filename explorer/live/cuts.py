"""Transfer learning's cut, read off explorer.analyze: which layers are frozen, which are trained, the new head.

The lecture ("How should I choose the right cut?"): a network trained on a source task is an
"optimised initialisation"; its first layers are feature extractors. Cut k freezes the first k weight
layers (convolutions and fully connected layers, each with the batch norm that follows it), trains
the layers after them from their source weights, and replaces the last layer by a new head with one
output per target class.

    analysis = explorer.analyze("vgg", (3, 32, 32), config="A", width=16, batch_norm=True, num_classes=5)
    cut = plan(analysis, 8)             # the convolutional base frozen: cut.frozen_params, cut.row_states
    freeze(model, analysis, 8)          # requires_grad=False below the cut
    lecture_presets(analysis)           # {"train entire model": 0, ..., "freeze almost all": 8}
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from ..analysis import Analysis, LayerRow
from ..errors import KnobError

# The lecture's four pictures, left to right (slide "How should I choose the right cut?"), as the share of
# the convolutional base that is frozen: nothing, the lower third, two thirds, all of it (the network
# becomes a fixed feature extractor and only the fully connected layers learn).
LECTURE_PRESETS = {
    "train entire model": 0.0,
    "train some layers": 1 / 3,
    "train fewer layers": 2 / 3,
    "freeze almost all": 1.0,
}


@dataclass(frozen=True)
class WeightLayer:
    position: int  # 1 for the first convolution
    row: LayerRow
    params: int  # its own and those of the parameter rows that follow it (batch norm) until the next one
    stage: str  # VGG: block3; ResNet: layer2; fully connected layers are each a stage of their own


@dataclass(frozen=True)
class Cut:
    """Cut k of a network: the first k weight layers frozen, the rest trained, the last one a new head."""

    k: int
    after: str  # the last frozen weight layer, or "input" for k = 0
    frozen_params: int
    trainable_params: int  # the head's included
    head_params: int
    head: str  # the module replaced by the new head
    feature_shape: tuple  # what the frozen part hands to the first trained layer (one image)
    row_states: dict  # row index -> "frozen" / "trainable" / "head", for explorer.graph.to_dot

    @property
    def feature_size(self) -> int:
        return math.prod(self.feature_shape)


def _stage(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "classifier" else parts[0]


def weight_layers(analysis: Analysis) -> list[WeightLayer]:
    """The convolutions and fully connected layers in the order they run, with the parameters each carries."""
    owned = [r for r in analysis.rows if r.params > 0 and r.shared_with is None and r.kind != "unused"]
    layers, current = [], None
    for row in owned:
        if row.kind in ("conv", "linear"):
            current = [row, row.params]
            layers.append(current)
        elif current is not None:
            current[1] += row.params  # a batch norm belongs to the layer before it
    return [WeightLayer(i, row, params, _stage(row.name)) for i, (row, params) in enumerate(layers, start=1)]


def check_cut(analysis: Analysis, k: int) -> list[WeightLayer]:
    layers = weight_layers(analysis)
    last = len(layers) - 1
    if not 0 <= k <= last:
        raise KnobError(
            f"The cut {k} is past the last layer: this network has {len(layers)} weight layers and "
            f"the last one is always the new head, so cut between 0 (train the entire model) and "
            f"{last} (freeze everything below the head)."
        )
    return layers


def plan(analysis: Analysis, k: int) -> Cut:
    """Frozen and trainable parameters, the new head and the feature shape for cut k."""
    layers = check_cut(analysis, k)
    first_trained = layers[k].row.index
    head = layers[-1]
    states = {}
    for row in analysis.rows:
        if row.params == 0 or row.shared_with is not None:
            continue
        states[row.index] = (
            "head" if row.index == head.row.index else "frozen" if row.index < first_trained else "trainable"
        )
    frozen = sum(layer.params for layer in layers[:k])
    total = sum(layer.params for layer in layers)
    entering = layers[k].row.input_shape or ()
    return Cut(
        k,
        layers[k - 1].row.name if k else "input",
        frozen,
        total - frozen,
        head.params,
        head.row.name,
        tuple(entering),
        states,
    )


def stage_cuts(analysis: Analysis) -> list[int]:
    """Cuts at stage boundaries (0, after block1, after block2, ..., below the head): what a sweep visits."""
    layers = weight_layers(analysis)
    cuts = [0] + [i for i in range(1, len(layers)) if layers[i].stage != layers[i - 1].stage]
    return sorted(set(cuts + [len(layers) - 1]))


def lecture_presets(analysis: Analysis) -> dict[str, int]:
    """The lecture's four cuts for this network, each at the stage boundary nearest its share of the base."""
    layers = weight_layers(analysis)
    base = sum(1 for layer in layers if layer.row.kind == "conv")  # the convolutional base
    boundaries = [c for c in stage_cuts(analysis) if c <= base]
    presets = {}
    for name, share in LECTURE_PRESETS.items():
        target = share * base
        presets[name] = min(boundaries, key=lambda c: (abs(c - target), c))
    return presets


def preset_of(analysis: Analysis, k: int) -> str | None:
    return next((name for name, cut in lecture_presets(analysis).items() if cut == k), None)


def freeze(model: nn.Module, analysis: Analysis, k: int) -> list[str]:
    """Make the parameters below cut k untrainable (the rest trainable); returns the frozen parameter names.

    The analysis must describe this model (same family and knobs): its row names are the module names.
    """
    cut = plan(analysis, k)
    frozen_modules = {analysis.rows[i].name for i, state in cut.row_states.items() if state == "frozen"}
    names = []
    for name, param in model.named_parameters():
        module = name.rpartition(".")[0]
        param.requires_grad = module not in frozen_modules
        if not param.requires_grad:
            names.append(name)
    counted = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    assert counted == cut.frozen_params, (counted, cut.frozen_params)  # the analysis is this model
    return names


def load_source(model: nn.Module, analysis: Analysis, source_state: dict) -> nn.Module:
    """The model (built for the target classes) with the source weights everywhere but its head.

    The head keeps the fresh initialisation it was built with: a new layer for new classes.
    """
    head = plan(analysis, 0).head
    kept = {k: v for k, v in source_state.items() if not k.startswith(head + ".")}
    missing, unexpected = model.load_state_dict(kept, strict=False)
    assert not unexpected and all(m.startswith(head + ".") for m in missing), (missing, unexpected)
    return model
