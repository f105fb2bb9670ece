"""The rows and totals of an analysis: one LayerRow per layer call, read off the module and the traced shapes.

Plain data (torchinfo's statistics objects, without the printing): the table, the graph, the CLI's JSON and the
tests all read these. The pen-and-paper derivation of a row (explorer.analysis.formulas) is computed on first use.
"""

from __future__ import annotations

import functools
import math
import weakref
from dataclasses import asdict, dataclass, field

from torch import nn

from . import formulas

BYTES_FP32 = 4
MB = 2**20

KIND_OF = (
    (nn.modules.conv._ConvNd, "conv"),
    (nn.Linear, "linear"),
    (
        (
            nn.modules.pooling._MaxPoolNd,
            nn.modules.pooling._AvgPoolNd,
            nn.modules.pooling._AdaptiveAvgPoolNd,
            nn.modules.pooling._AdaptiveMaxPoolNd,
        ),
        "pool",
    ),
    ((nn.modules.batchnorm._NormBase, nn.LocalResponseNorm, nn.GroupNorm, nn.LayerNorm), "norm"),
    (
        (
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
            nn.Softmax,
            nn.LogSoftmax,
            nn.PReLU,
            nn.Mish,
        ),
        "act",
    ),
    (nn.modules.dropout._DropoutNd, "dropout"),
    ((nn.Flatten, nn.Unflatten), "reshape"),
)
OP_KIND = {
    "add": "merge",
    "cat": "merge",
    "mean": "merge",
    "stack": "merge",
    "mul": "merge",
    "flatten": "reshape",
    "view": "reshape",
    "reshape": "reshape",
    "getitem": "reshape",
}
OP_TITLE = {"add": "(+) add", "cat": "(C) concat", "mean": "(J) mean join", "stack": "stack", "mul": "(×) multiply"}


@dataclass(eq=False)  # not frozen: frozen rows made build_rows 20% slower on ResNet-1202 (measured)
class LayerRow:
    index: int
    name: str  # hierarchical module name; operations written in forward() get scope.op
    call: int  # 1 for a module's first call, 2 for its second...
    type: str
    kind: str  # conv, pool, linear, norm, act, dropout, reshape, merge, op, other, unused
    input_shape: tuple | None
    output_shape: tuple | None
    params: int
    trainable: int
    mult_adds: int
    kernel: tuple | None = None
    stride: tuple | None = None
    padding: tuple | str | None = None
    dilation: tuple | None = None
    groups: int | None = None
    inputs: tuple = ()  # indices of the rows feeding this one; -1 is the network input
    input_shapes: tuple = ()
    shared_with: int | None = None  # a second call of a module: the row that counted its parameters
    spec: dict | None = field(default=None, compare=False)  # what the formulas need (formulas.layer_spec)
    receptive_field: int | None = None  # along the height
    jump: int | None = None
    start: float | None = None
    flop_counted: bool = False  # mult_adds measured by torch.utils.flop_counter, not derived by the engine
    receptive_field_w: int | None = None  # along the width: they differ for non-square kernels or strides
    jump_w: int | None = None
    start_w: float | None = None

    @functools.cached_property
    def derivation(self) -> tuple:
        """Pen-and-paper steps with the numbers plugged in (computed on first use: most rows are never shown)."""
        if self.spec is None or self.input_shape is None:
            return ()
        return tuple(formulas.derive(self.spec, self.input_shape, self.output_shape))

    def measured(self, quantity: str):
        """What PyTorch produced for a quantity of the derivation (the check beside the pen-and-paper value)."""
        out = self.output_shape or ()
        return {
            "output side": out[1] if len(out) > 1 else None,
            "output height": out[1] if len(out) > 1 else None,
            "output width": out[2] if len(out) > 2 else None,
            "padded height": out[1] if len(out) > 1 else None,
            "padded width": out[2] if len(out) > 2 else None,
            "output channels": out[0] if out else None,
            "output units": out[0] if len(out) == 1 else None,
            "parameters": self.params if self.shared_with is None else None,
            "multiply-adds": self.mult_adds,
        }.get(quantity)

    @property
    def depth(self) -> int:
        return self.name.count(".") + 1

    @property
    def label(self) -> str:
        return self.name + (f" (call {self.call})" if self.call > 1 else "")


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    mult_adds: int
    param_mb: float  # fp32
    activation_mb: float  # every layer's output for one image at fp32: what a forward keeps for backward
    weight_layers: int  # convolutions and fully connected layers, as the VGG paper counts depth
    rows: int
    buffers: int = 0  # elements of the registered buffers (batch-norm running statistics...): state, not parameters
    measured_mult_adds: int = 0  # the part of mult_adds that torch.utils.flop_counter measured


