"""python -m explorer: list, summary, JSON, and one-sentence errors with exit status 2."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_list_shows_families_presets_and_knobs():
    out = run("list")
    assert out.returncode == 0
    for word in ("vgg", "resnet", "densenet", "seed_cnn", "growth_rate", "vgg16", "resnet1202", "kernels1"):
        assert word in out.stdout
    data = json.loads(run("list", "--json").stdout)
    assert "resnet56" in data["resnet"]["presets"] and data["vgg"]["knobs"][0]["name"] == "config"


def test_summary_json_keys_and_values():
    out = run("summary", "vgg16", "--input", "3x224x224", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["total_params"] == 138_357_544 and d["input_shape"] == [3, 224, 224] and d["output_shape"] == [1000]
    assert {"name", "knobs", "trainable_params", "mult_adds", "layers"} <= set(d)
    assert d["layers"][0]["name"] == "block1.conv1"


def test_summary_with_set_and_text():
    out = run("summary", "resnet", "--set", "depth=56", "--set", "stem=cifar", "--set", "num_classes=10")
    assert out.returncode == 0, out.stderr
    assert "Total params: 853,018" in out.stdout and "layer3.8.conv2 (Conv2d)" in out.stdout


def test_errors_are_one_sentence_on_stderr_with_status_2():
    for args, words in [
        (("summary", "resnet", "--set", "depth=57", "--set", "stem=cifar"), "6n+2"),
        (("summary", "vgg16", "--input", "3x16x16"), "3x32x32"),
        (("summary", "vgg16", "--set", "nope=1"), "has no knob"),
        (("summary", "vgg61"), "Did you mean"),
        (("summary", "vgg16", "--set", "width"), "KNOB=VALUE"),
    ]:
        out = run(*args)
        assert out.returncode == 2, args
        assert out.stdout == "" and words in out.stderr and out.stderr.count("\n") == 1, out.stderr
        assert "Traceback" not in out.stderr
