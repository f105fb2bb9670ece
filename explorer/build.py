"""Config -> nn.Module: weightless on the meta device (what the analysis traces) or with real weights (training).

Neither checks that the network runs at its input: explorer.build (explorer.analysis.analyzer.build) analyses the
configuration first, so a bad one fails with the project's one-sentence error before any weight is allocated.
"""

from __future__ import annotations

import contextlib
import functools
import threading

import torch
from torch import fx, nn
from torch.fx._symbolic_trace import is_fx_symbolic_tracing
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedTensorMixin

from .registry import Config, get_family

# The layers whose reset_parameters initialises weights. On the meta device initialising does nothing but costs
# about 60 us a layer: ResNet-1202's build is 261 ms with it and 151 ms without (benchmarks/bench_analyze.py).
META = torch.device("meta")
_NO_TORCH_FUNCTION = torch._C.DisableTorchFunction
_INITIALISED = (nn.modules.conv._ConvNd, nn.Linear, nn.modules.batchnorm._NormBase)
_SKIP_LOCK = threading.Lock()
_SKIP_STATE = {"depth": 0, "saved": {}}


def _skip_on_meta(reset_parameters):
    @functools.wraps(reset_parameters)
    def reset_unless_meta(self):
        weight = getattr(self, "weight", None)
        if isinstance(weight, torch.Tensor) and weight.is_meta and not isinstance(weight, nn.UninitializedParameter):
            return None
        return reset_parameters(self)

    return reset_unless_meta


@contextlib.contextmanager
def meta_init_skipped():
    """While a weightless network is built, its layers skip initialisation; on leaving, PyTorch is as it was.

    Scoped, not global: the classes get their own reset_parameters back when the last build leaves. While it runs,
    a layer with real weights built in another thread is still initialised (the replacement checks for meta
    tensors). Measured alternatives on ResNet-1202: a TorchFunctionMode returning torch.nn.init's functions
    early (PyTorch dispatches them to the mode) builds in 215 ms against 151 ms here, because the mode sees every
    tensor constructor too.
    """
    with _SKIP_LOCK:
        if _SKIP_STATE["depth"] == 0:
            for cls in _INITIALISED:
                _SKIP_STATE["saved"][cls] = cls.__dict__["reset_parameters"]
                cls.reset_parameters = _skip_on_meta(cls.reset_parameters)
        _SKIP_STATE["depth"] += 1
    try:
        yield
    finally:
        with _SKIP_LOCK:
            _SKIP_STATE["depth"] -= 1
            if _SKIP_STATE["depth"] == 0:
                for cls, reset in _SKIP_STATE["saved"].items():
                    cls.reset_parameters = reset
                _SKIP_STATE["saved"].clear()


# torch.fx traces by replacing nn.Module.__call__ and __getattr__ for the whole process while it runs, so a
# forward pass in another thread (another student's analysis, a training) is recorded into the trace and fails
# ("module is not installed as a submodule"). Measured on the shared server: every forward in every other thread
# failed while one thread traced. fx_traced_here() scopes the trace to the thread that asked for it: the tracer
# hands every other thread's calls straight to the module. Refcounted like meta_init_skipped; PyTorch is left
# as it was when the last trace ends.
# Two traces at once cannot be scoped that way: each saves and restores nn.Module.__call__ around itself, so
# the one that ends last puts back the other's wrapper for good (measured: with thirty students, two sessions
# exporting code at once left every later forward in the process failing). _FX_TRACE_LOCK lets one trace run
# at a time (re-entrant: a trace inside a trace is the same thread's); other threads' plain forwards still run.
_FX_LOCK = threading.Lock()
_FX_TRACE_LOCK = threading.RLock()
_FX_STATE: dict = {"threads": {}, "saved": None}


def _other_threads_run_plainly(call_module, getattr_):
    @functools.wraps(call_module)
    def call_module_here(self, m, forward, args, kwargs):
        if threading.get_ident() not in _FX_STATE["threads"]:
            return forward(*args, **kwargs)
        return call_module(self, m, forward, args, kwargs)

    @functools.wraps(getattr_)
    def getattr_here(self, attr, attr_val, parameter_proxy_cache):
        if threading.get_ident() not in _FX_STATE["threads"]:
            return attr_val
        return getattr_(self, attr, attr_val, parameter_proxy_cache)

    return call_module_here, getattr_here


@contextlib.contextmanager
def fx_traced_here():
    """Trace with torch.fx (symbolic_trace, prepare_fx, ...) inside this block: other threads are unaffected."""
    me = threading.get_ident()
    with _FX_TRACE_LOCK, _traced_by(me):
        yield