@dataclass(frozen=True)
class Analysis:
    name: str
    family: str
    preset: str | None
    knobs: dict
    resolved: dict  # the knobs the builder used, auto values filled in
    input_shape: tuple
    output_shape: tuple
    rows: tuple
    totals: Totals
    output_row: int = -1
    title: str = ""
    scopes: dict = field(default_factory=dict)  # block and stage names -> class names, for the graph

    def to_dict(self, rows: bool = True) -> dict:
        """JSON-ready: the CLI's --json, the downloads and external tools read this."""
        out = {
            "name": self.name,
            "family": self.family,
            "preset": self.preset,
            "title": self.title,
            "knobs": {k: list(v) if isinstance(v, tuple) else v for k, v in self.knobs.items()},
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "total_params": self.totals.params,
            "trainable_params": self.totals.trainable_params,
            "mult_adds": self.totals.mult_adds,
            "param_mb": round(self.totals.param_mb, 3),
            "activation_mb": round(self.totals.activation_mb, 3),
            "weight_layers": self.totals.weight_layers,
            "buffers": self.totals.buffers,
            "measured_mult_adds": self.totals.measured_mult_adds,
        }
        if rows:
            out["layers"] = [_row_json(r) for r in self.rows]
        return out


def _row_json(row: LayerRow) -> dict:
    d = asdict(row)
    d.pop("spec")
    d["derivation"] = list(row.derivation)
    for key, value in d.items():
        if isinstance(value, tuple):
            d[key] = [list(v) if isinstance(v, tuple) else v for v in value]
    return d


def _hw(value, module=None):
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


_ATTRS = ("kernel_size", "stride", "padding", "dilation", "groups")
_FACTS: dict[type, tuple] = {}  # a leaf's class -> (kind, plain attribute reads, may have a layer_spec)


def _type_facts(cls) -> tuple:
    """What a row reads off a layer's class, once per class: its kind (KIND_OF, by subclass), whether the
    attributes a row reads can be looked up in the instance and its parameter, buffer and module dicts directly
    (no class in its MRO defines one of them and it keeps Module's __getattr__: the same value getattr gives,
    without the AttributeError a BatchNorm2d raises for kernel_size), and whether formulas.layer_spec can return
    anything for it. 45 ms of ResNet-1202's rows went to these per call (measured)."""
    kind = next((k for t, k in KIND_OF if issubclass(cls, t)), "other")
    plain = cls.__getattr__ is nn.Module.__getattr__ and cls.__getattribute__ is object.__getattribute__
    plain = plain and not any(name in vars(base) for base in cls.__mro__ for name in _ATTRS)
    return kind, plain, issubclass(cls, formulas.SPEC_LAYERS)


def _attr(m, name: str, plain: bool):
    """getattr(m, name, None)."""
    if not plain:
        return getattr(m, name, None)
    d = m.__dict__
    if name in d:
        return d[name]
    for store in ("_parameters", "_buffers", "_modules"):
        found = d.get(store)
        if found is not None and name in found:
            return found[name]
    return None


