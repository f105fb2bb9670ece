"""One forward pass on the meta device that records every layer call and the dataflow between them.

Module hooks give the layer calls (a module called twice is two calls); a TorchFunctionMode
sees the tensor operations written in `forward` between layers (the residual `+`, the
DenseNet `torch.cat`, flatten), so the graph is the real dataflow, not the module tree.

Why not torchinfo or a plain meta forward: on this 2-core machine, torch 2.13's meta kernels
cost 730 us for one BatchNorm2d call, 258 us for a ReLU and 104 us for an add, against 26 us
for a Conv2d (measured in benchmarks/bench_analyze.py's setup). A ResNet-1202 forward is
therefore 2 s on the meta device. Those layers and ops never change a shape, so here they
return `torch.empty_like` directly; tests/test_trace.py checks every preset against a plain
meta forward, shape for shape.
"""

from __future__ import annotations

import contextlib
import types
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.flop_counter import FlopCounterMode

from ..errors import ShapeError

META = torch.device("meta")
_NO_TORCH_FUNCTION = torch._C.DisableTorchFunction

# Layers whose output has the shape of their input (checked against PyTorch in the tests).
SAME_SHAPE = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Mish,
    nn.PReLU,
    nn.Dropout,
    nn.Dropout2d,
    nn.Dropout1d,
    nn.AlphaDropout,
    nn.Identity,
    nn.LocalResponseNorm,
    nn.Softmax,
    nn.LogSoftmax,
    nn.Softmax2d,
)
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.InstanceNorm2d, nn.GroupNorm)


class WeightsNeeded(Exception):
    """A layer whose weights were left off the meta device (explorer.build.on_meta's leave) had to run its own
    forward: the caller traces again with every tensor on the meta device."""


def _real(self, *args, **kwargs):
    """The layer's own forward, for what its arithmetic below does not cover (PyTorch then raises its own error)."""
    for store in (self._parameters, self._buffers):
        for t in store.values():
            if t is not None and not t.is_meta:
                raise WeightsNeeded(type(self).__name__)
    return type(self).forward(self, *args, **kwargs)


def _like(x):
    # torch.empty(shape) costs 2.5 us on the meta device, torch.empty_like 23 us (measured)
    return torch.empty(x.shape, dtype=x.dtype, device=x.device)


def _same_shape_forward(self, x, *args, **kwargs):
    if getattr(self, "inplace", False):
        return x
    return _like(x)


def _norm_forward(self, x, *args, **kwargs):
    channels = getattr(self, "num_features", None) or getattr(self, "num_channels", None)
    if x.dim() < 2 or (channels is not None and x.shape[1] != channels):
        raise RuntimeError(
            f"{type(self).__name__} expects {channels} channels but got an input of shape {tuple(x.shape[1:])}"
        )
    return _like(x)


# -- layers whose output shape is arithmetic ------------------------------------------------------------------
# A Conv2d on the meta device runs PyTorch's Python meta kernel (calc_conv_nd_return_shape: 30 ms of ResNet-1202's
# 1,201 convolutions), and the first meta average pooling imports torch._dynamo (about 1 s in a fresh process,
# measured in benchmarks/bench_peers.py). The output sides below are PyTorch's own formulas; anything outside the
# plain case (an unbatched input, wrong channels, a side below 1, odd padding) runs the real layer, so PyTorch
# raises its own error. tests/test_engine.py checks these against a plain meta forward of every preset.


