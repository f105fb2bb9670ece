"""GoogLeNet: the paper's Table 1, the auxiliary classifiers, the per-module comparison and the 1x1 calculator."""

import pytest
import torch

from explorer import KnobError, ShapeError, analyze, build
from explorer.analysis.compare import longest_weight_path
from explorer.families.googlenet import INCEPTION, aux_params, count_module, module_costs, reduction_saving
from helpers import assert_fast_trace_agrees
from ui.graphs import inception_module as module_dot

# GoogLeNet paper, Table 1, "output size" column at 224x224 (C x H x W).
TABLE_1_OUTPUTS = {
    "conv1": (64, 112, 112),
    "pool1": (64, 56, 56),
    "conv2": (192, 56, 56),
    "pool2": (192, 28, 28),
    "inception3a": (256, 28, 28),
    "inception3b": (480, 28, 28),
    "pool3": (480, 14, 14),
    "inception4a": (512, 14, 14),
    "inception4b": (512, 14, 14),
    "inception4c": (512, 14, 14),
    "inception4d": (528, 14, 14),
    "inception4e": (832, 14, 14),
    "pool4": (832, 7, 7),
    "inception5a": (832, 7, 7),
    "inception5b": (1024, 7, 7),
    "avgpool": (1024, 1, 1),
    "fc": (1000,),
}


def _last_row_of(analysis, module):
    return [r for r in analysis.rows if r.name == module or r.name.startswith(module + ".")][-1]


def test_output_sizes_follow_table_1_at_224():
    a = analyze("googlenet")
    assert a.input_shape == (3, 224, 224)
    for module, shape in TABLE_1_OUTPUTS.items():
        assert _last_row_of(a, module).output_shape == shape, module


def test_the_5x5_branch_is_a_real_5x5_and_modules_concatenate_four_branches():
    a = analyze("googlenet")
    conv = next(r for r in a.rows if r.name == "inception3a.branch3.conv5x5")
    assert conv.kernel == (5, 5) and conv.padding == (2, 2) and conv.params == 16 * 32 * 25 + 32
    cats = [r for r in a.rows if r.type == "(C) concat"]
    assert [r.name for r in cats] == [f"{m}.cat" for m in INCEPTION]
    assert all(len(r.inputs) == 4 for r in cats)
    torchvision_like = analyze("googlenet_torchvision")
    assert next(r for r in torchvision_like.rows if r.name == "inception3a.branch3.conv3x3").kernel == (3, 3)


def test_depth_is_22_layers_with_parameters():
    """Section 5: "22 layers deep when counting only layers with parameters"."""
    assert longest_weight_path(analyze("googlenet")) == 22


def test_lrn_only_without_batch_norm():
    plain = {r.name for r in analyze("googlenet").rows}
    bn = {r.name for r in analyze("googlenet", batch_norm=True).rows}
    assert {"norm1", "norm2"} <= plain and not {"norm1", "norm2"} & bn
    assert any(name.endswith(".bn1") for name in bn)


def test_auxiliary_classifiers_are_counted_but_not_called():
    without = analyze("googlenet")
    with_aux = analyze("googlenet", aux_logits=True)
    unused = [r for r in with_aux.rows if r.kind == "unused"]
    assert {r.name.split(".")[0] for r in unused} == {"aux1", "aux2"}
    # conv 1x1 to 128 on 512 (4a) and 528 (4d) channels, FC 2048 -> 1024, FC 1024 -> 1000 (Section 5)
    expected = (512 * 128 + 128) + (528 * 128 + 128) + 2 * (2048 * 1024 + 1024) + 2 * (1024 * 1000 + 1000)
    assert aux_params(with_aux) == expected == with_aux.totals.params - without.totals.params
    assert sum(r.params for r in with_aux.rows) == with_aux.totals.params
    assert with_aux.totals.mult_adds == without.totals.mult_adds  # inference never calls them
    assert with_aux.totals.weight_layers == without.totals.weight_layers


def test_training_forward_returns_the_auxiliary_outputs():
    model = build("googlenet", (3, 96, 96), aux_logits=True, num_classes=7)
    model.train()
    out = model(torch.randn(2, 3, 96, 96))
    assert isinstance(out, tuple) and [tuple(o.shape) for o in out] == [(2, 7)] * 3
    model.eval()
    with torch.no_grad():
        assert tuple(model(torch.randn(1, 3, 96, 96)).shape) == (1, 7)