def build_rows(tr, model, complete: bool = False) -> list[LayerRow]:
    """complete (an arbitrary nn.Module): a parameter shared by two layers is counted on the first, parameters
    read by operations written in a forward are counted on those rows, and any parameter no row holds gets a
    row of its own, so that the rows always add up to sum(p.numel() for p in model.parameters())."""
    rows: list[LayerRow] = []
    first_call: dict[int, int] = {}
    seen: set | None = set() if complete else None
    # receptive field, jump, start of the network input, along the height and along the width
    rf: dict[int, tuple] = {-1: ((1, 1, 0.5), (1, 1, 0.5))}
    for c in tr.calls:
        m = c.module
        inp = c.input_shapes[0] if c.input_shapes else None
        kernel = stride = padding = dilation = groups = None
        spec = None
        if m is not None:
            cls = type(m)
            facts = _FACTS.get(cls) if m.__class__ is cls else None
            if facts is None:
                facts = _type_facts(cls)
                if m.__class__ is cls:
                    _FACTS[cls] = facts
                else:  # a module that fakes its __class__: isinstance and getattr as they are
                    facts = (next((k for t, k in KIND_OF if isinstance(m, t)), "other"), False, True)
            kind, plain, has_spec = facts
            type_name = cls.__name__
            shared = first_call.get(id(m))
            if shared is None:
                first_call[id(m)] = c.index
                own = [p for p in m._parameters.values() if p is not None]  # a leaf: its own are all
                if seen is not None:
                    own = [p for p in own if id(p) not in seen and not seen.add(id(p))]
                params = trainable = 0
                for p in own:
                    n = p.numel()
                    params += n
                    if p.requires_grad:
                        trainable += n
            else:
                params = trainable = 0
            kernel = _hw(_attr(m, "kernel_size", plain))
            if kernel is not None:
                stride = _hw(_attr(m, "stride", plain))
                padding = _hw(_attr(m, "padding", plain))
                dilation = _hw(_attr(m, "dilation", plain))
            groups = _attr(m, "groups", plain) if kind == "conv" else None
            mult_adds = _mult_adds(m, c.output_shape) if c.flops is None else c.flops // 2
            spec = formulas.layer_spec(m) if has_spec else None
        else:
            kind = OP_KIND.get(c.op, "op")
            type_name = OP_TITLE.get(c.op, c.op)
            shared, params, trainable, mult_adds = None, 0, 0, (c.flops or 0) // 2
            if c.params and seen is not None:
                own = [p for p in c.params if id(p) not in seen and not seen.add(id(p))]
                params = sum(p.numel() for p in own)
                trainable = sum(p.numel() for p in own if p.requires_grad)
        if (
            kernel is None
            and kind not in ("pool", "reshape")
            and (spec is None or spec["layer"] != "same_pad")
            and len(c.inputs) == 1
            and c.inputs[0] in rf
        ):  # a layer without a window on one input (norms, activations): it sees what its input sees
            height, width = rf[c.inputs[0]]
        else:
            height = _receptive(c, m, kind, kernel, stride, padding, dilation, inp, rf, spec, 0)
            width = _receptive(c, m, kind, kernel, stride, padding, dilation, inp, rf, spec, 1)
        rf[c.index] = (height, width)
        (r, j, s), (r_w, j_w, s_w) = height, width
        rows.append(
            LayerRow(
                c.index,
                c.name,
                c.call,
                type_name,
                kind,
                inp,
                c.output_shape,
                params,
                trainable,
                mult_adds,
                kernel,
                stride,
                padding,
                dilation,
                groups,
                tuple(c.inputs),
                tuple(c.input_shapes),
                shared,
                spec,
                r,
                j,
                s,
                c.flops is not None,
                r_w,
                j_w,
                s_w,
            )
        )
    for name, m in tr.uncalled:  # e.g. auxiliary classifiers, used only while training
        own = list(m.parameters())
        if seen is not None:
            own = [p for p in own if id(p) not in seen and not seen.add(id(p))]
        n = sum(p.numel() for p in own)
        t = sum(p.numel() for p in own if p.requires_grad)
        rows.append(LayerRow(len(rows), name, 0, type(m).__name__, "unused", None, None, n, t, 0))
    if seen is not None:  # parameters of a container that no operation read (or read in a way not traced)
        for name, p in _unseen_parameters(model, tr.modules, seen):
            if id(p) not in seen:
                seen.add(id(p))
                t = p.numel() if p.requires_grad else 0
                rows.append(LayerRow(len(rows), name, 0, "Parameter", "unused", None, None, p.numel(), t, 0))
    return rows


