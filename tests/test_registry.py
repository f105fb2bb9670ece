"""Knob declarations: one declaration drives the UI, the CLI and the builders."""

import inspect

import pytest

from explorer import KnobError, LimitError, UnknownNameError, all_families, all_presets, configure, get_family
from explorer.registry import parse_input_shape

FAMILIES = list(all_families().values())


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_every_knob_is_a_builder_keyword_with_the_declared_default(family):
    params = inspect.signature(family.builder).parameters
    for knob in family.knobs:
        assert knob.name in params
        assert params[knob.name].default == knob.default or (
            isinstance(knob.default, tuple) and tuple(params[knob.name].default) == knob.default
        ), knob.name
        assert knob.help and knob.help.endswith((".", ")"))


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_out_of_range_values_are_refused_with_the_range(family):
    for knob in family.knobs:
        if knob.kind in ("int", "float") and knob.high is not None:
            with pytest.raises(KnobError, match=knob.name):
                family.check({knob.name: knob.high + 1})
        if knob.kind == "choice":
            with pytest.raises(KnobError, match="one of"):
                family.check({knob.name: "no-such-choice"})


def test_knobs_coerce_strings_from_the_cli_and_the_url():
    vgg = get_family("vgg")
    assert vgg.check({"width": "32", "batch_norm": "true", "config": "a-lrn"}) == {
        **vgg.defaults(),
        "width": 32,
        "batch_norm": True,
        "config": "A-LRN",
    }
    dense = get_family("densenet")
    assert dense.check({"block_config": "6, 12, 24, 16"})["block_config"] == (6, 12, 24, 16)
    assert dense.check({"init_features": "auto"})["init_features"] is None
    with pytest.raises(KnobError, match="whole number"):
        vgg.check({"width": "3.5"})
    with pytest.raises(KnobError, match="has no knob 'depth'"):
        vgg.check({"depth": 3})


def test_presets_are_valid_and_named_as_documented():
    names = set(all_presets())
    expected = {
        "vgg11",
        "vgg13",
        "vgg16",
        "vgg19",
        "vgg11_bn",
        "vgg13_bn",
        "vgg16_bn",
        "vgg19_bn",
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnet20",
        "resnet32",
        "resnet44",
        "resnet56",
        "resnet110",
        "resnet1202",
        "densenet121",
        "densenet169",
        "densenet201",
        "densenet264",
        "densenet161",
        "densenet40_k12",
        "densenet100_k12",
        "densenet100_k24",
        "densenet_bc100_k12",
        "densenet_bc250_k24",
        "densenet_bc190_k40",
    }
    assert expected <= names
    assert {"seed_cnn", "vgg", "resnet", "densenet"} <= set(all_families())


def test_resnet_depth_that_is_not_6n_plus_2_names_the_valid_ones():
    with pytest.raises(KnobError) as err:
        configure("resnet", depth=57, stem="cifar")
    assert "6n+2" in str(err.value) and "56" in str(err.value) and "62" in str(err.value)
    with pytest.raises(KnobError, match="18, 34, 50, 101, 152"):
        configure("resnet", depth=20, stem="imagenet")


def test_densenet_depth_must_split_into_three_blocks():
    with pytest.raises(KnobError, match="6n\\+4"):
        configure("densenet", depth=101, bottleneck=True, stem="cifar")


def test_unknown_names_suggest_the_closest():
    with pytest.raises(UnknownNameError, match="vgg16"):
        configure("vgg61")


@pytest.mark.parametrize(
    "text,shape", [("3x32x32", (3, 32, 32)), ("1×28×28", (1, 28, 28)), ("224", (3, 224, 224)), ("3,64,48", (3, 64, 48))]
)
def test_input_shapes_parse(text, shape):
    assert parse_input_shape(text) == shape


@pytest.mark.parametrize("text", ["3x32", "axbxc", "0x32x32"])
def test_bad_input_shapes_are_one_sentence(text):
    with pytest.raises(KnobError) as err:
        parse_input_shape(text)
    assert str(err.value).endswith(".") and "\n" not in str(err.value)


def test_absurd_inputs_are_refused_with_the_limit_before_any_work():
    with pytest.raises(LimitError, match="at most 64 channels and 4096 pixels per side"):
        parse_input_shape("3x100000x100000")
    with pytest.raises(LimitError, match="4096"):
        configure("vgg16", (3, 100000, 100000))
