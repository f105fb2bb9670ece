"""DPN, MobileNet v1 and v2, NASNet-A: structure read off the built models, knob validation, the views' logic."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from explorer import KnobError, ShapeError, analyze, build, configure
from explorer.build import meta_model as build_meta
from explorer.families.dpn import TABLE_1, path_widths
from explorer.families.mobilenet_v1 import cost_by_layer_type, layer_cost, width_resolution_grid
from explorer.families.mobilenet_v2 import TABLE_2, make_divisible, stage_table
from explorer.families.nasnet import (
    GENOTYPES,
    H_I,
    H_PREV,
    NORMAL_CELL,
    REDUCTION_CELL,
    cell_plan,
    cells,
)
from explorer.graph import to_dot
from explorer.reference import MOBILENET_V1_TABLE_2, MOBILENET_V1_TABLE_6, MOBILENET_V1_TABLE_7
from helpers import assert_fast_trace_agrees
from ui.graphs import cell_dot
from ui.graphs import mobilenet_v2_block as block_dot
from ui.graphs import nasnet_cell as cell_graph


def one_sentence(error) -> str:
    text = str(error.value)
    assert text.endswith(".") and "\n" not in text and "Traceback" not in text, text
    return text


# -- DPN -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dpn68", "dpn92", "dpn98"])
def test_dpn_paths_follow_table_1(name):
    knobs = TABLE_1[name]
    a = analyze(name)
    blocks = path_widths(a)
    assert len(blocks) == sum(knobs["k_sec"])
    residual = 64 if knobs.get("small") else 256
    i = 0
    for stage, (n, inc) in enumerate(zip(knobs["k_sec"], knobs["inc_sec"])):
        mine = blocks[i : i + n]
        i += n
        # the residual path keeps its width within a stage and doubles between stages (Table 1: 256, 512, ...)
        assert {b["residual (added)"] for b in mine} == {residual * 2**stage}
        # the dense path starts at 3 * inc (projection 2 inc + the block's inc) and grows by inc per block
        assert [b["dense (concatenated)"] for b in mine] == [inc * (3 + j) for j in range(n)]
        assert all(b["new dense channels"] == inc for b in mine)
    assert blocks[0]["input channels"] == knobs["init_features"]
    for before, after in zip(blocks, blocks[1:]):
        assert after["input channels"] == before["output channels"]


def test_dpn_blocks_add_and_concatenate_in_the_graph():
    a = analyze("dpn92")
    adds = [r for r in a.rows if r.type == "(+) add"]
    cats = [r for r in a.rows if r.type == "(C) concat"]
    assert len(adds) == sum(TABLE_1["dpn92"]["k_sec"]) and all(len(r.inputs) == 2 for r in adds)
    # each block but the first concatenates its two input paths, and every block extends the dense path; then
    # conv5_bn_ac joins both paths once more
    assert len(cats) == 2 * len(adds) - 1 + 1

    dot = to_dot(a, depth=3)
    assert 'label="+"' in dot and "label=C" in dot


def test_dpn_grouped_convolutions_have_g_groups():
    a = analyze("dpn98")
    grouped = [r for r in a.rows if r.kind == "conv" and r.kernel == (3, 3) and r.groups and r.groups > 1]
    assert len(grouped) == sum(TABLE_1["dpn98"]["k_sec"]) and {r.groups for r in grouped} == {40}


def test_dpn_published_counts_include_batch_norm_statistics():
    """The 37.8M quoted for DPN-92 is our trainable count plus the running means and variances."""
    model = build_meta(configure("dpn92"))
    params = sum(p.numel() for p in model.parameters())
    stats = sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    assert params == 37_668_392 and round((params + stats) / 1e5) == 378


def test_dpn_stage_lists_must_match():
    with pytest.raises(KnobError) as err:
        configure("dpn", k_sec=(3, 4, 20, 3), inc_sec=(16, 32, 24))
    assert "one dense increment per stage" in one_sentence(err)


def test_dpn_groups_must_divide_k_r():
    with pytest.raises(KnobError) as err:
        configure("dpn", k_r=100, groups=32)
    text = one_sentence(err)
    assert "k_r=100" in text and "groups=32" in text and "25" in text


@pytest.mark.parametrize("value", ["3, x, 20", "", "3,0,20,3"])
def test_dpn_bad_lists_are_one_sentence(value):
    with pytest.raises(KnobError) as err:
        configure("dpn", k_sec=value)
    assert "k_sec" in one_sentence(err)


def test_dpn_runs_on_a_real_tensor():
    model = build(
        "dpn", (3, 64, 64), k_sec=(1, 1, 1, 1), inc_sec=(4, 4, 4, 4), k_r=8, groups=4, init_features=8, num_classes=5
    ).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 5)


# -- MobileNet v1 ----------------------------------------------------------------------------------------------


def test_mobilenet_v1_is_table_1():
    a = analyze("mobilenet_v1")
    convs = [r for r in a.rows if r.kind == "conv"]
    depthwise = [r for r in convs if r.groups == r.input_shape[0] > 1]
    assert len(convs) == 27 and len(depthwise) == 13  # 1 + 13 x (dw + pw), Table 1
    assert all(r.kernel == (3, 3) for r in depthwise)
    assert a.rows[a.output_row].output_shape == (1000,)
    last = [r for r in convs if r.name.startswith("block13.pw")][0]
    assert last.output_shape == (1024, 7, 7)


def test_conv_mobilenet_has_no_depthwise_layers():
    a = analyze("conv_mobilenet_v1")
    assert not any(r.kind == "conv" and r.groups and r.groups > 1 for r in a.rows)
    assert a.totals.params == 29_294_088  # Table 4: 29.3M


@pytest.mark.parametrize("alpha", list(MOBILENET_V1_TABLE_6))
def test_mobilenet_v1_table_6(alpha):
    madds, params = MOBILENET_V1_TABLE_6[alpha]
    a = analyze("mobilenet_v1", alpha=alpha)
    assert abs(a.totals.mult_adds / 1e6 - madds) <= 0.02 * madds
    assert round(a.totals.params / 1e5) == round(params * 10)


@pytest.mark.parametrize("side", list(MOBILENET_V1_TABLE_7))
def test_mobilenet_v1_table_7_and_the_resolution_knob_sets_the_input(side):
    madds, params = MOBILENET_V1_TABLE_7[side]
    a = analyze("mobilenet_v1", resolution=side)
    assert a.input_shape == (3, side, side)
    assert abs(a.totals.mult_adds / 1e6 - madds) <= 0.02 * madds and a.totals.params == 4_231_976


def test_mobilenet_v1_table_2_shares():
    shares = {r["type"]: r for r in cost_by_layer_type(analyze("mobilenet_v1"))}
    for kind, (madds, params) in MOBILENET_V1_TABLE_2.items():
        if kind == "Conv 3x3":  # the paper prints 1.19% for 1.91%
            assert round(shares[kind]["mult-adds %"], 2) == 1.91
            continue
        assert abs(shares[kind]["mult-adds %"] - madds) < 0.01
        assert abs(shares[kind]["params %"] - params) < 0.05


@pytest.mark.parametrize(
    "knobs,needle",
    [
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": 0.1}, "alpha"),
        ({"resolution": 100}, "resolution"),
        ({"resolution": 300}, "resolution"),
    ],
)
def test_mobilenet_v1_knobs_out_of_range(knobs, needle):
    with pytest.raises(KnobError) as err:
        configure("mobilenet_v1", **knobs)
    text = one_sentence(err)
    assert needle in text and "between" in text


@given(F=st.integers(1, 7), C=st.integers(1, 256), O=st.integers(1, 256), Fm=st.integers(1, 64))
def test_separable_cost_counted_by_pytorch_equals_the_papers_formulas(F, C, O, Fm):
    cost = layer_cost(F, C, O, Fm)
    assert cost.standard_mult_adds == F * F * C * O * Fm * Fm
    assert cost.separable_mult_adds == F * F * C * Fm * Fm + C * O * Fm * Fm
    assert cost.ratio == pytest.approx(1 / O + 1 / F**2)
    assert cost.standard_params == F * F * C * O and cost.separable_params == F * F * C + C * O
    assert all(step["value"] == pytest.approx(step["measured"]) for step in cost.steps())


def test_separable_cost_refuses_a_layer_out_of_range():
    with pytest.raises(KnobError) as err:
        layer_cost(3, 0, 16, 8)
    assert "C must be between 1 and" in one_sentence(err)


def test_width_and_resolution_grid():
    grid = {(g["alpha"], g["resolution"]): g for g in width_resolution_grid((0.5, 1.0), (128, 224))}
    assert grid[(1.0, 224)]["params"] == 4_231_976
    assert grid[(0.5, 128)]["params"] == grid[(0.5, 224)]["params"]  # resolution changes no weight
    assert grid[(0.5, 224)]["mult_adds"] < grid[(1.0, 224)]["mult_adds"]
    assert grid[(1.0, 128)]["mult_adds"] < grid[(1.0, 224)]["mult_adds"]


# -- MobileNet v2 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width_mult", [0.35, 0.5, 1.0, 1.4])
def test_mobilenet_v2_stages_follow_table_2(width_mult):
    stages = stage_table(analyze("mobilenet_v2", width_mult=width_mult))
    assert len(stages) == len(TABLE_2)
    for stage, (t, c, n, _s) in zip(stages, TABLE_2):
        assert stage["blocks"] == n and stage["output (k')"] == make_divisible(c * width_mult)
        assert stage["expanded (t k)"] == int(stage["input"].split("x")[0]) * t
        # a shortcut wherever the stride is 1 and the channels match: all but the first block of a stage,
        # and the first too when it neither strides nor widens
        assert stage["residual adds"] == n - 1


def test_mobilenet_v2_block_drawing_has_the_shortcut_only_where_it_exists():
    a = analyze("mobilenet_v2")
    with_add = block_dot(a, "bottleneck3.2")
    assert "expand" in with_add and "depthwise" in with_add and "linear" in with_add and "shortcut" in with_add
    assert "192×28×28" in with_add  # 32 channels expanded 6 times
    first = block_dot(a, "bottleneck3.1")
    assert "shortcut" not in first and "stride 2" in first
    assert "expand" not in block_dot(a, "bottleneck1.1")  # t = 1: no expansion convolution


def test_mobilenet_v2_expansion_knob_widens_the_middle():
    stages = stage_table(analyze("mobilenet_v2", expansion=4))
    assert stages[2]["expanded (t k)"] == 24 * 4


def test_mobilenet_v2_width_out_of_range():
    with pytest.raises(KnobError) as err:
        configure("mobilenet_v2", width_mult=2.0)
    assert "width_mult" in one_sentence(err)


def test_make_divisible_is_torchvisions_rule():
    assert [make_divisible(v) for v in (32 * 0.35, 16 * 0.5, 1280 * 1.4, 24 * 0.75, 4)] == [16, 8, 1792, 24, 8]


# -- NASNet-A --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("genotype", [NORMAL_CELL, REDUCTION_CELL], ids=lambda g: g.name)
def test_genotype_blocks_read_only_states_that_exist(genotype):
    available = {H_I, H_PREV}
    for k, pair in enumerate(genotype.blocks):
        assert len(pair) == 2 and all(source in available for source, _ in pair)
        available.add(f"block {k}")
    used = {source for pair in genotype.blocks for source, _ in pair}
    assert set(genotype.concat) <= available
    # every block output that no later block reads is concatenated
    assert {f"block {k}" for k in range(5)} - used <= set(genotype.concat)


def test_nasnet_plan_is_n_at_p():
    plan = cell_plan(4, 1056)
    assert [kind for _, kind, _ in plan].count("normal") == 12 and len(plan) == 16
    assert [(name, f) for name, _, f in plan][:3] == [("cell_stem_0", 11), ("cell_stem_1", 22), ("cell_0", 44)]
    a = analyze("nasnet_a_mobile")
    table = cells(a)
    assert table[-1]["output"] == "1056x7x7"  # P = 1056
    names = {c["cell"] for c in table}
    others = sum(r.params for r in a.rows if r.name.split(".")[0] not in names)  # stem conv and classifier
    assert sum(c["params"] for c in table) + others == a.totals.params
    assert others == 32 * 27 + 2 * 32 + 1056 * 1000 + 1000
    for c in table:
        ratio = 4 if c["kind"] == "Reduction Cell" else 6  # concatenated states
        assert int(c["output"].split("x")[0]) == ratio * c["filters"]


def test_nasnet_reduction_cells_halve_the_size():
    table = cells(analyze("nasnet_a_mobile"))
    sides = {c["cell"]: int(c["output"].split("x")[1]) for c in table}
    assert [
        sides[c]
        for c in ("cell_stem_0", "cell_stem_1", "cell_3", "reduction_cell_0", "cell_7", "reduction_cell_1", "cell_11")
    ] == [56, 28, 28, 14, 14, 7, 7]


def test_nasnet_cell_drawing_shows_the_operations_and_the_counts():
    a = analyze("nasnet_a_mobile")
    dot = cell_graph(a, "cell_5")
    assert dot.count('label="+"') == 5 and "concat" in dot and "h_{i-1}" in dot
    assert "sep 5x5" in dot and "identity" in dot and "170,544 parameters" in dot
    assert "88×14×14" in dot  # the hidden states at the cell's width
    reduction = cell_graph(a, "reduction_cell_0")
    assert "sep 7x7 /2" in reduction and "max 3x3 /2" in reduction
    plain = cell_dot(GENOTYPES["normal"])
    assert plain.count("->") == 5 * 4 + len(NORMAL_CELL.concat) + 1  # state -> op -> (+), twice a block


@pytest.mark.parametrize("value,nearest", [(1000, "984 and 1008"), (100, "96 and 120")])
def test_nasnet_penultimate_filters_must_be_a_multiple_of_24(value, nearest):
    with pytest.raises(KnobError) as err:
        configure("nasnet", penultimate_filters=value)
    assert nearest in one_sentence(err)


def test_nasnet_cell_repeats_out_of_range_and_a_tiny_input():
    with pytest.raises(KnobError, match="cell_repeats"):
        configure("nasnet", cell_repeats=0)
    with pytest.raises(ShapeError) as err:
        analyze("nasnet_a_mobile", (3, 2, 2))
    assert err.value.min_input == 3 and "3x3x3" in str(err.value)


def test_nasnet_runs_on_a_real_tensor():
    model = build("nasnet", (3, 32, 32), cell_repeats=1, penultimate_filters=96, stem_filters=8, num_classes=3).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 3)
    assert not any(isinstance(m, nn.ReLU) and m.inplace for m in model.modules())  # states are shared


@pytest.mark.parametrize("name", ["dpn68", "conv_mobilenet_v1", "mobilenet_v2", "nasnet_a_mobile"])
def test_the_fast_trace_agrees_with_a_plain_meta_forward(name):
    """Padding, channel slices and shared hidden states: every layer's output shape as a plain forward gives it."""
    assert_fast_trace_agrees(name)
