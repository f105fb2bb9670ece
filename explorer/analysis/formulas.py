"""The lecture's pen-and-paper formulas, with the numbers plugged in, for conv, pool, dense and norm layers.

Output side: floor((A - F + 2P) / S) + 1   (with dilation D: floor((A + 2P - D(F - 1) - 1) / S) + 1)
Conv parameters: K * (F * F * C / groups + 1)   (no +1 without bias)
Dense parameters: (n_in + 1) * n_out
"same" padding (Keras/TensorFlow, and PyTorch's padding="same" at stride 1): output ⌈A / S⌉, total padding
max((⌈A / S⌉ − 1) S + F − A, 0), the odd pixel after (bottom/right)
The analysis puts each derivation beside what PyTorch measured; tests check that they agree.
"""

from __future__ import annotations

import math

from torch import nn

from ..layers import SamePad2d


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def conv_output_side(A: int, F: int, S: int = 1, P: int = 0, D: int = 1) -> int:
    return (A + 2 * P - D * (F - 1) - 1) // S + 1


def pool_output_side(A: int, F: int, S: int, P: int = 0, D: int = 1, ceil_mode: bool = False) -> int:
    span = A + 2 * P - D * (F - 1) - 1
    out = (-(-span // S) if ceil_mode else span // S) + 1
    if ceil_mode and (out - 1) * S >= A + P:  # PyTorch: the last window must start inside the input
        out -= 1
    return out


def conv_params(K: int, F, C: int, groups: int = 1, bias: bool = True) -> int:
    fh, fw = _pair(F)
    return K * (fh * fw * (C // groups) + (1 if bias else 0))


def dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    return (n_in + (1 if bias else 0)) * n_out


def depthwise_params(C: int, F, multiplier: int = 1, bias: bool = True) -> int:
    """A depthwise convolution: multiplier kernels per input channel, each seeing that channel only."""
    return conv_params(C * multiplier, F, C, groups=C, bias=bias)


def same_padding(A: int, F: int, S: int = 1, D: int = 1) -> tuple[int, int]:
    """(before, after): the padding that makes the output side ⌈A / S⌉ (TensorFlow's rule; PyTorch's at S = 1)."""
    out = -(-A // S)
    total = max((out - 1) * S + D * (F - 1) + 1 - A, 0)
    return total // 2, total - total // 2


def conv_mult_adds(K: int, out_h: int, out_w: int, F, C: int, groups: int = 1) -> int:
    fh, fw = _pair(F)
    return K * out_h * out_w * fh * fw * (C // groups)


def exact_paddings(A: int, F: int, S: int, D: int = 1, limit: int | None = None) -> list[int]:
    """Paddings P for which (A - F + 2P) / S is a whole number (and the output is at least 1)."""
    limit = F if limit is None else limit
    eff = D * (F - 1) + 1
    return [P for P in range(0, limit + 1) if A + 2 * P - eff >= 0 and (A + 2 * P - eff) % S == 0]


def _step(quantity, formula, numbers, value, latex="", note=""):
    return {
        "quantity": quantity,
        "formula": formula,
        "numbers": numbers,
        "value": int(value),
        "latex": latex,
        "note": note,
    }


def side_steps(kind: str, A_hw, F_hw, S_hw, P_hw, D_hw=(1, 1), ceil_mode=False) -> list[dict]:
    """Output height and width (one step when both are the same computation)."""
    steps = []
    dims = (
        [("output side", 0)]
        if (A_hw[0], F_hw[0], S_hw[0], P_hw[0], D_hw[0]) == (A_hw[1], F_hw[1], S_hw[1], P_hw[1], D_hw[1])
        else [("output height", 0), ("output width", 1)]
    )
    for quantity, i in dims:
        A, F, S, P, D = A_hw[i], F_hw[i], S_hw[i], P_hw[i], D_hw[i]
        floor = "⌈" if ceil_mode else "⌊"
        close = "⌉" if ceil_mode else "⌋"
        if D == 1:
            formula = f"{floor}(A − F + 2P) / S{close} + 1"
            numbers = f"{floor}({A} − {F} + 2·{P}) / {S}{close} + 1"
            latex = (
                r"\left\lfloor \frac{A - F + 2P}{S} \right\rfloor + 1 = "
                rf"\left\lfloor \frac{{{A} - {F} + 2 \cdot {P}}}{{{S}}} \right\rfloor + 1"
            )
        else:
            formula = f"{floor}(A + 2P − D(F − 1) − 1) / S{close} + 1"
            numbers = f"{floor}({A} + 2·{P} − {D}·({F} − 1) − 1) / {S}{close} + 1"
            latex = (
                r"\left\lfloor \frac{A + 2P - D(F-1) - 1}{S} \right\rfloor + 1 = "
                rf"\left\lfloor \frac{{{A} + 2 \cdot {P} - {D}({F}-1) - 1}}{{{S}}} \right\rfloor + 1"
            )
        value = pool_output_side(A, F, S, P, D, ceil_mode) if kind == "pool" else conv_output_side(A, F, S, P, D)
        if ceil_mode:
            latex = latex.replace(r"\lfloor", r"\lceil").replace(r"\rfloor", r"\rceil")
        note = ""
        span = A + 2 * P - D * (F - 1) - 1  # = A - F + 2P when D = 1
        if span >= 0 and span % S:
            exact = exact_paddings(A, F, S, D)
            fix = (
                f" Paddings that make it exact: {', '.join(str(p) for p in exact)}."
                if exact
                else " No padding up to F makes it exact; change the stride or the input size."
            )
            shown = f"({A} − {F} + 2·{P})" if D == 1 else f"({A} + 2·{P} − {D}·({F} − 1) − 1)"
            effect = (
                "rounds it up (ceil_mode), so the last window hangs over the edge of the input"
                if ceil_mode
                else f"floors it, so the last {span % S} row(s) or column(s) of the padded input are never covered"
            )
            note = f"{shown} / {S} = {span / S:g} is not a whole number: PyTorch {effect}.{fix}"
        steps.append(_step(quantity, formula, f"{numbers} = {value}", value, latex + f" = {value}", note))
    return steps


def same_steps(A_hw, F_hw, S_hw, D_hw=(1, 1)) -> list[dict]:
    """Output side and padding of padding="same": the output is fixed first, the padding follows from it."""
    steps = []
    dims = (
        [("output side", 0)]
        if (A_hw[0], F_hw[0], S_hw[0], D_hw[0]) == (A_hw[1], F_hw[1], S_hw[1], D_hw[1])
        else [("output height", 0), ("output width", 1)]
    )
    for quantity, i in dims:
        A, F, S, D = A_hw[i], F_hw[i], S_hw[i], D_hw[i]
        out = -(-A // S)
        before, after = same_padding(A, F, S, D)
        eff = f"{F}" if D == 1 else f"{D}·({F} − 1) + 1"
        where = (
            "top and bottom"
            if quantity == "output height"
            else "left and right"
            if quantity == "output width"
            else "top/left and bottom/right"
        )
        note = (
            f"'same' pads {before + after} in all: {before} before and {after} after ({where}), "
            f"from max((⌈A / S⌉ − 1)·S + F − A, 0) = max(({out} − 1)·{S} + {eff} − {A}, 0)."
        )
        if before != after:
            note += " The odd pixel goes after, as TensorFlow does; no single P gives this in the formula."
        steps.append(
            _step(
                quantity,
                "⌈A / S⌉ (padding 'same')",
                f"⌈{A} / {S}⌉ = {out}",
                out,
                rf"\left\lceil \frac{{A}}{{S}} \right\rceil = \left\lceil \frac{{{A}}}{{{S}}} \right\rceil = {out}",
                note,
            )
        )
    return steps


# the classes layer_spec reads (every other layer has no spec): keep the two in step
SPEC_LAYERS = (
    nn.Conv2d,
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
    SamePad2d,
    nn.Linear,
    nn.Flatten,
    nn.modules.batchnorm._BatchNorm,
)


def layer_spec(module) -> dict | None:
    """The attributes of a layer that its formulas need (plain data, so rows stay picklable)."""
    if isinstance(module, nn.Conv2d):
        F, D = _pair(module.kernel_size), _pair(module.dilation)
        P = module.padding
        if isinstance(P, str):  # 'valid' is no padding; 'same' depends on the input, see same_steps
            P = (0, 0) if P == "valid" else "same"
        return {
            "layer": "conv",
            "K": module.out_channels,
            "F": F,
            "S": _pair(module.stride),
            "P": P if isinstance(P, str) else _pair(P),
            "D": D,
            "groups": module.groups,
            "bias": module.bias is not None,
        }
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        return {
            "layer": "pool",
            "F": _pair(module.kernel_size),
            "S": _pair(module.stride or module.kernel_size),
            "P": _pair(module.padding),
            "D": _pair(getattr(module, "dilation", 1)),
            "ceil_mode": bool(module.ceil_mode),
        }
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return {"layer": "adaptive_pool"}
    if isinstance(module, SamePad2d):
        return {"layer": "same_pad", "F": module.for_kernel, "S": module.for_stride, "D": module.for_dilation}
    if isinstance(module, nn.Linear):
        return {
            "layer": "linear",
            "n_in": module.in_features,
            "n_out": module.out_features,
            "bias": module.bias is not None,
        }
    if isinstance(module, nn.Flatten):
        return {"layer": "flatten"}
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return {"layer": "batchnorm", "C": module.num_features, "affine": module.affine}
    return None


def derive(spec: dict | None, input_shape: tuple, output_shape: tuple) -> list[dict]:
    """The pen-and-paper derivation of one layer call (see layer_spec), or [] for layers without a formula."""
    layer = spec["layer"] if spec else None
    if layer == "conv":
        C, A_h, A_w = input_shape[0], input_shape[1], input_shape[2]
        K, F, S, P, D, g, bias = (spec[k] for k in ("K", "F", "S", "P", "D", "groups", "bias"))
        steps = same_steps((A_h, A_w), F, S, D) if P == "same" else side_steps("conv", (A_h, A_w), F, S, P, D)
        fs = f"{F[0]}·{F[1]}"
        if g == 1:
            formula = "K · (F · F · C + 1)" if bias else "K · F · F · C"
            numbers = f"{K} · ({fs} · {C} + 1)" if bias else f"{K} · {fs} · {C}"
        else:
            formula = "K · (F · F · C / groups + 1)" if bias else "K · F · F · C / groups"
            numbers = f"{K} · ({fs} · {C} / {g} + 1)" if bias else f"{K} · {fs} · {C} / {g}"
        note = "depthwise: each kernel sees one input channel" if g == C and g > 1 else ""
        params = conv_params(K, F, C, g, bias)
        steps.append(_step("output channels", "K (number of kernels)", f"K = {K}", K))
        steps.append(_step("parameters", formula, f"{numbers} = {params:,}", params, note=note))
        ho, wo = output_shape[1], output_shape[2]
        ma = conv_mult_adds(K, ho, wo, F, C, g)
        steps.append(
            _step(
                "multiply-adds",
                "K · H_out · W_out · F · F · C" + (" / groups" if g > 1 else ""),
                f"{K} · {ho} · {wo} · {fs} · {C}{f' / {g}' if g > 1 else ''} = {ma:,}",
                ma,
            )
        )
        return steps
    if layer == "pool":
        steps = side_steps("pool", input_shape[1:3], spec["F"], spec["S"], spec["P"], spec["D"], spec["ceil_mode"])
        steps.append(
            _step(
                "output channels", "unchanged (pooling works channel by channel)", f"{input_shape[0]}", input_shape[0]
            )
        )
        steps.append(_step("parameters", "none", "0", 0))
        return steps
    if layer == "same_pad":
        C, A_h, A_w = input_shape
        steps = []
        for quantity, i, A in (("padded height", 0, A_h), ("padded width", 1, A_w)):
            before, after = same_padding(A, spec["F"][i], spec["S"][i], spec["D"][i])
            out = -(-A // spec["S"][i])
            eff = spec["D"][i] * (spec["F"][i] - 1) + 1
            steps.append(
                _step(
                    quantity,
                    "A + max((⌈A / S⌉ − 1)·S + F − A, 0)",
                    f"{A} + max(({out} − 1)·{spec['S'][i]} + {eff} − {A}, 0) = {A} + {before} + {after} "
                    f"= {A + before + after}",
                    A + before + after,
                    note=f"{before} before, {after} after" if before != after else "",
                )
            )
        steps.append(_step("parameters", "none", "0", 0))
        return steps
    if layer == "adaptive_pool":
        h, w = output_shape[1], output_shape[2]
        return [
            _step(
                "output side",
                "fixed by the layer, whatever the input",
                f"{input_shape[1]}x{input_shape[2]} → {h}x{w}",
                h,
            ),
            _step("parameters", "none", "0", 0),
        ]
    if layer == "linear":
        n_in, n_out, bias = spec["n_in"], spec["n_out"], spec["bias"]
        params = dense_params(n_in, n_out, bias)
        return [
            _step("output units", "n_out", f"{n_out}", n_out),
            _step(
                "parameters",
                "(n_in + 1) · n_out" if bias else "n_in · n_out",
                f"({n_in:,} + 1) · {n_out:,} = {params:,}" if bias else f"{n_in:,} · {n_out:,} = {params:,}",
                params,
            ),
            _step("multiply-adds", "n_in · n_out", f"{n_in:,} · {n_out:,} = {n_in * n_out:,}", n_in * n_out),
        ]
    if layer == "flatten":
        n = math.prod(input_shape)
        return [_step("output units", "C · H · W", " · ".join(str(s) for s in input_shape) + f" = {n:,}", n)]
    if layer == "batchnorm":
        C = spec["C"]
        params = 2 * C if spec["affine"] else 0
        return [
            _step(
                "parameters",
                "2 · C (a scale γ and a shift β per channel; the running mean and "
                "variance are buffers, not parameters)",
                f"2 · {C} = {params}",
                params,
            )
        ]
    return []
