"""Comparing across families: natural inputs, the depth papers quote, the Table 8 points."""

import pytest

from explorer import all_families, all_presets, analyze
from explorer.analysis.compare import compare, default_selection, longest_weight_path, natural_input, table_8
from explorer.reference import MOBILENET_TABLE_8


@pytest.mark.parametrize(
    "name,side",
    [
        ("vgg16", 224),
        ("resnet50", 224),
        ("densenet121", 224),
        ("googlenet", 224),
        ("squeezenet1_0", 224),
        ("resnet56", 32),
        ("densenet40_k12", 32),
        ("fractalnet40", 32),
        ("lecture_exercise", 32),
    ],
)
def test_each_preset_gets_its_natural_input(name, side):
    shape, why = natural_input(name)
    assert shape == (3, side, side) and why


@pytest.mark.parametrize(
    "name,depth",
    [
        ("vgg16", 16),
        ("resnet50", 50),
        ("resnet56", 56),
        ("densenet121", 121),
        ("googlenet", 22),
        ("squeezenet1_0", 18),
        ("fractalnet40", 41),
    ],
)
def test_depth_on_the_longest_path_is_the_papers(name, depth):
    assert longest_weight_path(analyze(name, natural_input(name)[0])) == depth


def test_compare_rows_are_the_analyses_at_the_natural_input():
    entries = {e.preset: e for e in compare(["vgg16", "resnet56", "googlenet"])}
    assert entries["vgg16"].params == 138_357_544 and entries["vgg16"].input_shape == (3, 224, 224)
    assert entries["resnet56"].params == 853_018 and entries["resnet56"].dataset == "CIFAR-10"
    assert entries["googlenet"].param_mb == pytest.approx(6_998_552 * 4 / 2**20)


def test_table_8_points_are_published_figures_and_defaults_are_registered():
    points = table_8()
    assert [(p.model, p.mult_adds, p.params) for p in points] == [
        (m, madds * 1e6, params * 1e6) for m, _, madds, params in MOBILENET_TABLE_8
    ]
    assert set(default_selection()) <= set(all_presets())
    assert {"vgg16", "googlenet", "squeezenet1_0"} <= set(default_selection())


def test_families_knobs_and_presets_are_named_as_documented():

    families = all_families()
    assert {"aux_logits", "batch_norm", "num_classes"} <= set(families["googlenet"].knob_names)
    assert {"columns", "blocks", "channels", "num_classes"} <= set(families["fractalnet"].knob_names)
    assert families["googlenet"].defaults()["aux_logits"] is False
    assert families["fractalnet"].defaults()["channels"] == (64, 128, 256, 512, 512)
    assert {"googlenet", "fractalnet40", "fractalnet20", "squeezenet1_0", "squeezenet1_1"} <= set(all_presets())
    assert all_presets()["googlenet"].family == "googlenet"
