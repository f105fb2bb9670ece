"""The custom-architecture parser: the paper's notation, the Keras-like form, errors with line and column, limits."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from torch import nn

import explorer
from explorer.errors import KnobError, LimitError, ShapeError, SpecError
from explorer.families.custom import LECTURE_NETWORK, TABLE_1_PRESETS, table_1_text
from explorer.families.vgg import TABLE_1
from explorer.notation import MAX_CHARS, MAX_LAYERS, build, origins, parse

ROOT = Path(__file__).resolve().parent.parent


def kinds(text):
    return [
        (layer.kind, layer.filters, layer.kernel, layer.stride, layer.padding, layer.activation)
        for layer in parse(text)
    ]


def test_the_papers_notation():
    assert kinds("conv3-64, conv1-256\nmaxpool; LRN\nFC-4096, FC-1000, soft-max") == [
        ("conv", 64, (3, 3), (1, 1), "same", "relu"),
        ("conv", 256, (1, 1), (1, 1), "same", "relu"),
        ("maxpool", None, (2, 2), (2, 2), (0, 0), None),
        ("lrn", None, None, None, None, None),
        ("dense", 4096, None, None, None, "relu"),
        ("dense", 1000, None, None, None, None),  # the last weight layer has no ReLU (Section 2.1)
        ("act", None, None, None, None, "softmax"),
    ]
    model = build("conv3-64, maxpool, FC-10")
    assert [type(m) for m in model] == [nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.LazyLinear]
    assert model.conv1.padding == (1, 1)  # "padding such that the spatial resolution is preserved"


def test_the_keras_form():
    layers = parse(
        'Conv2D(16, (5, 3), strides=(2, 1), padding="same", activation="relu", use_bias=False)\n'
        "DepthwiseConv2D(3, depth_multiplier=2), MaxPooling2D(3, 2), AveragePooling2D\n"
        "GlobalAveragePooling2D, Dense(120), Dropout(0.5), BatchNormalization, ReLU, "
        "Activation('sigmoid'), Softmax"
    )
    conv, dw, mp, ap, gap, dense, drop, bn, relu, sig, soft = layers
    assert (conv.filters, conv.kernel, conv.stride, conv.padding, conv.bias) == (16, (5, 3), (2, 1), "same", False)
    assert (dw.kind, dw.filters, dw.kernel) == ("dwconv", 2, (3, 3))
    assert (mp.kernel, mp.stride, ap.kernel, ap.stride) == ((3, 3), (2, 2), (2, 2), (2, 2))  # Keras defaults
    assert (gap.pool, dense.filters, drop.rate, bn.kind) == ("avg", 120, 0.5, "batchnorm")
    assert (relu.activation, sig.activation, soft.activation) == ("relu", "sigmoid", "softmax")
    assert kinds("Conv2D(6, 5, padding=2)")[0][4] == (2, 2)  # PyTorch's padding=P as an extension
    assert kinds("conv2d(6,5)") == kinds("Conv2D(6, 5)")  # names are case-insensitive


def test_the_issue_example_error():
    with pytest.raises(SpecError) as err:
        parse("conv3-64\nmaxpool\n  conv3-x")
    assert str(err.value) == "line 3, column 9: expected a number of kernels after 'conv3-', found 'x'"
    assert (err.value.line, err.value.column, err.value.found) == (3, 9, "x")


@pytest.mark.parametrize(
    "text,where,words",
    [
        ("conv3-64 maxpool", (1, 10), "a comma or a new line between layers after 'conv3-64'"),
        ("conv-64", (1, 5), "receptive field size"),
        ("FC-", (1, 4), "a number of units after 'FC-'"),
        ("Conv2D(6)", (1, 1), "Conv2D needs its kernel_size"),
        ("Conv2D(6, 5, stride=2)", (1, 14), "did you mean 'strides'"),
        ("Conv2D(6, 5, strides=0)", (1, 14), "between 1 and 128"),
        ("Conv2D(6, 5, padding='full')", (1, 14), "'same', 'valid' or a number"),
        ("Conv2D(6, 5, activation=relu)", (1, 25), 'text goes in quotes, as in "relu"'),
        ("Conv2D(6, 5, 1, 'same', 9)", (1, 25), "this one is too many"),
        ("Conv2D(6, 5", (1, 12), "')'"),
        ("Conv2D(6, 5, name='x)", (1, 19), "never closed"),
        ("Dense(10)", (1, 1), "add Flatten before it"),
        ("conv3-64, Flatten, maxpool", (1, 20), "needs a C x H x W input"),
        ("conv3-64\n\n  Conv2D(8, 3, name='a'), Conv2D(8, 3, name='a')", (3, 27), "already used"),
        ("Conv2D(8, 3, name='a.b')", (1, 14), "cannot contain '.'"),
        ("AveragePooling2D(2, padding='same')", (1, 21), "no PyTorch equivalent"),
        ("MaxPooling2D(2, padding=2)", (1, 17), "at most half the pool size"),
        ("Dropout(1.5)", (1, 9), "up to (not including) 1"),
        ("input (224 x 224 RGB image)", (1, 1), "sidebar"),
        ("Conv2d(6, 5) @", (1, 14), "unexpected character '@'"),
        ("", (1, 1), "empty"),
        ("# only a comment\n", (1, 1), "empty"),
        ("conv3-99999999999999999999", (1, 7), "between 1 and 16,384"),
        ("Dense(" + "9" * 5000 + ")", (1, 7), "far too large"),
        ("maxpol", (1, 1), "did you mean maxpool"),
    ],
)
def test_errors_name_line_column_and_what_was_expected(text, where, words):
    with pytest.raises(SpecError) as err:
        parse(text)
    assert (err.value.line, err.value.column) == where, str(err.value)
    assert words in str(err.value)
    assert str(err.value).startswith(f"line {where[0]}, column {where[1]}: ")


def test_limits_are_refused_before_any_work():
    many = "conv1-1, " * (MAX_LAYERS + 1)
    with pytest.raises(SpecError, match=f"more than {MAX_LAYERS:,} layers"):
        parse(many)
    ten_thousand = "\n".join(["conv3-64"] * 10_000)
    with pytest.raises(SpecError) as err:
        parse(ten_thousand)
    assert (err.value.line, err.value.column) == (MAX_LAYERS + 1, 1)  # stops at the first layer too many
    with pytest.raises(SpecError, match=f"longer than {MAX_CHARS:,} characters"):
        parse("#" * (MAX_CHARS + 1))
    with pytest.raises(LimitError, match="at most 64 channels and 4096 pixels"):
        explorer.analyze("custom", (3, 100_000, 100_000), spec="conv3-64")


def test_a_network_that_shrinks_below_one_pixel_names_the_layer_and_its_line():
    text = "conv3-8, maxpool\nmaxpool, maxpool, maxpool, maxpool, maxpool"
    with pytest.raises(ShapeError) as err:
        explorer.analyze("custom", (3, 32, 32), spec=text)
    assert "at layer 'pool6'" in str(err.value) and "smallest input that works is 3x64x64" in str(err.value)
    layer = origins(text)[err.value.layer]
    assert (layer.line, layer.column) == (2, 37)


def test_names_and_metacharacters_survive_as_plain_text():
    name = '<b>*x*</b> {a|b} "q" `c` $1$ :red[r] #h'
    model = build(f"Conv2D(4, 3, name='{name}'), maxpool, Conv2D(4, 3)")
    assert list(dict(model.named_children())) == [name, "pool1", "conv1"]  # auto names skip nothing, clash with none


@given(st.text(max_size=300))
@example("conv3-64, maxpool, FC-10")
@example('Conv2D(16, (5, 5), strides=1, padding="same")')
@example("Conv2D(((((")
@example("Dense(-1)")
@example("conv3-٣")  # an Arabic-Indic digit: isdigit() is True, int() would refuse it
@example("conv²-64")
@example("FC-1e9")
@example("\x00\ufeff\u2028")
def test_any_text_parses_or_raises_spec_error_with_a_position(text):
    try:
        layers = parse(text)
    except SpecError as e:
        assert e.line >= 1 and e.column >= 1 and str(e).startswith(f"line {e.line}, column {e.column}: ")
        assert e.line <= text.count("\n") + 1
    else:
        assert layers


keras_word = st.sampled_from(
    [
        "Conv2D",
        "DepthwiseConv2D",
        "MaxPooling2D",
        "AveragePooling2D",
        "Dense",
        "Flatten",
        "Dropout",
        "BatchNormalization",
        "ReLU",
        "conv3",
        "FC",
        "maxpool",
        "soft",
        "LRN",
    ]
)
token = st.one_of(
    keras_word,
    st.sampled_from(
        [
            "(",
            ")",
            ",",
            "=",
            "-",
            "\n",
            "'same'",
            '"valid"',
            "strides",
            "padding",
            "name",
            "(2, 2)",
            "0.5",
            "True",
            "None",
        ]
    ),
    st.integers(-3, 300).map(str),
)


@given(st.lists(token, max_size=30).map(" ".join))
def test_token_soup_parses_or_raises_spec_error(text):
    """Closer to what students type than random text: real words in the wrong order."""
    try:
        parse(text)
    except SpecError as e:
        assert e.line >= 1 and e.column >= 1
    else:
        build(text, 3)  # whatever parses, builds


def test_table_1_presets_are_the_vgg_family_in_the_papers_words():
    assert table_1_text("C").splitlines()[3] == "conv3-256, conv3-256, conv1-256, maxpool"
    assert set(TABLE_1_PRESETS.values()) == set(TABLE_1)
    for preset, config in (("table1_a", "A"), ("table1_d", "D"), ("table1_e", "E")):
        ours = explorer.analyze(preset, (3, 224, 224))
        theirs = explorer.analyze("vgg", (3, 224, 224), config=config)
        assert ours.totals.params == theirs.totals.params and ours.totals.mult_adds == theirs.totals.mult_adds
        assert ours.totals.weight_layers == theirs.totals.weight_layers
    assert explorer.analyze("table1_d", (3, 224, 224)).totals.params == 138_357_544  # Table 2: 138M


def test_the_lecture_network_is_the_lecture_exercise_family():
    ours, theirs = explorer.analyze("custom_lecture"), explorer.analyze("lecture_exercise")
    assert ours.totals.params == theirs.totals.params == 62_006
    assert [r.output_shape for r in ours.rows if r.kind in ("conv", "pool", "linear")] == [
        r.output_shape for r in theirs.rows if r.kind in ("conv", "pool", "linear")
    ]
    assert explorer.configure("custom").knob_dict["spec"] == LECTURE_NETWORK


def test_text_knob_kind():
    knob = explorer.get_family("custom").knob("spec")
    assert knob.kind == "text" and knob.coerce("none") == "none"  # free text is never read as 'auto'
    assert knob.format("conv3-64") == "conv3-64"
    with pytest.raises(KnobError, match="at most 100,000 characters"):
        knob.coerce("x" * (MAX_CHARS + 1))
    with pytest.raises(KnobError, match="expects text"):
        knob.coerce(3)
    with pytest.raises(SpecError, match="line 1, column 7"):
        explorer.configure("custom", spec="conv3-y")


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_cli_summary_with_a_spec():
    out = cli("summary", "--spec", "conv3-64, maxpool, FC-10", "--input", "3x32x32", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["family"] == "custom" and data["total_params"] == 64 * 27 + 64 + (64 * 16 * 16 + 1) * 10
    assert [layer["name"] for layer in data["layers"]] == ["conv1", "relu1", "pool1", "flatten1", "fc1"]
    text = cli("summary", "--spec", "conv3-64, maxpool, FC-10")
    assert "Total params: 165,642" in text.stdout


def test_cli_parse_errors_exit_2_with_the_message_on_stderr():
    out = cli("summary", "--spec", "conv3-64\nmaxpool\n  conv3-x", "--input", "3x32x32")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == "error: line 3, column 9: expected a number of kernels after 'conv3-', found 'x'\n"
    both = cli("summary", "vgg16", "--spec", "conv3-64")
    assert both.returncode == 2 and "leave out the name 'vgg16'" in both.stderr
    neither = cli("summary")
    assert neither.returncode == 2 and "--spec" in neither.stderr


@given(st.lists(token, max_size=25).map(" ".join), st.sampled_from([(3, 32, 32), (1, 7, 40), (3, 1, 1)]))
def test_whatever_parses_is_analysed_or_refused_in_one_sentence(text, shape):
    try:
        analysis = explorer.analyze("custom", shape, spec=text)
    except explorer.ExplorerError as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert analysis.totals.params == sum(r.params for r in analysis.rows)


def test_keras_code_pasted_as_it_is():
    code = (
        "model.add(Conv2D(6, (5, 5), activation='relu'))\nmodel.add(layers.MaxPooling2D((2, 2)))\n"
        "model.add(tf.keras.layers.Flatten())\nmodel.add(keras.layers.Dense(10, activation='softmax'))"
    )
    assert [layer.notation_text() for layer in parse(code)] == [
        'Conv2D(6, 5, activation="relu")',
        "MaxPooling2D(2)",
        "Flatten()",
        'Dense(10, activation="softmax")',
    ]
    for text, words in (
        ("model.fit(x)", "found 'model.fit'"),
        ("layers.Foo(3)", "found 'layers.Foo'"),
        ("model.add(model.add(Flatten))", "inside model.add"),
        ("model.add(" * 5000, "inside model.add"),
    ):  # never a RecursionError
        with pytest.raises(SpecError, match=words):
            parse(text)
