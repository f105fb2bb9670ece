"""Export as PyTorch: the configured network as a short, runnable module definition (the lecture's Step 3 key).

Two forms, chosen from the network itself:
- nested nn.Sequential, when every container is a plain nn.Sequential (VGG, the lecture's CNN, custom
  networks): the code has the same module names, so our state_dict loads into it as it is;
- a generated nn.Module otherwise (ResNet, DenseNet...): __init__ creates every layer (nested names joined
  with '_': layer1.0.conv1 -> layer1_0_conv1) and forward() is the dataflow torch.fx traced, with the residual
  additions and concatenations written out.
Either way the code is generated from the real model, and tests/test_export.py runs it and compares
parameters and outputs with ours. User text never enters the code unquoted: names are Python string
literals (repr), comments are built from parsed numbers.
"""

from __future__ import annotations

import contextlib
import inspect
import keyword
import operator
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import fx, nn
from torch.fx.node import _get_qualified_name

from ..analysis.analyzer import analyze_config, borrowed_model
from ..build import fx_traced_here, has_lazy
from ..errors import ExplorerError
from ..layers import SamePad2d
from ..notation import origins
from ..registry import configure, shorten


class ExportError(ExplorerError, RuntimeError):
    """A network whose forward torch.fx cannot write out."""


@dataclass(frozen=True)
class Export:
    code: str
    form: str  # "sequential" or "module"
    explanation: str
    filename: str


class WriteError(ExplorerError, OSError):
    """A file the export cannot write: a folder that does not exist, a directory, no permission, a path too long."""


MAX_PATH = 1024  # characters; Linux allows 4,096 but a path this long is a mistake


def write(export: Export, path) -> Path:
    """Write the code to `path` whole or not at all: a temporary file in the same folder, then renamed over it, so a
    failed write never leaves half a file or destroys the one that was there. OSError becomes one sentence."""
    text = str(path)
    if not text.strip():
        raise WriteError("The output file name is empty; give a file name such as resnet20.py.")
    if len(text) > MAX_PATH or any(len(part.encode()) > 255 for part in Path(text).parts):
        raise WriteError(
            f"The output path {shorten(text)} is too long (at most {MAX_PATH:,} characters and 255 bytes per "
            "name); choose a shorter one."
        )
    target = Path(text)
    folder = target.parent
    if target.is_dir():
        raise WriteError(
            f"{shorten(text)} is a folder; give a file name inside it, e.g. {shorten(str(target / export.filename))}."
        )
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise WriteError(f"The folder {shorten(str(folder))} {what}; create it or choose another one.")
    if target.exists() and not os.access(target, os.W_OK):
        raise WriteError(f"{shorten(text)} cannot be written (no permission); choose another file.")
    try:
        with tempfile.NamedTemporaryFile("w", dir=folder, prefix=f".{target.name[:40]}.", delete=False) as f:
            temporary = Path(f.name)
            f.write(export.code)
        os.chmod(temporary, target.stat().st_mode & 0o777 if target.exists() else 0o644)  # not mkstemp's 0600
        os.replace(temporary, target)
    except OSError as e:
        with contextlib.suppress(OSError, UnboundLocalError):
            temporary.unlink()
        raise WriteError(
            f"{shorten(text)} cannot be written ({e.strerror or e}); choose another file or folder."
        ) from None
    return target


