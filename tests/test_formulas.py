"""The pen-and-paper formulas against what PyTorch measures (hypothesis over random layer settings)."""

import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from torch import nn

from explorer.analysis import formulas


def _measured(layer, c, h, w):
    with torch.no_grad():
        return tuple(layer(torch.zeros(1, c, h, w)).shape[1:])


def _steps(layer, c, h, w):
    out = _measured(layer, c, h, w)
    return {s["quantity"]: s["value"] for s in formulas.derive(formulas.layer_spec(layer), (c, h, w), out)}, out


@given(
    c=st.integers(1, 8),
    groups=st.sampled_from([1, 2, 4]),
    k_out=st.integers(1, 4),
    f=st.integers(1, 7),
    s=st.integers(1, 4),
    p=st.integers(0, 4),
    d=st.integers(1, 3),
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    bias=st.booleans(),
)
def test_conv_derivation_equals_pytorch(c, groups, k_out, f, s, p, d, h, w, bias):
    assume(c % groups == 0 and p <= f // 2 + 1)
    assume(h + 2 * p >= d * (f - 1) + 1 and w + 2 * p >= d * (f - 1) + 1)
    layer = nn.Conv2d(c, k_out * groups, f, s, p, dilation=d, groups=groups, bias=bias)
    steps, out = _steps(layer, c, h, w)
    if h == w:
        assert steps["output side"] == out[1] == out[2]
    else:
        assert (steps["output height"], steps["output width"]) == out[1:]
    assert steps["output channels"] == out[0]
    assert steps["parameters"] == sum(t.numel() for t in layer.parameters())
    assert steps["multiply-adds"] == out[0] * out[1] * out[2] * f * f * (c // groups)


@given(
    f=st.integers(1, 5),
    s=st.integers(1, 4),
    p=st.integers(0, 2),
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    ceil=st.booleans(),
    kind=st.sampled_from(["max", "avg"]),
    d=st.integers(1, 2),
)
def test_pool_derivation_equals_pytorch(f, s, p, h, w, ceil, kind, d):
    assume(p <= f // 2)
    if kind == "avg":
        d = 1
    eff = d * (f - 1) + 1
    assume(h + 2 * p >= eff and w + 2 * p >= eff)
    layer = (
        nn.MaxPool2d(f, s, p, dilation=d, ceil_mode=ceil) if kind == "max" else nn.AvgPool2d(f, s, p, ceil_mode=ceil)
    )
    steps, out = _steps(layer, 3, h, w)
    side = (steps["output side"],) * 2 if "output side" in steps else (steps["output height"], steps["output width"])
    assert side == out[1:]
    assert steps["parameters"] == 0


@given(n_in=st.integers(1, 300), n_out=st.integers(1, 300), bias=st.booleans())
def test_dense_parameters_equal_pytorch(n_in, n_out, bias):
    layer = nn.Linear(n_in, n_out, bias=bias)
    steps = {s["quantity"]: s["value"] for s in formulas.derive(formulas.layer_spec(layer), (n_in,), (n_out,))}
    assert steps["parameters"] == sum(t.numel() for t in layer.parameters())
    assert steps["multiply-adds"] == n_in * n_out


def test_a_stride_that_does_not_divide_says_pytorch_floors_and_which_paddings_fit():
    layer = nn.Conv2d(3, 8, 3, stride=3, padding=0)
    steps = formulas.derive(formulas.layer_spec(layer), (3, 32, 32), _measured(layer, 3, 32, 32))
    note = steps[0]["note"]
    assert "(32 − 3 + 2·0) / 3 = 9.66667 is not a whole number" in note and "floors it" in note
    assert "Paddings that make it exact: 2." in note
    assert steps[0]["value"] == 10
    # an odd span can never be halved: the note says so instead of inventing a padding
    odd = formulas.derive(formulas.layer_spec(nn.Conv2d(3, 8, 3, stride=2)), (3, 32, 32), (8, 15, 15))
    assert "No padding up to F makes it exact" in odd[0]["note"]


def test_the_slide_formula_is_corrected():
    """The slide writes (K*F*F*C)*Bias; the count is K*(F*F*C + 1) with bias, K*F*F*C without."""
    assert formulas.conv_params(6, 5, 3) == 456
    assert formulas.conv_params(16, 5, 6) == 2416
    assert formulas.conv_params(16, 5, 6, bias=False) == 2400