def _pairs(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _conv_forward(self, x, *args, **kwargs):
    n = x.dim() - 2
    if (
        args
        or kwargs
        or n != len(self.kernel_size)
        or x.shape[1] != self.in_channels
        or not x.is_meta
        or self.padding_mode != "zeros"
    ):
        return _real(self, x, *args, **kwargs)
    k, s, d = self.kernel_size, self.stride, self.dilation
    if isinstance(self.padding, str):
        if self.padding == "same" and max(s) == 1:
            sides = tuple(x.shape[2:])
        elif self.padding == "valid":
            sides = tuple((i - d[j] * (k[j] - 1) - 1) // s[j] + 1 for j, i in enumerate(x.shape[2:]))
        else:
            return _real(self, x)
    else:
        p = self.padding
        sides = tuple((i + 2 * p[j] - d[j] * (k[j] - 1) - 1) // s[j] + 1 for j, i in enumerate(x.shape[2:]))
    if min(sides) < 1:
        return _real(self, x)
    return torch.empty((x.shape[0], self.out_channels, *sides), dtype=x.dtype, device=x.device)


def _linear_forward(self, x, *args, **kwargs):
    if args or kwargs or x.dim() < 1 or x.shape[-1] != self.in_features or not x.is_meta:
        return _real(self, x, *args, **kwargs)
    return torch.empty((*x.shape[:-1], self.out_features), dtype=x.dtype, device=x.device)


def _pool_side(i, k, s, p, d, ceil):
    """torch's pooling_output_shape."""
    out = (i + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= i + p:
        out -= 1
    return out


def _pool_forward(self, x, *args, **kwargs):
    if args or kwargs or x.dim() != 4 or not x.is_meta or getattr(self, "return_indices", False):
        return _real(self, x, *args, **kwargs)
    k = _pairs(self.kernel_size, 2)
    s = _pairs(self.stride if self.stride else self.kernel_size, 2)  # stride None or [] means the kernel
    p = _pairs(self.padding, 2)
    d = _pairs(getattr(self, "dilation", 1), 2)
    if any(p[j] > k[j] // 2 for j in range(2)) or getattr(self, "divisor_override", None) == 0:
        return _real(self, x)
    sides = tuple(_pool_side(x.shape[2 + j], k[j], s[j], p[j], d[j], self.ceil_mode) for j in range(2))
    if min(sides) < 1:
        return _real(self, x)
    return torch.empty((*x.shape[:2], *sides), dtype=x.dtype, device=x.device)


def _adaptive_forward(self, x, *args, **kwargs):
    if args or kwargs or x.dim() != 4 or not x.is_meta or getattr(self, "return_indices", False):
        return _real(self, x, *args, **kwargs)
    size = _pairs(self.output_size, 2)
    sides = tuple(x.shape[2 + j] if v is None else v for j, v in enumerate(size))
    if min(x.shape[2:]) < 1 or min(sides) < 1:
        return _real(self, x)
    return torch.empty((*x.shape[:2], *sides), dtype=x.dtype, device=x.device)


# exact types only: a subclass may change its forward
_ARITHMETIC = {
    nn.Conv1d: _conv_forward,
    nn.Conv2d: _conv_forward,
    nn.Conv3d: _conv_forward,
    nn.Linear: _linear_forward,
    nn.MaxPool2d: _pool_forward,
    nn.AvgPool2d: _pool_forward,
    nn.AdaptiveAvgPool2d: _adaptive_forward,
    nn.AdaptiveMaxPool2d: _adaptive_forward,
}


def arithmetic_leaf(module: nn.Module) -> bool:
    """True for a layer the trace gives a forward that never reads its weights or buffers (its output shape is
    arithmetic, as trace() chooses below), so an analysis can leave its tensors where they are."""
    if not _is_leaf(module) or "forward" in module.__dict__:
        return False
    return type(module) in _ARITHMETIC or isinstance(module, NORMS) or isinstance(module, SAME_SHAPE)


# Layers the rows count themselves (explorer.analysis.rows): the rest, the user's own leaf modules and anything
# PyTorch has that the engine does not derive (attention, recurrent layers, transposed convolutions), run under
# torch.utils.flop_counter, and a row whose FLOPs it counts is marked as measured.
DERIVED_LEAVES = (
    nn.modules.conv._ConvNd,
    nn.Linear,
    nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd,
    nn.modules.pooling._AdaptiveMaxPoolNd,
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.Flatten,
    nn.Unflatten,
    nn.modules.padding._ConstantPadNd,
    nn.modules.padding._ReflectionPadNd,
    nn.modules.padding._ReplicationPadNd,
    nn.Upsample,
    nn.ChannelShuffle,
    nn.PixelShuffle,
    *SAME_SHAPE,
)
_NOT_DERIVED = (nn.modules.conv._ConvTransposeNd,)

# Functions written in a forward that never multiply-add (elementwise, shape and bookkeeping); any other function
# a forward calls (F.conv2d, matmul, einsum, bmm, ...) runs under torch.utils.flop_counter, measured.
ZERO_COST = frozenset(
    """__get__ __set__ __getitem__ __setitem__ __len__ __iter__ __bool__ __format__ __repr__ __contains__ __index__
    __int__ __float__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __neg__ __pos__ __abs__ __and__ __or__ __invert__
    __hash__ _set_grad_enabled size dim numel shape stride is_contiguous element_size
    add sub mul div true_divide floor_divide neg abs pow sqrt rsqrt exp log clamp clamp_ clip clamp_min clamp_max
    maximum minimum where masked_fill masked_fill_ add_ sub_ mul_ div_ copy_ fill_ zero_ zeros_like ones_like
    empty empty_like zeros ones full arange linspace tensor as_tensor rand randn rand_like randn_like uniform_
    normal_ kaiming_uniform_ kaiming_normal_ xavier_uniform_ xavier_normal_ trunc_normal_ constant_
    cat concat concatenate stack hstack vstack chunk split split_with_sizes unbind tensor_split
    view view_as reshape reshape_as flatten unflatten permute transpose t contiguous squeeze unsqueeze expand
    expand_as repeat repeat_interleave narrow select index_select gather roll flip
    clone detach detach_ to type float double half bfloat16 long int bool cpu cuda requires_grad_ type_as
    relu relu_ relu6 leaky_relu leaky_relu_ elu elu_ gelu silu mish hardswish hardsigmoid hardtanh hardtanh_ sigmoid
    sigmoid_ tanh tanh_ softmax log_softmax softplus prelu threshold glu
    dropout dropout_ dropout1d dropout2d dropout3d alpha_dropout feature_alpha_dropout
    max_pool1d max_pool2d max_pool3d avg_pool1d avg_pool2d avg_pool3d adaptive_avg_pool1d adaptive_avg_pool2d
    adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d
    batch_norm layer_norm group_norm instance_norm local_response_norm normalize
    pad interpolate upsample pixel_shuffle pixel_unshuffle channel_shuffle
    mean sum max min amax amin argmax argmin prod std var norm all any logsumexp cumsum
    eq ne lt le gt ge isnan isinf isfinite sign round floor ceil
    """.split()
)


def measured_flops(func, args, kwargs):
    """Run func under torch.utils.flop_counter: (its result, the FLOPs PyTorch counts, 2 per multiply-add)."""
    with FlopCounterMode(display=False) as counter:
        out = func(*args, **kwargs)
    return out, counter.get_total_flops()


def _broadcast(args, kwargs):
    a, b = args[0], args[1] if len(args) > 1 else kwargs.get("other")
    if isinstance(b, torch.Tensor):
        return (a.shape if a.shape == b.shape else torch.broadcast_shapes(a.shape, b.shape)), a
    return a.shape, a


def _binary(args, kwargs):
    shape, a = _broadcast(args, kwargs)
    return torch.empty(shape, dtype=a.dtype, device=a.device)


def _binary_inplace(args, kwargs):
    shape, a = _broadcast(args, kwargs)
    if tuple(shape) != tuple(a.shape):
        raise RuntimeError(f"output with shape {tuple(a.shape)} doesn't match the broadcast shape {tuple(shape)}")
    return a


def _unary(args, kwargs):
    x = args[0]
    if kwargs.get("inplace") or (len(args) > 1 and args[1] is True):
        return x
    return _like(x)


def _unary_inplace(args, kwargs):
    return args[0]


def _joined(func, stack: bool):
    """torch.cat / torch.stack by arithmetic: their meta kernels are PyTorch prims, whose first call imports
    torch._dynamo (0.6-1 s in a fresh process, measured in benchmarks/bench_peers.py). Anything unusual (tensors of
    other ranks or shapes, another device, a negative dim beyond range) runs the real function, which raises."""

    def fast(args, kwargs):
        tensors = args[0] if args else kwargs.get("tensors")
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if (
            not isinstance(tensors, (list, tuple))
            or not tensors
            or not isinstance(dim, int)
            or len(args) > 2
            or set(kwargs) - {"dim", "tensors"}
            or not isinstance(tensors[0], torch.Tensor)
        ):
            return func(*args, **kwargs)
        first = tensors[0]
        shape0, dtype = first.shape, first.dtype
        rank = len(shape0) + (1 if stack else 0)
        if not -rank <= dim < rank:
            return func(*args, **kwargs)
        dim %= rank
        head, tail = shape0[:dim], shape0[dim if stack else dim + 1 :]
        joined = 0
        for t in tensors:  # one pass, not three generators: with walk() above, DenseNet-264's trace 16.7 -> 13.8 ms
            if not isinstance(t, torch.Tensor) or not t.is_meta or t.dtype != dtype:
                return func(*args, **kwargs)
            shape = t.shape
            if stack:
                if shape != shape0:
                    return func(*args, **kwargs)
            elif len(shape) != len(shape0) or shape[:dim] != head or shape[dim + 1 :] != tail:
                return func(*args, **kwargs)
            else:
                joined += shape[dim]
        size = len(tensors) if stack else joined
        return torch.empty((*head, size, *tail), dtype=dtype, device=first.device)

    return fast


def _mean(func):
    """x.mean(dim, keepdim) by arithmetic: its meta kernel is a PyTorch reference whose first call imports
    torch._dynamo too (FractalNet's joins, squeeze-and-excitation, global pooling written as a mean)."""

    def fast(args, kwargs):
        x = args[0] if args else None
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
        dims = (dim,) if isinstance(dim, int) else dim
        if (
            not isinstance(x, torch.Tensor)
            or not x.is_meta
            or not x.is_floating_point()
            or not isinstance(dims, (tuple, list))
            or not dims
            or not all(isinstance(d, int) and -x.dim() <= d < x.dim() for d in dims)
            or not isinstance(keepdim, bool)
            or len(args) > 3
            or set(kwargs) - {"dim", "keepdim"}
        ):
            return func(*args, **kwargs)
        reduced = {d % x.dim() for d in dims}
        shape = (
            [1 if i in reduced else n for i, n in enumerate(x.shape)]
            if keepdim
            else [n for i, n in enumerate(x.shape) if i not in reduced]
        )
        return torch.empty(shape, dtype=x.dtype, device=x.device)

    return fast


T = torch.Tensor
_FAST = {torch.mean: _mean(torch.mean), T.mean: _mean(T.mean)}
_FAST |= {torch.cat: _joined(torch.cat, False), torch.stack: _joined(torch.stack, True)}
_FAST[torch.concat] = _joined(torch.concat, False)
_FAST[torch.concatenate] = _joined(torch.concatenate, False)
for _f in (
    torch.add,
    T.add,
    T.__add__,
    T.__radd__,
    torch.sub,
    T.sub,
    T.__sub__,
    torch.mul,
    T.mul,
    T.__mul__,
    T.__rmul__,
    torch.div,
    T.div,
    T.__truediv__,
):
    _FAST[_f] = _binary
for _f in (T.add_, T.__iadd__, T.sub_, T.__isub__, T.mul_, T.__imul__, T.div_, T.__itruediv__):
    _FAST[_f] = _binary_inplace
for _f in (
    torch.relu,
    T.relu,
    nn.functional.relu,
    nn.functional.relu6,
    torch.sigmoid,
    T.sigmoid,
    nn.functional.hardswish,
    torch.tanh,
):
    _FAST[_f] = _unary
for _f in (torch.relu_, T.relu_, T.sigmoid_):
    _FAST[_f] = _unary_inplace

_MERGE_NAMES = {
    "add": "add",
    "__add__": "add",
    "__radd__": "add",
    "__iadd__": "add",
    "add_": "add",
    "cat": "cat",
    "concat": "cat",
    "concatenate": "cat",
    "mean": "mean",
    "stack": "stack",
    "mul": "mul",
    "__mul__": "mul",
    "__rmul__": "mul",
    "__imul__": "mul",
    "mul_": "mul",
}


@dataclass
class Call:
    """One layer call (a leaf module) or one tensor operation written in a forward."""

    index: int
    name: str
    call: int
    op: str
    module: nn.Module | None
    inputs: list = field(default_factory=list)  # producer indices; -1 is the network input
    input_shapes: list = field(default_factory=list)
    output_shape: tuple = ()
    scope: str = ""
    kwargs: dict = field(default_factory=dict)
    flops: int | None = None  # measured by torch.utils.flop_counter (an operation the engine does not derive)
    params: tuple = ()  # parameters an operation written in forward reads (module attributes used functionally)


@dataclass
class Trace:
    calls: list
    input_shape: tuple
    output_shape: tuple
    output_node: int
    uncalled: list  # (name, module) of leaves holding parameters that the forward never called
    scopes: dict  # name -> class name of every module that holds other modules (blocks, stages)
    modules: dict = field(default_factory=dict)  # module_names(model): every module and its dotted name


class _Recorder(TorchFunctionMode):
    def __init__(self, names: dict, measure: bool = False):
        super().__init__()
        self.names = names
        self.measure = measure  # measure unknown operations (analysing an arbitrary nn.Module)
        self.reset()

    def reset(self) -> None:
        """Empty, for another forward through the same wrappers (a search over input sides)."""
        self.calls: list[Call] = []
        self.producer: dict[int, int] = {}
        self.keep: list = []  # keeps traced tensors alive so that their ids stay unique
        self.scope: list[str] = []
        self.in_leaf = 0
        self.leaf_name = ""
        self.leaf_input = None
        self.counts: dict[str, int] = {}

    # -- tensor bookkeeping -------------------------------------------------------------
    def _sources(self, values) -> tuple[list, list]:
        if len(values) == 1 and isinstance(values[0], torch.Tensor):  # the common case, a layer's one input
            node = self.producer.get(id(values[0]))
            return ([node], [tuple(values[0].shape[1:])]) if node is not None else ([], [])
        inputs, shapes = [], []
        producer = self.producer

        def walk(items) -> None:  # depth first, in order; a list popped from its front was O(n^2) over a
            for v in items:  # DenseNet layer's concatenation of every earlier map
                if isinstance(v, torch.Tensor):
                    node = producer.get(id(v))
                    if node is not None:
                        inputs.append(node)
                        shapes.append(tuple(v.shape[1:]))
                elif isinstance(v, (list, tuple)):
                    walk(v)

        walk(values)
        return inputs, shapes

    def _produce(self, out, node: int):
        first = None
        for t in out if isinstance(out, (list, tuple)) else (out,):
            if isinstance(t, torch.Tensor):
                self.producer[id(t)] = node
                self.keep.append(t)
                if first is None:
                    first = t
        return first

    def _new_call(self, name, op, module, inputs, shapes, out, scope, kwargs=None):
        count = self.counts.get(name, 0) + 1
        self.counts[name] = count
        call = Call(len(self.calls), name, count, op, module, inputs, shapes, (), scope, kwargs or {})
        self.calls.append(call)
        first = self._produce(out, call.index)
        call.output_shape = tuple(first.shape[1:]) if first is not None else ()
        return call

    # -- functions written in forward() -----------------------------------------------
    def __torch_function__(self, func, types_, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.in_leaf:
            return func(*args, **kwargs)
        fast = _FAST.get(func)
        flops = None
        if fast is not None:
            out = fast(args, kwargs)
        elif self.measure and getattr(func, "__name__", "") not in ZERO_COST:
            out, flops = measured_flops(func, args, kwargs)
        else:
            out = func(*args, **kwargs)
        if isinstance(out, torch.Tensor) or (
            isinstance(out, (tuple, list)) and out and all(isinstance(t, torch.Tensor) for t in out)
        ):
            inputs, shapes = self._sources(list(args) + list(kwargs.values()))
            if inputs:
                op = getattr(func, "__name__", str(func))
                op = _MERGE_NAMES.get(op, op.strip("_"))
                scope = self.scope[-1] if self.scope else ""
                name = f"{scope}.{op}" if scope else op
                keep = {k: v for k, v in kwargs.items() if isinstance(v, (int, float, bool, tuple))}
                if op == "getitem" and len(args) > 1:
                    keep["index"] = repr(args[1])[:60]
                call = self._new_call(name, op, None, inputs, shapes, out, scope, keep)
                call.flops = flops or None
                if self.measure:
                    call.params = tuple(v for v in list(args) + list(kwargs.values()) if isinstance(v, nn.Parameter))
        return out

    # -- layer calls ------------------------------------------------------------------
    def wrap_leaf(self, module: nn.Module, name: str, forward, measure: bool = False):
        def recorded(*args, **kwargs):
            # Inside a layer nothing is recorded, and the bookkeeping's own `tensor.shape` would reach the mode
            # as Tensor.shape.__get__ (7,214 dispatches, 40 ms of ResNet-1202's trace, measured): both run with
            # torch-function dispatch off.
            with _NO_TORCH_FUNCTION():
                inputs, shapes = self._sources(args)
                outer = self.leaf_name
                self.leaf_name = name
                self.leaf_input = shapes[0] if shapes else None
                self.in_leaf += 1
                flops = None
                if measure:
                    out, flops = measured_flops(forward, args, kwargs)
                else:
                    out = forward(*args, **kwargs)
                self.in_leaf -= 1
                self.leaf_name = outer
                call = self._new_call(
                    name, type(module).__name__, module, inputs, shapes, out, self.scope[-1] if self.scope else ""
                )
            call.flops = flops or None
            spatial = call.output_shape[1:]
            if spatial and min(spatial) < 1:
                raise ShapeError(
                    f"it turns a {_fmt(shapes[0]) if shapes else '?'} input into "
                    f"{_fmt(call.output_shape)}, a side below 1 pixel",
                    layer=name,
                )
            return out

        return recorded

    def wrap_scope(self, name: str, forward):
        def scoped(*args, **kwargs):
            self.scope.append(name)
            out = forward(*args, **kwargs)
            self.scope.pop()
            return out

        return scoped


def module_names(model: nn.Module) -> dict:
    """{module: dotted name} in the order and with the names of model.named_modules() (the root is "", a module
    reached twice keeps its first name): 2 ms on ResNet-1202 against 10 ms for named_modules' nested generators
    (measured), and an analysis walks the modules several times."""
    names = {model: ""}

    def visit(prefix: str, module: nn.Module) -> None:
        for key, child in module._modules.items():
            if child is not None and child not in names:
                name = f"{prefix}.{key}" if prefix else key
                names[child] = name
                visit(name, child)

    visit("", model)
    return names


def _is_leaf(module: nn.Module) -> bool:
    # module._modules directly: Module.children() costs 7 us a call, 0.17 s over ResNet-1202's modules
    children = module._modules
    return not children or all(child is None for child in children.values())


def _describe(module: nn.Module) -> str:
    kernel = getattr(module, "kernel_size", None)
    if kernel is not None:
        k = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        d = getattr(module, "dilation", 1)
        d = d if isinstance(d, tuple) else (d, d)
        spans = f" (dilation {d[0]}: it spans {d[0] * (k[0] - 1) + 1}x{d[1] * (k[1] - 1) + 1})" if max(d) > 1 else ""
        return f"its {type(module).__name__} {k[0]}x{k[1]} window{spans}"
    return f"the {type(module).__name__}"


def _fmt(shape) -> str:
    return "x".join(str(s) for s in shape)


def trace(model: nn.Module, input_shape: tuple, measure: bool = False, dtype=None, modules=None) -> Trace:
    """Run `model` once on a meta tensor of `input_shape` (C, H, W), batch 1, in eval mode.

    measure: leaves and functions the rows do not derive run under torch.utils.flop_counter (for an arbitrary
    nn.Module; the families' own layers are all derived, so their traces skip it).
    modules: module_names(model), when the caller has it already."""
    modules = module_names(model) if modules is None else modules
    names = dict(modules)
    root_name = type(model).__name__
    names[model] = names.get(model) or root_name
    rec = _Recorder(names, measure)
    training = _install(model, names, rec, measure)
    try:
        out = _forward(model, rec, names, root_name, input_shape, dtype)
    finally:
        _uninstall(training)
    first = out[0] if isinstance(out, (tuple, list)) else out
    output_node = rec.producer.get(id(first), len(rec.calls) - 1)
    called = {c.module for c in rec.calls if c.module is not None}
    uncalled = [
        (n, m)
        for m, n in names.items()
        if m not in called and _is_leaf(m) and any(p is not None for p in m._parameters.values())
    ]
    scopes = {n: type(m).__name__ for m, n in names.items() if m is not model and not _is_leaf(m)}
    return Trace(rec.calls, tuple(input_shape), tuple(first.shape[1:]), output_node, uncalled, scopes, modules)


@contextlib.contextmanager
def sides_tried(model: nn.Module, channels: int):
    """works(side): whether `model` takes a channels x side x side input, for many sides in a row, with the
    forwards wrapped once (wrapping DenseNet's 7,222 modules took 130 ms of each 200 ms trial, measured)."""
    names = dict(module_names(model))
    root_name = type(model).__name__
    names[model] = names.get(model) or root_name
    rec = _Recorder(names)
    training = _install(model, names, rec, False)

    def works(side: int) -> bool:
        rec.reset()
        try:
            _forward(model, rec, names, root_name, (channels, side, side), None)
            return True
        except ShapeError:
            return False

    try:
        yield works
    finally:
        _uninstall(training)


def _install(model: nn.Module, names: dict, rec: _Recorder, measure: bool) -> dict:
    """Each module's forward wrapped to record its calls; returns every module's training mode, for _uninstall.

    Wrapped on the instance (not hooked): Module.__call__ takes its slow path for any module with hooks, which made
    tracing ResNet-1202 1.6x slower (measured). The instance dict is written directly: Module.__setattr__ and
    .train() cost 0.1 s there."""
    training = {module: module.training for module in names}
    for module, name in names.items():
        module.__dict__["training"] = False
        if _is_leaf(module):
            arithmetic = _ARITHMETIC.get(type(module))
            if arithmetic is not None and "forward" not in module.__dict__:
                forward = types.MethodType(arithmetic, module)
            elif isinstance(module, NORMS):
                forward = types.MethodType(_norm_forward, module)
            elif isinstance(module, SAME_SHAPE):
                forward = types.MethodType(_same_shape_forward, module)
            else:
                forward = module.forward
            unknown = measure and (isinstance(module, _NOT_DERIVED) or not isinstance(module, DERIVED_LEAVES))
            module.__dict__["forward"] = rec.wrap_leaf(module, name, forward, unknown)
        elif module is not model:
            module.__dict__["forward"] = rec.wrap_scope(name, module.forward)
    return training


def _uninstall(training: dict) -> None:
    for module, mode in training.items():
        module.__dict__.pop("forward", None)
        module.__dict__["training"] = mode


def _forward(model: nn.Module, rec: _Recorder, names: dict, root_name: str, input_shape: tuple, dtype):
    """The wrapped model on a meta input: its output, or the project's ShapeError naming the layer."""
    x = torch.empty((1, *input_shape), device=META, dtype=dtype)
    rec.producer[id(x)] = -1
    rec.keep.append(x)
    try:
        with torch.no_grad(), rec:
            return model(x)
    except ShapeError:
        raise
    except (RuntimeError, ValueError, IndexError) as e:
        if rec.in_leaf:
            layer = rec.leaf_name
            module = dict((n, m) for m, n in names.items()).get(layer)
            what = _describe(module) if module is not None else "the layer"
            got = f"a {_fmt(rec.leaf_input)} input" if rec.leaf_input else "its input"
            message = f"{what} receives {got}, which it cannot take ({_torch_message(e)})"
        else:
            layer = rec.scope[-1] if rec.scope else root_name
            message = f"its inputs do not fit together ({_torch_message(e)})"
        raise ShapeError(message, layer=layer or root_name) from None


def _torch_message(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:300]