def to_pytorch(name: str, input_shape=None, **knobs) -> Export:
    """Runnable PyTorch code for a family or preset with knobs (custom networks: name='custom', spec=...)."""
    config = configure(name, input_shape, **knobs)
    analysis = analyze_config(config, name)  # refuses inputs that collapse, with the layer's name
    with borrowed_model(config) as model:
        model.eval()
        if has_lazy(model):  # LazyLinear learns its input size from one (meta) forward
            with torch.no_grad():
                model(torch.empty(1, *config.input_shape, device="meta"))
        comments = _comments(analysis, config)
        uses_same_pad = any(isinstance(m, SamePad2d) for m in model.modules())
        if _plain_sequential(model):
            body, form = _sequential_code(model, comments), "sequential"
            explanation = (
                "Nested nn.Sequential with the same module names as the analysed model, so a state_dict "
                "saved from one loads into the other."
            )
        else:
            body, form = _module_code(model, comments, _class_name(analysis)), "module"
            explanation = (
                "A generated nn.Module: __init__ creates every layer of the traced network (nested names "
                "joined with '_', e.g. layer1.0.conv1 → layer1_0_conv1); forward() is the dataflow "
                "torch.fx recorded, residual additions (+) and concatenations (torch.cat) included. Same "
                "parameters and same outputs as the explorer's model (tested), but not the paper's "
                "block classes: read explorer/families/ for those."
            )
    c, h, w = config.input_shape
    head = [
        f"# {_safe(analysis.title)}: PyTorch code generated by Architecture Explorer.",
        f"# Input {c}x{h}x{w} -> output {'x'.join(map(str, analysis.output_shape))}; "
        f"{analysis.totals.params:,} parameters ({analysis.totals.weight_layers} weight layers).",
    ]
    imports = (
        (["from collections import OrderedDict", ""] if form == "sequential" else [])
        + (["import operator", ""] if "operator." in body else [])
        + ["import torch", "from torch import nn"]
    )
    main = [
        'if __name__ == "__main__":',
        "    model = build_model().eval()",
        f"    x = torch.randn(1, {c}, {h}, {w})",
        f'    print("output shape:", tuple(model(x).shape[1:]))  # {tuple(analysis.output_shape)}',
        f'    print(f"parameters: {{sum(p.numel() for p in model.parameters()):,}}")  # {analysis.totals.params:,}',
    ]
    sections = (
        ["\n".join(head + imports)]
        + ([inspect.getsource(SamePad2d)] if uses_same_pad else [])
        + [body, "\n".join(main)]
    )
    code = "\n\n\n".join(section.strip("\n") for section in sections) + "\n"
    return Export(code, form, explanation, f"{_file_stem(analysis.name)}.py")


# -- comments from the analysis ---------------------------------------------------------------------


def _comments(analysis, config) -> dict:
    """Module name -> '# 64x32x32, 1,792 params' (and, for custom networks, the line it comes from)."""
    out = {}
    for r in analysis.rows:
        if r.call != 1 or r.kind == "unused":
            continue
        shape = "x".join(map(str, r.output_shape)) if r.output_shape else ""
        out[r.name] = shape + (f", {r.params:,} params" if r.params else "")
    if config.family == "custom":
        for module_name, layer in origins(config.knob_dict["spec"], config.input_shape[0]).items():
            if module_name in out:
                out[module_name] = (
                    f"{layer.notation_text()} (line {layer.line}, column {layer.column}) -> {out[module_name]}"
                )
    return {k: _safe(v) for k, v in out.items()}


def _safe(text: str) -> str:
    """Text for a comment line: printable characters only, so it can never end the comment."""
    return "".join(ch if ch.isprintable() else " " for ch in str(text))


def _file_stem(name: str) -> str:
    return re.sub(r"\W+", "_", name).strip("_") or "network"


def _class_name(analysis) -> str:
    words = re.findall(r"[A-Za-z0-9]+", analysis.name)
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Network"
    return name if name[0].isalpha() else "Net" + name


# -- layers as code ---------------------------------------------------------------------------------


def _short(v):
    if isinstance(v, (tuple, list)) and len(v) == 2 and v[0] == v[1]:
        return repr(v[0])
    return repr(tuple(v)) if isinstance(v, (tuple, list)) else repr(v)


def _value(v) -> str:
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return "float('inf')" if v > 0 else "float('-inf')"
    return repr(v)


