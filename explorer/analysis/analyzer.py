"""analyze(): build the configured network on the meta device, trace one forward, return its rows and totals.

Every number comes from the PyTorch model the caller configured: the network is built without weights
(explorer.build.meta_model), run once by explorer.analysis.trace, and each row is read off the module and the
shapes PyTorch produced (explorer.analysis.rows). Results and built networks are kept in bounded caches.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import math
import threading
from collections import OrderedDict

import torch
from torch import nn

from ..build import has_lazy, meta_model, on_meta, real_model
from ..errors import ExplorerError, KnobError, LimitError, ShapeError
from ..registry import MAX_SIDE, Config, configure, get_family
from .rows import BYTES_FP32, MB, Analysis, Totals, build_rows
from .trace import arithmetic_leaf, module_names, sides_tried, trace

# explorer.build refuses a network whose fp32 weights exceed this (VGG-16 is 0.5 GiB; a typo in a width is not)
MAX_BUILD_BYTES = 4 * 2**30

# -- the analysis -------------------------------------------------------------------------------


def analyze(name, input_shape=None, **knobs) -> Analysis:
    """Analyse a family or preset with the given knobs at input_shape (C, H, W), or any torch.nn.Module.

    input_shape defaults to 3x32x32 (CIFAR-10, as in the lecture), or to the family's own input
    where it has one (MobileNet's resolution; networks that cannot run at 32x32). For an nn.Module, input_shape is
    its input without the batch dimension, or an example input tensor (with it).
    """
    if isinstance(name, nn.Module):
        if knobs:
            raise KnobError(
                f"Knobs ({', '.join(sorted(knobs))}) set a family's network; a module you built is analysed as "
                "it is: drop them, or pass a family or preset name."
            )
        return analyze_module(name, input_shape)
    _check_name(name, "analyze")
    return analyze_config(configure(name, input_shape, **knobs), name)


def build(
    name: str, input_shape=None, device: str | torch.device = "cpu", max_bytes: int = MAX_BUILD_BYTES, **knobs
) -> torch.nn.Module:
    """The configured network with real, initialised weights, once analyze() has checked that it runs and that its
    fp32 weights fit in max_bytes."""
    _check_name(name, "build")
    config = configure(name, input_shape, **knobs)
    a = analyze_config(config, name)  # raises the project's one-sentence errors before any weight is allocated
    need = a.totals.params * BYTES_FP32
    if need > max_bytes:
        raise LimitError(
            f"{a.title} has {a.totals.params:,} parameters, {need / 2**30:.1f} GiB of fp32 weights, above the "
            f"{max_bytes / 2**30:.1f} GiB that build allows; lower its width or depth, or pass a larger max_bytes."
        )
    return real_model(config, device)


def _check_name(name, what: str) -> None:
    if not isinstance(name, str):
        raise KnobError(
            f"{what}() takes a family or preset name (a string such as 'resnet18')"
            f"{' or a torch.nn.Module' if what == 'analyze' else ''}, not a {type(name).__name__}."
        )


# -- any nn.Module ------------------------------------------------------------------------------


def module_input(example) -> tuple[tuple, torch.dtype | None]:
    """(shape without the batch dimension, dtype) of an input shape (C, H, W) or an example tensor (N, C, H, W)."""
    if isinstance(example, torch.Tensor):
        if example.dim() < 2:
            raise KnobError(
                f"An example input needs a batch dimension first (got shape {tuple(example.shape)}); "
                "pass x.unsqueeze(0), or the input shape without the batch."
            )
        return tuple(example.shape[1:]), example.dtype
    if (
        isinstance(example, (tuple, list, torch.Size))
        and example
        and all(isinstance(v, int) and not isinstance(v, bool) for v in example)
    ):
        if min(example) < 1 or math.prod(example) > MAX_SIDE * MAX_SIDE * 64:
            raise LimitError(
                f"An input of {'x'.join(map(str, example))} is outside what the explorer analyses (every side at "
                f"least 1, at most {MAX_SIDE * MAX_SIDE * 64:,} values); choose another input shape."
            )
        return tuple(example), None
    raise KnobError(
        "A module's input is its shape without the batch dimension (a tuple of whole numbers such as (3, 224, "
        f"224)) or an example tensor; got {example!r:.60}."
    )


def analyze_module(model: nn.Module, example) -> Analysis:
    """Rows, totals and graph of any nn.Module, traced on the meta device (its weights are never touched).

    The module's parameters and buffers are swapped for meta tensors while it is traced (explorer.build.on_meta)
    and put back after; lazy layers are materialised on a copy. Operations the rows do not derive are measured by
    torch.utils.flop_counter and their rows marked `measured`."""
    if not isinstance(model, nn.Module):
        raise KnobError(f"analyze_module() takes a torch.nn.Module, not a {type(model).__name__}.")
    shape, dtype = module_input(example)
    title = type(model).__name__
    modules = module_names(model)
    if has_lazy(model, modules):
        model = copy.deepcopy(model)
        modules = module_names(model)
    with gc_paused(), on_meta(model, modules, leave=arithmetic_leaf):
        try:  # the layers the trace derives by arithmetic keep their weights: ResNet-1202's analysis 20 ms quicker
            tr = trace(model, shape, measure=True, dtype=dtype, modules=modules)
            rows = build_rows(tr, model, complete=True)
            sizes = _sizes(modules, rows)  # here: lazy layers are materialised inside
        except Exception:  # anything unusual (a layer's own forward, a weight read in a forward, an error)
            tr = None
    if tr is None:  # traced again as before, every tensor on the meta device, and any error raised from there
        with gc_paused(), on_meta(model, modules):
            tr, rows = _traced_module(model, title, shape, dtype, modules)
            sizes = _sizes(modules, rows)
    params, trainable, buffers = sizes
    return Analysis(
        title,
        "module",
        None,
        {},
        {},
        shape,
        tr.output_shape,
        tuple(rows),
        _totals(rows, params, trainable, buffers),
        tr.output_node,
        f"{title} (an nn.Module)",
        tr.scopes,
    )


def _traced_module(model, title, shape, dtype, modules):
    """Trace and rows with every tensor on the meta device; the project's one-sentence error otherwise."""
    try:
        tr = trace(model, shape, measure=True, dtype=dtype, modules=modules)
    except ShapeError as e:
        raise ShapeError(
            f"{title} cannot take a {'x'.join(map(str, shape))} input: at layer '{e.layer}', {e}.",
            layer=e.layer,
        ) from None
    except ExplorerError:
        raise
    except Exception as e:  # the user's own forward: any error it raises is named, never a traceback
        raise ShapeError(
            f"{title}'s forward failed on a {'x'.join(map(str, shape))} meta input ({type(e).__name__}: "
            f"{str(e).strip().splitlines()[0][:200] if str(e).strip() else 'no message'}); check the input shape.",
            layer=title,
        ) from None
    return tr, build_rows(tr, model, complete=True)


def _sizes(modules, rows) -> tuple[int, int, int]:
    """Elements of the parameters, of the trainable ones and of the buffers, each tensor once (as
    model.parameters() and model.buffers() count them). The parameters are the rows' sums: build_rows(complete=True)
    counts each parameter once, on the first row that reads it or on a row of its own (tests/test_engine.py checks
    both against sum(p.numel())); the buffers are read off module_names(model) without walking again."""
    params = sum(r.params for r in rows)
    trainable = sum(r.trainable for r in rows)
    seen: set = set()
    buffers = 0
    for module in modules:
        for b in module._buffers.values():
            if b is not None and id(b) not in seen:
                seen.add(id(b))
                buffers += b.numel()
    return params, trainable, buffers


def _totals(rows, params, trainable, buffers) -> Totals:
    weight_layers = len({r.name for r in rows if r.kind in ("conv", "linear")})
    acts = sum(
        math.prod(r.output_shape)
        for r in rows
        if r.output_shape and r.kind not in ("reshape", "dropout", "unused") and r.type != "Identity"
    )
    return Totals(
        params,
        trainable,
        sum(r.mult_adds for r in rows),
        params * BYTES_FP32 / MB,
        acts * BYTES_FP32 / MB,
        weight_layers,
        len(rows),
        buffers,
        sum(r.mult_adds for r in rows if r.flop_counted),
    )


_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_ROWS = [0]  # rows held by _CACHE
# Bounded in entries and in layer rows (3-6 kB per row with its derivation: 60,000 rows is 180-360 MB).
# A class on the lecture's networks asks for a few hundred configurations (five networks, their inputs and
# knobs, VGG's six columns per input): with 64 entries, thirty simulated students (benchmarks/load_class.py)
# evicted and recomputed them all the time.
CACHE_SIZE = 512
CACHE_ROWS = 60_000


_REJECTED: OrderedDict = OrderedDict()  # key -> the ShapeError of an input too small for the network
_COMPUTING: dict = {}  # key -> the lock its first asker holds while analysing: the others wait for that answer
_COMPUTE: list = []  # how a new analysis is computed: empty, here; else call(function, *args) (the web server's)


def compute_with(call) -> None:
    """From now on, compute new analyses through call(_analyze, config, name), e.g. in an analysis process
    (explorer.live.analyst); None computes them here again. The cache and the single flight stay here."""
    _COMPUTE[:] = [call] if call is not None else []


def analyze_config(config: Config, name: str | None = None) -> Analysis:
    key = (config, name)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        computing = _COMPUTING.setdefault(key, threading.Lock())
    with computing:  # thirty students opening the same network at once: one analysis, not thirty
        with _CACHE_LOCK:
            if key in _CACHE:
                _CACHE.move_to_end(key)
                return _CACHE[key]
            if key in _REJECTED:  # a fresh error each time: one raised again would grow its traceback
                _REJECTED.move_to_end(key)
                kept = _REJECTED[key]
                raise ShapeError(str(kept), layer=kept.layer, min_input=kept.min_input)
        label = name or config.preset or config.family
        try:
            return _keep(key, _COMPUTE[0](_analyze, config, label) if _COMPUTE else _analyze(config, label))
        except ShapeError as e:
            _reject(key, e)
            raise
        finally:
            with _CACHE_LOCK:
                _COMPUTING.pop(key, None)


def _keep(key, result: Analysis) -> Analysis:
    with _CACHE_LOCK:
        if key in _CACHE:  # another session computed it meanwhile: everyone shares the first
            return _CACHE[key]
        _CACHE[key] = result
        rows = _CACHE_ROWS[0] = _CACHE_ROWS[0] + len(result.rows)
        while len(_CACHE) > 1 and (len(_CACHE) > CACHE_SIZE or rows > CACHE_ROWS):
            rows = _CACHE_ROWS[0] = rows - len(_CACHE.popitem(last=False)[1].rows)
    return result


def _reject(key, error: ShapeError) -> None:
    """Keep an input too small for the network: finding the smallest input that works traces it several times
    (eight DenseNet blocks of 128 layers at 3x8x8: 45 s), so each rerun and each student must not do it again."""
    with _CACHE_LOCK:
        _REJECTED[key] = error
        while len(_REJECTED) > CACHE_SIZE:
            _REJECTED.popitem(last=False)


def cache_clear() -> None:
    """Forget analyses and built models (benchmarks measure analyses from scratch with this)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _CACHE_ROWS[0] = 0
        _MODELS.clear()
        _REJECTED.clear()


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
# Bounded in entries and in modules (a weightless module is a few kB of Python objects): eight entries were
# evicted all the time by thirty students on five networks with two knob values each.
_MODELS: OrderedDict = OrderedDict()
MODEL_CACHE_SIZE = 48
MODEL_CACHE_MODULES = 40_000


def _take_model(config: Config):
    key = (config.family, config.knobs, config.input_shape[0])
    with _CACHE_LOCK:
        found = _MODELS.pop(key, None)
    return key, found[0] if found is not None else meta_model(config)


def _give_back(key, model) -> None:
    count = sum(1 for _ in model.modules())
    with _CACHE_LOCK:
        _MODELS[key] = (model, count)
        while len(_MODELS) > 1 and (
            len(_MODELS) > MODEL_CACHE_SIZE or sum(n for _, n in _MODELS.values()) > MODEL_CACHE_MODULES
        ):
            _MODELS.popitem(last=False)


@contextlib.contextmanager
def borrowed_model(config: Config):
    """The configuration's weightless network from the analyses' cache (built when absent), for this thread
    alone, put back afterwards with every module in the mode it had: the code export reads the same network
    the analysis traced instead of building it again."""
    key, model = _take_model(config)
    reusable = not has_lazy(model)  # a lazy layer fixes its input size on its first forward
    modes = [(m, m.training) for m in model.modules()]
    try:
        yield model
    finally:
        for module, training in modes:
            module.__dict__["training"] = training
        if reusable:
            _give_back(key, model)


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
        try:  # the search for the smallest input traces this same network (building it again each time cost 90%)
            raise collapse_error(config, error, model if reusable else None) from None
        finally:
            if reusable:
                _give_back(key, model)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    totals = _totals(rows, params, trainable, sum(b.numel() for b in model.buffers()))
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


def smallest_input(config: Config, model=None) -> int | None:
    """The smallest square side >= 1 at which the network runs, or None if none up to MAX_SIDE does.

    model: the configuration's weightless network without lazy layers (its sizes do not depend on the input),
    traced at every side tried with its forwards wrapped once; else each trial builds its own network."""
    if model is None:
        return _smallest_side(config, lambda side: _works(config, side))
    with sides_tried(model, config.input_shape[0]) as works:
        return _smallest_side(config, works)


def _smallest_side(config: Config, works) -> int | None:
    hi, lo = max(config.input_shape[1:]), 0  # works(lo) is False, or lo is 0
    while not works(hi):
        if hi >= MAX_SIDE:
            return None
        lo, hi = hi, min(MAX_SIDE, hi * 2)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if works(mid):
            hi = mid
        else:
            lo = mid
    return hi


def collapse_error(config: Config, error: ShapeError, model=None) -> ShapeError:
    family = get_family(config.family)
    c, h, w = config.input_shape
    what = family.presets[config.preset].title if config.preset in family.presets else family.title
    with gc_paused():  # each trial makes thousands of wrappers: the collector's passes were 40% of the search
        side = smallest_input(config, model)
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