@contextlib.contextmanager
def _traced_by(me: int):
    with _FX_LOCK:
        if not _FX_STATE["threads"]:
            _FX_STATE["saved"] = (fx.Tracer.__dict__["call_module"], fx.Tracer.__dict__["getattr"])
            fx.Tracer.call_module, fx.Tracer.getattr = _other_threads_run_plainly(*_FX_STATE["saved"])
        _FX_STATE["threads"][me] = _FX_STATE["threads"].get(me, 0) + 1
    try:
        yield
    finally:
        with _FX_LOCK:
            _FX_STATE["threads"][me] -= 1
            if not _FX_STATE["threads"][me]:
                del _FX_STATE["threads"][me]
            if not _FX_STATE["threads"]:
                fx.Tracer.call_module, fx.Tracer.getattr = _FX_STATE["saved"]


def fx_tracing_here() -> bool:
    """True while torch.fx traces the current thread's call (not merely some other thread's)."""
    if not is_fx_symbolic_tracing():
        return False
    return not _FX_STATE["threads"] or threading.get_ident() in _FX_STATE["threads"]


def _instantiate(config: Config) -> nn.Module:
    return get_family(config.family).make(config.knob_dict, config.input_shape[0])


def meta_model(config: Config) -> nn.Module:
    """The configured network with meta tensors for weights: shapes only, no memory, no initialisation."""
    with meta_init_skipped(), torch.device("meta"):
        return _instantiate(config)


def has_lazy(model: nn.Module, modules=None) -> bool:
    """modules: the model's modules when the caller has walked them already (a walk of ResNet-1202 costs 10 ms)."""
    return any(isinstance(m, LazyModuleMixin) for m in (model.modules() if modules is None else modules))


@contextlib.contextmanager
def on_meta(model: nn.Module, modules=None, leave=None):
    """The user's own network with meta tensors in place of its weights and buffers while the block runs, put
    back on leaving (no copy: copying ResNet-1202's modules costs more than tracing them). A tensor shared by two
    layers gets one meta tensor, so sharing survives. Lazy layers are traced on a copy instead (tracing would
    materialise them), and a network already on the meta device is used as it is. modules: model.modules() when the
    caller has walked them already.

    The twins are made by empty_like without torch-function dispatch, and parameters by _make_subclass: 2.2 us a
    tensor against 4.0 us for torch.empty + nn.Parameter (measured; ResNet-1202 has 7,200 of them).

    leave(module): True for a layer whose tensors the caller will not read (a layer the trace derives by
    arithmetic, explorer.analysis.trace.arithmetic_leaf): its tensors stay as they are, unless a module not left
    holds one of them too (the two would then count as two tensors)."""
    saved = []
    memo: dict[int, torch.Tensor] = {}
    contiguous = torch.contiguous_format
    walk = list(model.modules() if modules is None else modules)
    if leave is not None:
        left, swapped = [], []
        for m in walk:
            (left if leave(m) else swapped).append(m)
        walk = swapped
        held = {id(t) for m in walk for store in (m._parameters, m._buffers) for t in store.values()}
        for m in left:
            if any(id(t) in held for store in (m._parameters, m._buffers) for t in store.values() if t is not None):
                walk.append(m)
    try:
        with _NO_TORCH_FUNCTION():
            for module in walk:
                for store in (module._parameters, module._buffers):
                    for key, t in store.items():
                        if t is None:
                            continue
                        uninitialised = isinstance(t, UninitializedTensorMixin)
                        if t.is_meta and not uninitialised:
                            continue
                        meta = memo.get(id(t))
                        if meta is None:
                            is_param = type(t) is nn.Parameter or isinstance(t, nn.Parameter)
                            if uninitialised:  # materialised on meta by the trace
                                kind = nn.UninitializedParameter if is_param else nn.UninitializedBuffer
                                meta = kind(requires_grad=t.requires_grad, device="meta", dtype=t.dtype)
                            else:
                                meta = torch.empty_like(t, device=META, memory_format=contiguous)
                                if is_param:
                                    meta = torch.Tensor._make_subclass(nn.Parameter, meta, t.requires_grad)
                            memo[id(t)] = meta
                        saved.append((store, key, t))
                        store[key] = meta
        yield model
    finally:
        for store, key, t in saved:
            store[key] = t


def real_model(config: Config, device: str | torch.device = "cpu") -> nn.Module:
    """The configured network with real, initialised weights; lazy layers materialised by one forward pass."""
    model = _instantiate(config)
    if has_lazy(model):
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *config.input_shape))
        model.train()
    return model.to(device)