def leaf_code(m: nn.Module) -> str:
    """One layer as the constructor call a student would write (defaults left out)."""
    args: list[str] = []

    def opt(key, value, default):
        if value != default and not (isinstance(value, tuple) and len(set(value)) == 1 and value[0] == default):
            args.append(f"{key}={_short(value) if isinstance(value, tuple) else _value(value)}")

    t = type(m)
    if t is nn.Conv2d:
        args += [str(m.in_channels), str(m.out_channels), _short(m.kernel_size)]
        opt("stride", m.stride, 1)
        opt("padding", m.padding, 0)
        opt("dilation", m.dilation, 1)
        opt("groups", m.groups, 1)
        opt("bias", m.bias is not None, True)
        opt("padding_mode", m.padding_mode, "zeros")
    elif t is nn.Linear:
        args += [str(m.in_features), str(m.out_features)]
        opt("bias", m.bias is not None, True)
    elif t in (nn.MaxPool2d, nn.AvgPool2d):
        args.append(_short(m.kernel_size))
        opt("stride", m.stride, m.kernel_size)
        opt("padding", m.padding, 0)
        if t is nn.MaxPool2d:
            opt("dilation", m.dilation, 1)
        else:
            opt("count_include_pad", m.count_include_pad, True)
        opt("ceil_mode", m.ceil_mode, False)
    elif t in (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d):
        args.append(_short(m.output_size))
    elif t in (nn.BatchNorm1d, nn.BatchNorm2d):
        args.append(str(m.num_features))
        opt("eps", m.eps, 1e-5)
        opt("momentum", m.momentum, 0.1)
        opt("affine", m.affine, True)
        opt("track_running_stats", m.track_running_stats, True)
    elif t in (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.SiLU):
        opt("inplace", m.inplace, False)
    elif t is nn.Dropout:
        opt("p", m.p, 0.5)
    elif t is nn.Softmax:
        args.append(f"dim={m.dim}")
    elif t is nn.Flatten:
        opt("start_dim", m.start_dim, 1)
        opt("end_dim", m.end_dim, -1)
    elif t is nn.LocalResponseNorm:
        args += [str(m.size), f"alpha={m.alpha!r}", f"beta={m.beta!r}", f"k={m.k!r}"]
    elif t is SamePad2d:
        args.append(_short(m.for_kernel))
        opt("stride", m.for_stride, 1)
        opt("dilation", m.for_dilation, 1)
        opt("value", m.value, 0.0)
        return f"SamePad2d({', '.join(args)})"
    elif getattr(nn, t.__name__, None) is t:  # any other torch.nn layer: its repr's arguments are keywords
        return f"nn.{t.__name__}({m.extra_repr()})"
    else:
        raise ExportError(f"The layer {t.__name__} is not part of torch.nn, so it cannot be written as one line.")
    return f"nn.{t.__name__}({', '.join(args)})"


def _is_leaf(m: nn.Module) -> bool:
    return not m._modules


def _plain_sequential(model: nn.Module) -> bool:
    for m in model.modules():
        if _is_leaf(m):
            try:
                leaf_code(m)
            except ExportError:
                return False
        elif type(m) is not nn.Sequential:
            return False
    return True


def _sequential_code(model: nn.Sequential, comments: dict) -> str:
    lines = ["def build_model() -> nn.Sequential:", "    return " + _seq(model, "", comments, 4).lstrip(), ""]
    return "\n".join(lines)


def _seq(seq: nn.Sequential, prefix: str, comments: dict, indent: int) -> str:
    pad = " " * indent
    lines = [f"{pad}nn.Sequential(OrderedDict(["]
    for name, child in seq.named_children():
        path = f"{prefix}{name}"
        if _is_leaf(child):
            comment = comments.get(path)
            lines.append(f"{pad}    ({name!r}, {leaf_code(child)}),{'  # ' + comment if comment else ''}")
        else:
            inner = _seq(child, path + ".", comments, indent + 4)
            lines.append(f"{pad}    ({name!r}, {inner.lstrip()}),")
    lines.append(f"{pad}]))")
    return "\n".join(lines)


# -- general dataflow: torch.fx ---------------------------------------------------------------------


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m, qualname):
        return isinstance(m, SamePad2d) or super().is_leaf_module(m, qualname)


_BINARY = {
    operator.add: "+",
    operator.sub: "-",
    operator.mul: "*",
    operator.truediv: "/",
    operator.matmul: "@",
    operator.floordiv: "//",
}


