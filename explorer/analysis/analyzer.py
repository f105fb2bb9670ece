"""analyze(): build the configured network on the meta device, trace one forward, return its rows and totals.

Every number comes from the PyTorch model the caller configured: the network is built without weights
(explorer.build.meta_model), run once by explorer.analysis.trace, and each row is read off the module and the
shapes PyTorch produced (explorer.analysis.rows). Results and built networks are kept in bounded caches.
"""

from __future__ import annotations

import contextlib
import gc
import math
import threading
from collections import OrderedDict

import torch

from ..build import has_lazy, meta_model, real_model
from ..errors import ShapeError
from ..registry import MAX_SIDE, Config, configure, get_family
from .rows import BYTES_FP32, MB, Analysis, Totals, build_rows
from .trace import trace

# -- the analysis -------------------------------------------------------------------------------


def analyze(name: str, input_shape=None, **knobs) -> Analysis:
    """Analyse a family or preset with the given knobs at input_shape (C, H, W).

    input_shape defaults to 3x32x32 (CIFAR-10, as in the lecture), or to the family's own input
    where it has one (MobileNet's resolution; networks that cannot run at 32x32).
    """
    return analyze_config(configure(name, input_shape, **knobs), name)


def build(name: str, input_shape=None, device: str | torch.device = "cpu", **knobs) -> torch.nn.Module:
    """The configured network with real, initialised weights, once analyze() has checked that it runs."""
    config = configure(name, input_shape, **knobs)
    analyze_config(config, name)  # raises the project's one-sentence errors before any weight is allocated
    return real_model(config, device)


_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 64


def analyze_config(config: Config, name: str | None = None) -> Analysis:
    key = (config, name)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    result = _analyze(config, name or config.preset or config.family)
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def cache_clear() -> None:
    """Forget analyses and built models (benchmarks measure analyses from scratch with this)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _MODELS.clear()


analyze.cache_clear = cache_clear


_GC_LOCK = threading.Lock()
_GC_STATE = {"pauses": 0, "was_enabled": True}


@contextlib.contextmanager
def gc_paused():
    """Building and tracing make thousands of small objects and no cycles; the collector's passes over
    them were 40% of ResNet-1202's trace time (measured). Paused for that, restored after."""
    with _GC_LOCK:
        if _GC_STATE["pauses"] == 0:
            _GC_STATE["was_enabled"] = gc.isenabled()
            gc.disable()
        _GC_STATE["pauses"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_STATE["pauses"] -= 1
            if _GC_STATE["pauses"] == 0 and _GC_STATE["was_enabled"]:
                gc.enable()


# Weightless networks already built, keyed by everything but the input's height and width: moving the
# input-size slider re-traces without rebuilding (building is 40% of ResNet-1202's analysis). A model is
# taken out while it is traced, so two sessions never put wrappers on the same module.
_MODELS: OrderedDict = OrderedDict()
MODEL_CACHE_SIZE = 8


def _take_model(config: Config):
    key = (config.family, config.knobs, config.input_shape[0])
    with _CACHE_LOCK:
        model = _MODELS.pop(key, None)
    return key, model if model is not None else meta_model(config)


def _give_back(key, model) -> None:
    with _CACHE_LOCK:
        _MODELS[key] = model
        while len(_MODELS) > MODEL_CACHE_SIZE:
            _MODELS.popitem(last=False)


def _analyze(config: Config, name: str) -> Analysis:
    family = get_family(config.family)
    with gc_paused():
        key, model = _take_model(config)
        reusable = not has_lazy(model)  # a lazy layer fixes its input size when traced
        try:
            tr = trace(model, config.input_shape)
        except ShapeError as e:
            error = e
        else:
            error = None
            rows = build_rows(tr, model)
            if reusable:
                _give_back(key, model)
    if error is not None:
        raise collapse_error(config, error) from None
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    weight_layers = len({r.name for r in rows if r.kind in ("conv", "linear")})
    acts = sum(
        math.prod(r.output_shape)
        for r in rows
        if r.output_shape and r.kind not in ("reshape", "dropout", "unused") and r.type != "Identity"
    )
    totals = Totals(
        params,
        trainable,
        sum(r.mult_adds for r in rows),
        params * BYTES_FP32 / MB,
        acts * BYTES_FP32 / MB,
        weight_layers,
        len(rows),
    )
    preset = family.presets.get(config.preset) if config.preset else None
    return Analysis(
        name,
        family.name,
        config.preset,
        config.knob_dict,
        family.resolve(config.knob_dict),
        config.input_shape,
        tr.output_shape,
        tuple(rows),
        totals,
        tr.output_node,
        preset.title if preset else family.title,
        tr.scopes,
    )


# -- inputs that collapse a layer ---------------------------------------------------------------


def _works(config: Config, side: int) -> bool:
    trial = Config(config.family, config.preset, config.knobs, (config.input_shape[0], side, side))
    try:
        trace(meta_model(trial), trial.input_shape)
        return True
    except ShapeError:
        return False


def smallest_input(config: Config) -> int | None:
    """The smallest square side >= 1 at which the network runs, or None if none up to MAX_SIDE does."""
    hi = max(config.input_shape[1:])
    while not _works(config, hi):
        if hi >= MAX_SIDE:
            return None
        hi = min(MAX_SIDE, hi * 2)
    lo = 0  # _works(lo) is False or lo is 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _works(config, mid):
            hi = mid
        else:
            lo = mid
    return hi


def collapse_error(config: Config, error: ShapeError) -> ShapeError:
    family = get_family(config.family)
    c, h, w = config.input_shape
    what = family.presets[config.preset].title if config.preset in family.presets else family.title
    side = smallest_input(config)
    if side is not None and side > max(h, w):
        fix = f"The smallest input that works is {c}x{side}x{side}."
    elif side is not None:
        fix = f"A square input of {c}x{side}x{side} or more works; make both sides at least {side}."
    else:
        fix = f"No input up to {MAX_SIDE}x{MAX_SIDE} makes it work: change the knobs."
    return ShapeError(
        f"{what} cannot take a {c}x{h}x{w} input: at layer '{error.layer}', {error}. {fix}",
        layer=error.layer,
        min_input=side,
    )