def _unseen_parameters(model, modules: dict | None, seen: set):
    """named_parameters(model, modules), only those not in seen: a name is made only for them (making one for each
    of ResNet-1202's 3,606 parameters cost 4 ms of its 90 ms analysis, measured)."""
    if not modules:
        yield from ((name, p) for name, p in model.named_parameters() if id(p) not in seen)
        return
    for module, prefix in modules.items():
        for key, p in module._parameters.items():
            if p is not None and id(p) not in seen:
                yield (f"{prefix}.{key}" if prefix else key), p


def named_parameters(model, modules: dict | None = None):
    """model.named_parameters() (shared parameters once, under their first name), read off module_names(model)
    when given instead of walking the modules again."""
    if not modules:
        yield from model.named_parameters()
        return
    seen = set()
    for module, prefix in modules.items():
        for key, p in module._parameters.items():
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                yield (f"{prefix}.{key}" if prefix else key), p


def _mult_adds(m, out_shape) -> int:
    """Multiply-adds of convolutions and fully connected layers, the convention of the VGG and MobileNet papers."""
    if isinstance(m, nn.modules.conv._ConvNd) and not isinstance(m, nn.modules.conv._ConvTransposeNd):
        return math.prod(out_shape) * (m.in_channels // m.groups) * math.prod(m.kernel_size)
    if isinstance(m, nn.Linear):
        return math.prod(out_shape[:-1]) * m.in_features * m.out_features
    return 0


def _receptive(c, m, kind, kernel, stride, padding, dilation, inp, rf, spec=None, axis=0):
    """Distill's recurrences (Araujo et al. 2019): r = r_in + (F - 1) j_in, j = j_in S, start += ((F-1)/2 - P) j_in.

    Along one spatial axis (0: the height, 1: the width); P is the padding before it (top or left).
    tests/test_receptive.py checks them against the input pixels whose gradient is nonzero for one output
    unit of a real model.
    """
    sources = [rf[i][axis] for i in c.inputs if i in rf] or [rf[-1][axis]]
    r, j, s = max(sources)  # a merge sees as far as its widest input
    side = inp[1 + axis] if inp is not None and len(inp) == 3 else None
    if spec is not None and spec.get("layer") == "same_pad" and side is not None:
        before, _ = formulas.same_padding(side, spec["F"][axis], spec["S"][axis], spec["D"][axis])
        return r, j, s - before * j  # padding shifts the grid; the window comes with the next layer
    if kernel is not None and isinstance(kernel[axis], int):
        d = dilation[axis] if dilation else 1
        f = d * (kernel[axis] - 1) + 1
        if isinstance(padding, str):  # 'valid': none; 'same' at stride 1: PyTorch pads (F - 1) // 2 before
            p = 0 if padding == "valid" else (f - 1) // 2
        else:
            p = padding[axis] if padding else 0
        st = stride[axis] if stride else 1
        return r + (f - 1) * j, j * st, s + ((f - 1) / 2 - p) * j
    if (
        m is not None
        and isinstance(m, (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd))
        and side is not None
    ):
        f = side  # a global pool sees the whole map
        return r + (f - 1) * j, j * f, s + (f - 1) / 2 * j
    if kind == "reshape" and side is not None and side > 1 and len(c.output_shape) < 3:
        f = side  # flattening a map: the next dense layer sees all of it
        return r + (f - 1) * j, j * f, s + (f - 1) / 2 * j
    return r, j, s


_MEMOS: dict[int, dict] = {}


def memo(analysis: Analysis) -> dict:
    """A dict that lives as long as the analysis: what views derive from it (graph layouts, table records) is
    computed once per analysis for the whole server, since analyze() hands every session the same object.
    Kept beside the object, not in it: an Analysis stays plain, picklable data."""
    key = id(analysis)
    found = _MEMOS.get(key)
    if found is None:
        found = _MEMOS[key] = {}
        weakref.finalize(analysis, _MEMOS.pop, key, None)
    return found


def memoised(analysis: Analysis, key: tuple, compute):
    """memo(analysis)[key], computed by compute() on first use (two sessions may both compute it once)."""
    store = memo(analysis)
    if key not in store:
        store[key] = compute()
    return store[key]