def test_the_fast_trace_agrees_with_a_plain_meta_forward():
    for kw in ({}, {"batch_norm": True, "aux_logits": True}):
        assert_fast_trace_agrees("googlenet", **kw)


def test_small_inputs_run_down_to_31_and_below_that_name_the_smallest():
    assert analyze("googlenet", (3, 32, 32)).output_shape == (1000,)
    with pytest.raises(ShapeError) as err:
        analyze("googlenet", (3, 30, 30))
    assert err.value.min_input == 31 and "3x31x31" in str(err.value)


def test_module_costs_beside_table_1():
    costs = {c.name: c for c in module_costs(analyze("googlenet"))}
    # the table counts weights only, in K of 1,024: these rows agree to its rounding
    assert {n for n, c in costs.items() if c.agrees} == {"conv2", "inception3a", "inception3b", "inception4b", "fc"}
    assert costs["inception3a"].weights == 163_328 and costs["inception3a"].biases == sum(INCEPTION["inception3a"])
    assert costs["inception3a"].params == costs["inception3a"].weights + costs["inception3a"].biases
    assert "K = 1,024" in costs["inception3a"].note and "368 biases" in costs["inception3a"].note
    # the printed ops agree with ours everywhere except conv1 and inception (5a)
    ops_off = {n for n, c in costs.items() if abs(c.mult_adds / 1e6 - c.printed_ops_m) > 1}
    assert ops_off == {"conv1", "inception5a"}
    assert "7·7·3·64 = 9,408" in costs["conv1"].note and "2.7K × 12,544 = 34.7M" in costs["conv1"].note
    assert "6.9% below" in costs["inception4c"].note
    bn = {c.name: c for c in module_costs(analyze("googlenet", batch_norm=True))}
    assert bn["inception3a"].biases == 0 and bn["inception3a"].norm_params == 2 * sum(INCEPTION["inception3a"])
    assert bn["inception3a"].agrees and "batch-norm" in bn["inception3a"].note


def test_a_3x3_branch_is_compared_with_the_paper_as_a_5x5():
    costs = {c.name: c for c in module_costs(analyze("googlenet", branch3_kernel=3))}
    assert costs["inception3a"].agrees
    assert "8,192 fewer weights" in costs["inception3a"].note  # 16 * 32 * (25 - 9)


def test_calculator_counts_the_module_with_pytorch():
    saving = reduction_saving(192, INCEPTION["inception3a"], 28)
    a = analyze("googlenet")
    in_net = [r for r in a.rows if r.name.startswith("inception3a.")]
    assert saving.reduced.params == sum(r.params for r in in_net)
    assert saving.reduced.mult_adds == sum(r.mult_adds for r in in_net)
    # naive module: 1x1, 3x3 and 5x5 convolutions on all 192 channels, the pool passes them through
    assert saving.naive.params == (192 * 64 + 64) + (192 * 128 * 9 + 128) + (192 * 32 * 25 + 32)
    assert saving.naive.out_channels == 64 + 128 + 32 + 192 and saving.reduced.out_channels == 256
    assert 0.5 < saving.params_saved < 0.6
    wider = reduction_saving(192, (64, 96, 128, 32, 32, 32), 28)
    assert wider.reduced.params > saving.reduced.params and wider.naive.params == saving.naive.params
    assert count_module(192, INCEPTION["inception3a"], 28, kernel5=3).params < saving.reduced.params


def test_calculator_refuses_impossible_widths_in_one_sentence():
    with pytest.raises(KnobError, match="'#5x5 reduce' must be between 1 and 4096; got 0"):
        reduction_saving(192, (64, 96, 128, 0, 32, 32), 28)
    with pytest.raises(KnobError, match="six widths"):
        reduction_saving(192, (64, 96), 28)


def test_module_drawing_shows_the_branch_widths_and_the_concatenation():
    dot = module_dot(192, INCEPTION["inception3a"], 28, "inception (3a)")
    for text in ("1x1 conv\\n64", "3x3 conv\\n128", "5x5 conv\\n32", "pool proj)\\n32", "filter concatenation\\n256"):
        assert text in dot
    assert 'label="C"' in dot or "label=C" in dot
    naive = module_dot(192, INCEPTION["inception3a"], 28, reductions=False)
    assert "reduce" not in naive and "filter concatenation\\n416" in naive
