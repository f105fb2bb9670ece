"""The DOT graph: real dataflow, (+) and (C) nodes, folding by depth and by repeated blocks."""

import re

import pytest

from explorer import analyze
from explorer.graph import default_depth, layout, max_depth, node_count, to_dot
from ui.graphs import has_dot, to_svg


def _labels(dot):
    return [quoted or bare for quoted, bare in re.findall(r'label=(?:"([^"]*)"|([^\s\]]+))', dot)]


def test_residual_additions_are_plus_nodes_with_two_inputs():
    a = analyze("resnet20")
    lay = layout(a, None, fold=False)
    plus = [n for n in lay.nodes if n.label == "+"]
    assert len(plus) == 9
    for node in plus:
        assert sum(1 for _, b in lay.edges if b == node.id) == 2  # the block's branch and the skip


def test_dense_concatenations_are_c_nodes():
    dot = to_dot(analyze("densenet40_k12"), None, fold=False)
    assert _labels(dot).count("C") == 3 * 12 + 3  # each layer's input, and each block's output


def test_folding_keeps_resnet1202_readable_and_counts_repeats():
    a = analyze("resnet1202")
    assert node_count(a, None, fold=False) > 4000
    d = default_depth(a)
    assert node_count(a, d, fold=True) <= 60
    dot = to_dot(a, max_depth(a), fold=True)
    assert any("×199" in label for label in _labels(dot))
    assert len(_labels(dot)) < 80


def test_depth_one_folds_stages_and_keeps_the_chain():
    a = analyze("vgg16", (3, 32, 32))
    lay = layout(a, 1)
    titles = [n.label.split("\n")[0] for n in lay.nodes]
    assert titles == ["input", "block1", "block2", "block3", "block4", "block5", "classifier", "output"]
    assert [(e[0], e[1]) for e in lay.edges] == list(zip([n.id for n in lay.nodes][:-1], [n.id for n in lay.nodes][1:]))


def test_nodes_show_type_and_output_shape():
    dot = to_dot(analyze("lecture_exercise"))
    assert "conv1\\nConv2d 5x5/1\\n6×28×28" in dot and "pool2\\nMaxPool2d 2x2/2\\n16×5×5" in dot


def test_frozen_and_trainable_rows_are_coloured():
    a = analyze("lecture_exercise")
    states = {r.index: ("frozen" if r.name.startswith("conv") else "trainable") for r in a.rows}
    dot = to_dot(a, row_states=states)
    assert "#ced4da" in dot and "#ffc9c9" in dot


@pytest.mark.skipif(not has_dot(), reason="Graphviz's dot binary is not installed")
def test_svg_renders():
    svg = to_svg(to_dot(analyze("resnet20"), 2))
    assert svg.startswith(b"<?xml") and b"<svg" in svg