def _module_code(model: nn.Module, comments: dict, class_name: str) -> str:
    # optional forward arguments (FractalNet's drop-path sample) keep their defaults: the inference forward
    params = list(inspect.signature(model.forward).parameters.values())[1:]
    concrete = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    try:
        with fx_traced_here():
            graph = _Tracer().trace(model, concrete_args=concrete or None)
        guards = [n for n in graph.nodes if n.op == "call_function" and n.target is fx._symbolic_trace._assert_is_none]
        for node in guards:  # fx's check that a concrete argument is still None: not part of the network
            graph.erase_node(node)
    except Exception as e:  # torch.fx raises many types (TraceError, TypeError...) for dynamic control flow
        raise ExportError(
            f"torch.fx cannot trace this network's forward ({type(e).__name__}: "
            f"{str(e).splitlines()[0][:200] if str(e) else ''}), so it cannot be written out "
            f"as code; the layer table lists every layer instead."
        ) from None
    attrs: dict[str, str] = {}
    taken: set[str] = set()

    def attr(path: str) -> str:
        if path not in attrs:
            base = re.sub(r"\W", "_", path) or "layer"
            base = base if base[0].isalpha() or base[0] == "_" else "m_" + base
            name, n = base, 1
            while name in taken or keyword.iskeyword(name) or hasattr(nn.Module, name):
                n += 1
                name = f"{base}_{n}"
            taken.add(name)
            attrs[path] = name
        return attrs[path]

    init = [f"class {class_name}(nn.Module):", "    def __init__(self):", "        super().__init__()"]
    forward = []
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    args = [n.name for i, n in enumerate(placeholders) if i == 0 or n.users]  # concrete arguments drop out
    for node in graph.nodes:
        if node.op == "call_module":
            module = model.get_submodule(node.target)
            first = node.target not in attrs
            name = attr(node.target)
            if first:
                comment = comments.get(node.target)
                init.append(f"        self.{name} = {leaf_code(module)}{'  # ' + comment if comment else ''}")
            forward.append(f"        {node.name} = self.{name}({_args(node.args, node.kwargs)})")
        elif node.op == "get_attr":
            value = _fetch(model, node.target)
            first = node.target not in attrs
            name = attr(node.target)
            if first:
                kind = "nn.Parameter" if isinstance(value, nn.Parameter) else None
                shape = tuple(value.shape)
                init.append(
                    f"        self.{name} = nn.Parameter(torch.zeros{shape})"
                    if kind
                    else f"        self.register_buffer({name!r}, torch.zeros{shape})"
                )
            forward.append(f"        {node.name} = self.{name}")
        elif node.op == "call_function":
            forward.append(f"        {node.name} = {_call(node)}")
        elif node.op == "call_method":
            obj, *rest = node.args
            forward.append(f"        {node.name} = {_arg(obj)}.{node.target}({_args(rest, node.kwargs)})")
        elif node.op == "output":
            forward.append(f"        return {_arg(node.args[0])}")
    lines = (
        init
        + ["", f"    def forward(self, {', '.join(args)}):"]
        + forward
        + ["", "", "def build_model() -> nn.Module:", f"    return {class_name}()", ""]
    )
    return "\n".join(lines)


def _fetch(model, target):
    obj = model
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _call(node) -> str:
    fn = node.target
    if fn in _BINARY and len(node.args) == 2 and not node.kwargs:
        return f"{_arg(node.args[0])} {_BINARY[fn]} {_arg(node.args[1])}"
    if fn is operator.getitem and len(node.args) == 2:
        return f"{_arg(node.args[0])}[{_index(node.args[1])}]"
    if fn is getattr:
        return f"getattr({_args(node.args, {})})"

    name = _get_qualified_name(fn)
    if name.startswith("_operator."):  # e.g. operator.neg: the header imports operator
        name = "operator." + name.split(".", 1)[1]
    return f"{name}({_args(node.args, node.kwargs)})"


def _index(idx) -> str:
    if isinstance(idx, tuple):
        return ", ".join(_index(i) for i in idx) if idx else "()"
    if isinstance(idx, slice):
        parts = ["" if v is None else _arg(v) for v in (idx.start, idx.stop, idx.step)]
        return f"{parts[0]}:{parts[1]}" + (f":{parts[2]}" if parts[2] else "")
    if idx is Ellipsis:
        return "..."
    return _arg(idx)


def _arg(a) -> str:
    if isinstance(a, fx.Node):
        return a.name
    if isinstance(a, (list, tuple)):
        inner = ", ".join(_arg(v) for v in a)
        return f"[{inner}]" if isinstance(a, list) else f"({inner}{',' if len(a) == 1 else ''})"
    if isinstance(a, dict):
        return "{" + ", ".join(f"{k!r}: {_arg(v)}" for k, v in a.items()) + "}"
    if isinstance(a, slice):
        return f"slice({_arg(a.start)}, {_arg(a.stop)}, {_arg(a.step)})"
    if isinstance(a, (torch.dtype, torch.device)):
        return f"torch.{str(a).split('.')[-1]}" if isinstance(a, torch.dtype) else f"torch.device({str(a)!r})"
    if a is Ellipsis:
        return "..."
    return _value(a)


def _args(args, kwargs) -> str:
    parts = [_arg(a) for a in args] + [f"{k}={_arg(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)
