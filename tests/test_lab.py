"""The layer arithmetic lab: every formula step agrees with what PyTorch measures on the real layer."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from explorer.analysis import formulas
from explorer.errors import ExplorerError, KnobError, ShapeError
from explorer.labs import arithmetic as lab
from explorer.labs.arithmetic import LayerSetup
from explorer.layers import SamePad2d
from ui import charts


@given(
    kind=st.sampled_from(list(lab.KINDS)),
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    channels=st.integers(1, 6),
    kernels=st.integers(1, 8),
    field=st.integers(1, 7),
    stride=st.integers(1, 4),
    mode=st.sampled_from(lab.PADDINGS),
    padding=st.integers(0, 4),
)
def test_every_step_agrees_with_pytorch_or_the_setup_is_refused_in_one_sentence(
    kind, height, width, channels, kernels, field, stride, mode, padding
):
    setup = LayerSetup(kind, height, width, channels, kernels, field, stride, mode, padding)
    try:
        result = lab.compute(setup)
    except (ShapeError, KnobError) as e:
        assert str(e).endswith(".") and "\n" not in str(e)
        return
    checked = [s for s in result.steps if s["measured"] is not None]
    assert {s["quantity"] for s in checked} >= {"parameters"}
    for step in checked:
        assert step["value"] == step["measured"], (step, setup)
    if setup.windowed:
        assert result.output_shape[1:] == setup.out_hw
        assert len(lab.positions(setup)) == setup.out_hw[0] * setup.out_hw[1]
    if mode == "same" and kind != "dense":
        assert result.output_shape[1:] == (-(-height // stride), -(-width // stride))  # ⌈A / S⌉


def test_the_lecture_layer_and_the_slide_formula():
    result = lab.compute(LayerSetup())  # 32x32x3, conv 6@5x5, no padding
    assert result.output_shape == (6, 28, 28) and result.params == 456 and result.mult_adds == 352_800
    numbers = [s["numbers"] for s in result.steps]
    assert "⌊(32 − 5 + 2·0) / 1⌋ + 1 = 28" in numbers and "6 · (5·5 · 3 + 1) = 456" in numbers
    assert result.code == "nn.Conv2d(3, 6, 5)" and result.device == "cpu"


def test_a_stride_that_does_not_divide_shows_the_floor_and_the_paddings_that_fit():
    result = lab.compute(LayerSetup(height=32, width=32, field=3, stride=3))
    note = result.steps[0]["note"]
    assert "9.66667 is not a whole number: PyTorch floors it" in note and "Paddings that make it exact: 2." in note
    assert result.output_shape[1] == 10
    picture = charts.sliding_window(LayerSetup(height=8, width=8, field=3, stride=2), 0)
    cells = picture.data[0].z
    assert sum(row.count(2) for row in cells) == 8 + 7  # the last row and column: no window reaches them


def test_same_padding_with_a_stride_quotes_pytorchs_refusal_and_follows_keras():
    result = lab.compute(LayerSetup(height=7, width=8, field=3, stride=2, padding_mode="same"))
    assert result.output_shape == (6, 4, 4)
    assert "padding='same' is not supported for strided convolutions" in result.notes[0]
    assert "SamePad2d" in result.code
    assert formulas.same_padding(7, 3, 2) == (1, 1) and formulas.same_padding(8, 3, 2) == (0, 1)


@given(side=st.integers(1, 50), field=st.integers(1, 9), stride=st.integers(1, 5), dilation=st.integers(1, 3))
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_same_padding_is_tensorflows_rule_and_pytorchs_at_stride_1(side, field, stride, dilation):
    x = torch.zeros(1, 1, side, side + 1)
    out = nn.Conv2d(1, 1, field, stride, dilation=dilation)(SamePad2d(field, stride, dilation)(x))
    assert tuple(out.shape[2:]) == (-(-side // stride), -(-(side + 1) // stride))
    if stride == 1:
        before, after = formulas.same_padding(side, field, 1, dilation)
        ours = nn.functional.pad(x, (0, 0, before, after))
        pytorch_same = nn.Conv2d(1, 1, field, padding="same", dilation=dilation, bias=False)
        plain = nn.Conv2d(1, 1, field, dilation=dilation, bias=False)
        plain.weight = pytorch_same.weight
        x = torch.randn(1, 1, side, side)
        assert torch.allclose(pytorch_same(x), plain(nn.functional.pad(x, (before, after, before, after))), atol=1e-6)
        assert ours.shape[2] == side + before + after


def test_depthwise_and_dense():
    dw = lab.compute(LayerSetup(kind="dwconv", channels=4, kernels=2, field=3, padding=1))
    assert dw.params == formulas.depthwise_params(4, 3, 2) == 4 * 2 * (9 + 1)
    assert any("depthwise" in s["note"] for s in dw.steps)
    dense = lab.compute(LayerSetup(kind="dense", height=5, width=5, channels=16, kernels=120))
    assert dense.output_shape == (120,) and dense.params == 48_120
    assert [(s["quantity"], s["measured"]) for s in dense.steps][:2] == [
        ("flattened input", 400),
        ("output units", 120),
    ]


def test_large_layers_are_measured_on_the_meta_device():
    result = lab.compute(LayerSetup(height=1024, width=1024, channels=2048, kernels=4096, field=3))
    assert result.device == "meta" and result.output_shape == (4096, 1022, 1022)
    assert result.params == 4096 * (9 * 2048 + 1)


def test_refusals_are_one_sentence():
    with pytest.raises(ShapeError, match="make the height at least 5 or pad by at least 1"):
        lab.compute(LayerSetup(height=3, width=32))
    with pytest.raises(KnobError, match="at most half its size"):
        lab.compute(LayerSetup(kind="maxpool", field=2, padding=2))
    with pytest.raises(KnobError, match="no PyTorch equivalent"):
        lab.compute(LayerSetup(kind="avgpool", padding_mode="same"))
    with pytest.raises(KnobError, match="between 1 and 1024"):
        LayerSetup.checked(height=100_000)
    assert LayerSetup.checked(height="28", kind="maxpool").height == 28


def test_the_window_picture():
    setup = LayerSetup(height=5, width=6, field=3, stride=2, padding=1)
    fig = charts.sliding_window(setup, 4)
    z = fig.data[0].z
    assert len(z) == 7 and len(z[0]) == 8  # padded 5+2 by 6+2
    assert sum(row.count(0) for row in z) == 7 * 8 - 5 * 6  # the padding ring (window 5 lies inside)
    centres = fig.data[1]
    assert len(centres.x) == 3 * 3 == len(lab.positions(setup))
    assert lab.positions(setup)[4] == (2, 2)
    assert sum(sum(row) for row in fig.data[2].z) == 1  # one output cell lit: the fifth
    assert "Window 5 of 9" in lab.picture_caption(setup, 4) and "→ output (1, 1)" in lab.picture_caption(setup, 4)
    assert not lab.picture_fits(LayerSetup(height=64, width=64))
    with pytest.raises(ExplorerError):
        lab.compute(LayerSetup(kind="maxpool", field=9, height=4, width=4))


def test_a_layer_too_costly_to_run_is_measured_on_the_meta_device_at_once():
    """15x1024x1024 with 4096 3x3 kernels is 6e11 multiply-adds: minutes on a CPU, so PyTorch gives shapes only."""

    setup = lab.LayerSetup(
        kind="conv", height=1024, width=1024, channels=15, kernels=4096, field=3, stride=1, padding=1
    )
    result = lab.compute(setup)
    assert result.device == "meta"
    madds = [step["measured"] for step in result.steps if step["quantity"] == "multiply-adds"]
    assert madds == [4096 * 1024 * 1024 * 9 * 15]
