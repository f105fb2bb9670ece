"""Bad input to the core and the CLI: one sentence naming cause and fix (CLI: one line on stderr, exit 2), nothing
the user had is lost (an existing file stays whole), and values are never silently changed."""

import os

import pytest

import explorer
from explorer import notation
from explorer.analysis import analyzer
from explorer.cli import main
from explorer.errors import ExplorerError, KnobError, ShapeError, SpecError
from explorer.labs.export import WriteError, to_pytorch, write
from explorer.registry import check_input_shape, get_family, parse_input_shape, shorten

NINES = "9" * 5000


def _cli_error(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in captured.err, captured.err
    assert len(lines[0]) < 400, lines[0]  # long values are shortened
    return lines[0]


@pytest.mark.parametrize("name", ["forward", "training", "__init__", "cuda", "_modules", "parameters", "add_module"])
def test_layer_names_that_pytorch_reserves_are_refused(name):
    text = f'Conv2D(6, 5, name="{name}")\nFlatten()\nDense(10)'
    with pytest.raises(SpecError, match=f"'{name}' is taken by PyTorch") as e:
        notation.parse(text)
    assert (e.value.line, e.value.column) == (1, 14)
    notation.parse(text.replace(name, "my_conv"))  # any other name builds


def test_keras_input_shape_sets_the_input():
    text = 'Conv2D(6, (5, 5), activation="relu", input_shape=(28, 28, 1))\nMaxPooling2D(2)\nFlatten()\nDense(10)'
    a = explorer.analyze("custom", spec=text)
    assert a.input_shape == (1, 28, 28) and a.rows[0].output_shape == (6, 24, 24)
    assert explorer.analyze("custom", (1, 28, 28), spec=text).totals == a.totals  # the same input: fine
    with pytest.raises(KnobError, match="declares its input as 1x28x28"):
        explorer.analyze("custom", (3, 32, 32), spec=text)  # two different inputs: which one? asked, not guessed
    for bad, why in [
        ("input_shape=(28, 28)", "three whole numbers"),
        ("input_shape=(28, 28, 1.5)", "three whole numbers"),
        ("input_shape=(0, 28, 1)", "sides from 1"),
        ("input_shape=(28, 28, 100)", "channels"),
    ]:
        with pytest.raises(SpecError, match=why):
            notation.parse(text.replace("input_shape=(28, 28, 1)", bad))
    with pytest.raises(SpecError, match="first layer only"):
        notation.parse("Conv2D(6, 5)\nFlatten(input_shape=(3, 3, 1))\nDense(10)")


def test_export_to_a_bad_path_is_one_sentence_and_loses_nothing(tmp_path):
    export = to_pytorch("resnet20")
    kept = tmp_path / "kept.py"
    kept.write_text("# the student's own file\n")
    afile = tmp_path / "afile"
    afile.write_text("x")
    cases = {
        tmp_path / "missing" / "x.py": "does not exist",
        tmp_path: "is a folder",
        afile / "x.py": "is a file, not a folder",
        tmp_path / ("a" * 300 + ".py"): "too long",
        "": "empty",
    }
    for path, why in cases.items():
        with pytest.raises(WriteError, match=why):
            write(export, path)
    if os.geteuid() != 0:  # root writes anywhere
        kept.chmod(0o444)
        with pytest.raises(WriteError, match="cannot be written"):
            write(export, kept)
        assert kept.read_text() == "# the student's own file\n"
        kept.chmod(0o644)
    assert kept.read_text() == "# the student's own file\n"
    assert write(export, kept).read_text() == export.code  # replaced whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "kept.py"]  # no temporary file left


def test_cli_export_to_a_bad_path(capsys, tmp_path):
    assert "does not exist" in _cli_error(capsys, "export", "resnet20", "-o", str(tmp_path / "no" / "x.py"))
    assert "is a folder" in _cli_error(capsys, "export", "resnet20", "-o", str(tmp_path))
    assert "too long" in _cli_error(capsys, "export", "resnet20", "-o", str(tmp_path / ("a" * 5000)))
    assert main(["export", "resnet20", "-o", str(tmp_path / "r.py")]) == 0
    assert (tmp_path / "r.py").read_text() == to_pytorch("resnet20").code


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["summary", "densenet", "--set", "block_config=6,-12,24"], "got -12"),  # not 6,12,24
        (["summary", "resnet20", "--input", "3x32.7x32"], "3x32.7x32"),  # not truncated to 32
        (["summary", "densenet", "--set", "block_config=6,,12,24"], "6,,12,24"),  # not 6,12,24
        (["summary", "densenet", "--set", "block_config=,6,12"], ",6,12"),
        (["summary", "resnet20", "--input", "3x32xx32"], "3x32xx32"),  # not 3x32x32
        (["summary", "resnet20", "--input", "３x32x32"], "３x32x32"),
        (["summary", "resnet", "--set", "depth=２０"], "whole number"),
        (["summary", "resnet", "--set", "depth=20.0"], "whole number"),
        (["summary", "resnet", "--set", "depth=1_0"], "whole number"),
        (["summary", "resnet", "--set", "depth=nan"], "whole number"),
        (["summary", "mobilenet_v1", "--set", "alpha=nan"], "expects a number"),
        (["summary", "mobilenet_v1", "--set", "alpha=-inf"], "expects a number"),
        (["summary", "mobilenet_v1", "--set", "alpha=０.5"], "expects a number"),
        (["summary", "resnet20", "--input", "-3x32x32"], "at least 1"),  # a dashed value is the option's value
        (["summary", "resnet", "--set", "-3"], "KNOB=VALUE"),
        (["summary", "resnet", "--set", f"depth={NINES}"], "5,000 characters"),
        (["summary", "resnet20", "--input", NINES], "5,000 characters"),
        (["summary", "a" * 5000], "5,000 characters"),
        (["summary", "resnet", "--set", "b" * 5000 + "=1"], "5,000 characters"),
        (["paths", "５"], "whole number"),
        (["paths", NINES], "5,000 characters"),
        (["summary", "resnet20", "--bogus"], "nrecognized arguments"),
        (["nosuch"], "invalid choice"),
        (["summary", "--spec", 'Conv2D(6, 5, name="training"), Flatten, Dense(10)'], "taken by PyTorch"),
    ],
)
def test_cli_bad_values_are_one_line_with_status_2(capsys, argv, says):
    assert says in _cli_error(capsys, *argv)


