"""FractalNet: depth 2^(C-1) * B, mean joins, 2x2 pools, validation, drop-path samples and the deepest column."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import KnobError, ShapeError, analyze, configure
from explorer.analysis.compare import longest_weight_path
from explorer.families.fractalnet import (
    GLOBAL,
    LOCAL,
    conv_count,
    conv_depth,
    convs_in_column,
    ending_at,
    extract_column,
    fractalnet,
    joins,
    sample_drop_path,
    steps,
)
from explorer.graph import layout
from ui.graphs import fractal_block as block_dot


@pytest.mark.parametrize("columns,blocks", [(1, 1), (2, 3), (3, 5), (4, 5), (5, 2)])
def test_depth_is_2_to_the_c_minus_1_times_b(columns, blocks):
    a = analyze("fractalnet", (3, 32, 32), columns=columns, blocks=blocks)
    convs = [r for r in a.rows if r.kind == "conv"]
    assert len(convs) == conv_count(columns, blocks) == (2**columns - 1) * blocks
    assert longest_weight_path(a) - 1 == conv_depth(columns, blocks) == 2 ** (columns - 1) * blocks  # - the fc


def test_fractalnet40_has_40_conv_layers_and_pools_after_every_block():
    a = analyze("fractalnet40")
    assert conv_depth(4, 5) == 40 and longest_weight_path(a) == 41
    pools = [r for r in a.rows if r.kind == "pool" and r.name.startswith("pool")]
    assert [(r.kernel, r.stride) for r in pools] == [((2, 2), (2, 2))] * 5
    assert [r.output_shape for r in pools] == [(64, 16, 16), (128, 8, 8), (256, 4, 4), (512, 2, 2), (512, 1, 1)]
    assert analyze("fractalnet20").resolved["block_channels"] == (64, 128, 256, 512, 512)
    assert longest_weight_path(analyze("fractalnet20")) - 1 == 20


def test_joins_are_element_wise_means_of_the_columns_that_end_there():
    a = analyze("fractalnet40")
    means = [r for r in a.rows if r.type == "(J) mean join"]
    assert len(means) == 5 * len(joins(4)) == 5 * 4
    stacks = {r.index: r for r in a.rows if r.type == "stack"}
    first_block = [stacks[r.inputs[0]] for r in means if r.name.startswith("block1.")]
    assert [len(s.inputs) for s in first_block] == [len(cols) for _, cols in joins(4)] == [2, 3, 2, 4]
    assert all(r.output_shape == (64, 32, 32) for r in means[:4])


def test_validation_is_one_sentence_naming_the_fix():
    with pytest.raises(KnobError, match="'columns' must be between 1 and 6; got 0"):
        configure("fractalnet", columns=0)
    with pytest.raises(KnobError, match="has columns 1 to 3"):
        configure("fractalnet20", column=4)
    with pytest.raises(ShapeError) as err:
        analyze("fractalnet40", blocks=6)
    message = str(err.value)
    assert "6 blocks need an input of at least 64x64" in message and "at most 5 blocks" in message
    assert err.value.min_input == 64 and "smallest input that works is 3x64x64" in message
    with pytest.raises(ShapeError, match="a side of 16 fits at most 4 blocks"):
        analyze("fractalnet40", (3, 16, 16))
    assert analyze("fractalnet40", blocks=6, input_shape=(3, 64, 64)).resolved["block_channels"][-1] == 512


def test_the_deepest_column_is_a_plain_network_as_deep_with_fewer_parameters():
    whole, deepest = analyze("fractalnet40"), analyze("fractalnet40_deepest")
    assert longest_weight_path(deepest) == longest_weight_path(whole) == 41
    assert sum(r.kind == "conv" for r in deepest.rows) == 40
    assert not any(r.kind == "merge" for r in deepest.rows)
    assert deepest.totals.params < whole.totals.params
    names_whole = {r.name for r in whole.rows}
    assert {r.name for r in deepest.rows if r.params} <= names_whole  # the same names: the same weights


def _small_net():
    torch.manual_seed(0)
    return fractalnet(columns=3, blocks=2, channels=(4, 6), num_classes=3).eval()


def test_global_drop_path_is_the_extracted_column():
    model, x = _small_net(), torch.randn(2, 3, 8, 8)
    for column in (1, 2, 3):
        sample = next(s for s in (sample_drop_path(3, 2, GLOBAL, seed) for seed in range(100)) if s.column == column)
        plain = extract_column(model, column).eval()
        with torch.no_grad():
            assert torch.allclose(model(x, sample), plain(x), atol=1e-6)
        assert sum(p.numel() for p in plain.parameters()) < sum(p.numel() for p in model.parameters())


@settings(max_examples=30)
@given(seed=st.integers(0, 10**6), mode=st.sampled_from([LOCAL, GLOBAL]), p=st.floats(0, 1))
def test_a_sampled_forward_runs_exactly_the_surviving_convolutions(seed, mode, p):
    model, called = _small_net(), set()
    hooks = [
        m.register_forward_hook(lambda mod, i, o, n=n: called.add(n))  # set.add returns None
        for n, m in model.named_modules()
        if isinstance(m, torch.nn.Conv2d)
    ]
    sample = sample_drop_path(3, 2, mode, seed, p)
    with torch.no_grad():
        y = model(torch.randn(1, 3, 8, 8), sample)
    for h in hooks:
        h.remove()
    assert tuple(y.shape) == (1, 3)
    assert called == {f"block{b}.col{c}.layer{i}.conv" for b, c, i in sample.active_convs()}


@given(columns=st.integers(1, 6), blocks=st.integers(1, 6), seed=st.integers(0, 10**9), p=st.floats(0, 1))
def test_local_drop_path_keeps_at_least_one_input_at_every_join(columns, blocks, seed, p):
    sample = sample_drop_path(columns, blocks, LOCAL, seed, p)
    for b in range(1, blocks + 1):
        for t, cols in joins(columns):
            kept = sample.kept_at(b, t)
            assert 1 <= len(kept) and set(kept) <= set(cols)
    active = sample.active_convs()
    for b in range(1, blocks + 1):  # every block's output is reached: its last join keeps a computed input
        assert any((b, c, convs_in_column(c)) in active for c in sample.kept_at(b, steps(columns)))


@given(columns=st.integers(1, 6), blocks=st.integers(1, 6), seed=st.integers(0, 10**9))
def test_global_drop_path_keeps_exactly_one_column(columns, blocks, seed):
    sample = sample_drop_path(columns, blocks, GLOBAL, seed)
    k = sample.column
    assert 1 <= k <= columns
    kept_columns = {c for block in sample.kept for cols in block for c in cols}
    assert kept_columns == {k}
    assert sample.active_convs() == {(b, k, i) for b in range(1, blocks + 1) for i in range(1, convs_in_column(k) + 1)}


def test_drop_probability_extremes_and_reproducibility():
    assert sample_drop_path(4, 5, LOCAL, 7, 0.0).dropped_inputs() == 0
    one_each = sample_drop_path(4, 5, LOCAL, 7, 1.0)
    assert all(len(one_each.kept_at(b, t)) == 1 for b in range(1, 6) for t, _ in joins(4))
    assert sample_drop_path(4, 5, LOCAL, 7, 0.3) == sample_drop_path(4, 5, LOCAL, 7, 0.3)
    assert len({sample_drop_path(4, 5, LOCAL, s, 0.3).kept for s in range(10)}) > 1
    with pytest.raises(KnobError, match="between 0 and 1"):
        sample_drop_path(4, 5, LOCAL, 0, 1.5)
    with pytest.raises(KnobError, match="at least one column"):
        sample_drop_path(0, 5, LOCAL, 0)


def test_the_expansion_rule_drawing():
    assert ending_at(4, 8) == (1, 2, 3, 4) and ending_at(4, 4) == (2, 3, 4) and ending_at(4, 3) == (4,)
    for c in range(1, 5):
        dot = block_dot(c)
        assert dot.count('"conv"') + dot.count("label=conv") == 2**c - 1
        assert dot.count("label=J") == len(joins(c)) == (2 ** (c - 2) if c > 1 else 0)
    sample = sample_drop_path(4, 1, LOCAL, 3, 0.5)
    drawn = block_dot(4, sample, 1)
    assert drawn.count("arrowhead=tee") == sample.dropped_inputs() > 0


def test_the_layer_graph_draws_each_join_once_and_folds_only_chained_layers():

    a = analyze("fractalnet40")
    lay = layout(a, 3, fold=True)  # block.column.layer
    labels = [n.label for n in lay.nodes]
    assert labels.count("J") == 20 and "S" not in labels  # stack + mean: one join node
    # the deepest column folds between joins only: layer1-2, 3-4, 5-6, 7-8 are chains, 2 -> 3 goes through a J
    runs = [lab.split("\n")[0] for lab in labels if lab.startswith("block1.col4")]
    assert runs == [
        "block1.col4.layer1 … layer2",
        "block1.col4.layer3 … layer4",
        "block1.col4.layer5 … layer6",
        "block1.col4.layer7 … layer8",
    ]
    order = {n.id: i for i, n in enumerate(lay.nodes)}
    assert all(order[a_] < order[b] for a_, b in lay.edges)  # every edge points forward: no folded cycle
