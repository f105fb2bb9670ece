"""The named published figures of explorer/reference.py that the engine can compute, and the text that quotes them.

tests/test_analysis.py checks every Published entry (PUBLISHED); these are the figures kept as named constants.
"""

import pytest

from explorer import all_families, analyze
from explorer.analysis.compare import longest_weight_path
from explorer.families.mobilenet_v1 import cost_by_layer_type
from explorer.lecture import step_by_slug
from explorer.reference import (
    DENSENET_TABLE_2_MILLIONS,
    GOOGLENET_WEIGHT_LAYERS,
    LECTURE_EDGE,
    LECTURE_RESIDUAL,
    MNASNET_PHONE_LATENCY,
    MOBILENET_TABLE_8,
    MOBILENET_V1_SEPARABLE_SAVING,
    MOBILENET_V1_TABLE_2,
    MOBILENET_V1_TABLE_2_CONV_3X3_CORRECTED,
    MOBILENET_V1_TABLE_4,
    SQUEEZENET_MODEL_MB,
    VEIT_2016,
    VGG_TABLE_2,
    published_figure,
)

IMAGENET = (3, 224, 224)


def test_googlenet_is_22_layers_deep_counting_layers_with_parameters():
    assert longest_weight_path(analyze("googlenet", IMAGENET)) == GOOGLENET_WEIGHT_LAYERS


def test_the_lectures_deepest_residual_network_is_resnet152():
    assert longest_weight_path(analyze("resnet152", IMAGENET)) == LECTURE_RESIDUAL["deepest_layers"]


def test_depthwise_separable_mobilenet_needs_8_to_9_times_fewer_multiply_adds():
    low, high = MOBILENET_V1_SEPARABLE_SAVING
    ours = analyze("conv_mobilenet_v1", IMAGENET).totals.mult_adds / analyze("mobilenet_v1", IMAGENET).totals.mult_adds
    published = MOBILENET_V1_TABLE_4[False][0] / MOBILENET_V1_TABLE_4[True][0]  # Table 4: 4866M against 569M
    assert low <= ours <= high and low <= published <= high
    assert int(ours) == LECTURE_EDGE["separable_saving"]  # the slide's "a reduction of 8x"


def test_mobilenet_table_2_misprint_is_corrected_by_our_count():
    shares = {r["type"]: r["mult-adds %"] for r in cost_by_layer_type(analyze("mobilenet_v1", IMAGENET))}
    printed = MOBILENET_V1_TABLE_2["Conv 3x3"][0]
    assert round(shares["Conv 3x3"], 2) == MOBILENET_V1_TABLE_2_CONV_3X3_CORRECTED != printed
    column = [madds for kind, (madds, _) in MOBILENET_V1_TABLE_2.items() if kind != "Conv 3x3"]
    assert round(sum(column) + MOBILENET_V1_TABLE_2_CONV_3X3_CORRECTED, 1) == 100.0
    assert round(sum(column) + printed, 1) != 100.0


def test_squeezenet_stores_the_published_model_size():
    mb, _ = SQUEEZENET_MODEL_MB
    assert round(analyze("squeezenet1_0", IMAGENET).totals.param_mb, 1) == mb


@pytest.mark.parametrize("preset", list(MNASNET_PHONE_LATENCY))
def test_mnasnet_table_1_multiply_adds_are_reproduced(preset):
    published = MNASNET_PHONE_LATENCY[preset]["mult_adds"]
    assert analyze(preset, IMAGENET).totals.mult_adds == pytest.approx(published, rel=0.02)


@pytest.mark.parametrize("preset", ["mobilenet_v1", "vgg16"])
def test_mobilenet_table_8_rows_are_reproduced(preset):
    _, _, madds, params = next(row for row in MOBILENET_TABLE_8 if row[1] == preset)
    totals = analyze(preset, IMAGENET).totals
    assert totals.mult_adds == pytest.approx(madds * 1e6, rel=0.02)
    assert round(totals.params / 1e6, 1 if params < 10 else 0) == params  # printed to 0.1M (4.2) or 1M (138)


def test_published_figure_is_the_presets_own_setting():
    figure = published_figure("squeezenet1_0", "params")
    assert not figure.knobs and figure.agrees(analyze("squeezenet1_0", IMAGENET).totals.params)


# -- the text that quotes them ---------------------------------------------------------------------------------------


def test_family_summaries_quote_the_published_figures():
    families = all_families()
    squeezenet = published_figure("squeezenet1_0", "params").value
    assert f"{squeezenet / 1e6:.2f}M parameters (published)" in families["squeezenet"].summary
    assert f"{GOOGLENET_WEIGHT_LAYERS} layers with parameters" in families["googlenet"].summary
    low, high = MOBILENET_V1_SEPARABLE_SAVING
    assert f"{low} to {high} times fewer multiply-adds" in families["mobilenet_v1"].summary


def test_lecture_steps_quote_the_published_figures():
    vgg = step_by_slug("vgg").claim
    assert f"{min(VGG_TABLE_2.values())} M to {max(VGG_TABLE_2.values())} M" in vgg
    assert f"{DENSENET_TABLE_2_MILLIONS['densenet_bc190_k40']} M parameters, published" in " ".join(
        step_by_slug("nasnet").slide_says
    )
    gradients = " ".join(step_by_slug("path-gradients").slide_says)
    assert f"{VEIT_2016['effective_low']}-{VEIT_2016['effective_high']} of {VEIT_2016['resnet110_blocks']}" in gradients
    assert f"{LECTURE_EDGE['pruning_accuracy_retained']:.0%}" in step_by_slug("pruning").claim


def test_googlenet_is_about_20_times_smaller_than_vgg16_as_published_and_as_ours():
    table_8 = {row[1]: row[3] for row in MOBILENET_TABLE_8}
    ours = analyze("vgg16", IMAGENET).totals.params / analyze("googlenet", IMAGENET).totals.params
    published = table_8["vgg16"] / table_8["googlenet"]
    assert round(ours) == round(published) == 20
    assert f"about {published:.0f}× fewer than VGG-16" in " ".join(step_by_slug("inception").slide_says)