def test_good_forms_still_work():
    family = get_family("densenet")
    assert family.knob("block_config").coerce("6-12-24-16") == (6, 12, 24, 16)
    assert family.knob("block_config").coerce(" (6, 12, 24) ") == (6, 12, 24)
    assert get_family("resnet").knob("depth").coerce(" 56 ") == 56
    assert get_family("mobilenet_v1").knob("alpha").coerce("0.5") == 0.5
    assert get_family("mobilenet_v1").knob("alpha").coerce("1e-0") == 1.0
    assert parse_input_shape("3x32x32") == parse_input_shape("3,32,32") == parse_input_shape("32") == (3, 32, 32)
    assert check_input_shape((3, 32.0, 32)) == (3, 32, 32)


@pytest.mark.parametrize("shape", [(3, 32.7, 32), (3, True, 32), (3, "32", 32), (3, float("nan"), 32), (3, 32)])
def test_library_input_shapes_are_not_truncated(shape):
    with pytest.raises(ExplorerError):
        check_input_shape(shape)


def test_shorten_keeps_messages_short():
    assert shorten("abc") == "'abc'"
    long = shorten(NINES)
    assert len(long) < 60 and "5,000 characters" in long


def test_an_input_too_small_is_refused_once_then_remembered(monkeypatch):
    """The search for the smallest input traces the network several times; a rerun (or the next student) asks the
    same question and gets the same sentence without a single trace."""
    spec = "\n".join(["conv3-8", "maxpool"] * 6) + "\nFC-10"
    with pytest.raises(ShapeError) as first:
        explorer.analyze("custom", (3, 16, 16), spec=spec)
    traces = []
    monkeypatch.setattr(analyzer, "trace", lambda *a, **k: traces.append(a) or pytest.fail("traced again"))
    with pytest.raises(ShapeError) as again:
        explorer.analyze("custom", (3, 16, 16), spec=spec)
    assert str(again.value) == str(first.value) and "smallest input that works is 3x64x64" in str(again.value)
    assert again.value.min_input == first.value.min_input == 64
    assert traces == []


def test_the_search_for_the_smallest_input_builds_the_network_once(monkeypatch):
    """Eight dense blocks of 128 layers at 3x8x8 took 13 s to say 'too small' when every side tried was a new
    network; the search now traces the network the refused analysis built (3 s)."""
    built = []
    real = analyzer.meta_model
    monkeypatch.setattr(analyzer, "meta_model", lambda config: built.append(config) or real(config))
    with pytest.raises(ShapeError) as refused:
        explorer.analyze("densenet", (3, 8, 8), block_config="2,2,2,2,2,2,2,2")
    assert len(built) == 1
    config = built[0]
    assert refused.value.min_input == analyzer.smallest_input(config) == 509  # each side on a network of its own
    assert "The smallest input that works is 3x509x509." in str(refused.value)


@pytest.mark.parametrize("spelling", ["6,12,24,16", "6, 12, 24, 16", "6 12 24 16", "(6, 12, 24, 16)", "(6,12,24,16,)"])
def test_a_list_knob_is_read_the_same_in_every_usual_spelling(spelling):
    assert explorer.analyze("densenet121", block_config=spelling).knobs["block_config"] == (6, 12, 24, 16)
