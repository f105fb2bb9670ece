"""Export as PyTorch: the generated code runs, has our parameters, and computes our outputs."""

import runpy
import subprocess
import sys

import pytest
import torch

import explorer
from explorer import all_presets
from explorer.build import meta_model as build_meta
from explorer.labs.export import to_pytorch

TRICKY_SPEC = (
    "Conv2D(6, 5, strides=2, padding='same', name='first \"conv\" <b>*x*</b> # not a comment')\n"
    "MaxPooling2D(3, strides=2, padding='same'), BatchNormalization, conv3-8, LRN\n"
    "DepthwiseConv2D(3, depth_multiplier=2, padding=1, use_bias=False), GlobalAveragePooling2D\n"
    "Dense(32, activation='tanh'), Dropout(0.25), Dense(10, activation='softmax')"
)


def _load(code: str, tmp_path, name="exported"):
    path = tmp_path / f"{name}.py"
    path.write_text(code)
    return runpy.run_path(str(path), run_name="exported")  # a fresh namespace; not __main__, so nothing runs


@pytest.mark.parametrize("name", sorted(all_presets()))
def test_every_preset_exports_code_with_our_parameter_count(name, tmp_path):
    analysis = explorer.analyze(name)
    export = to_pytorch(name)
    namespace = _load(export.code, tmp_path)
    with torch.device("meta"):
        model = namespace["build_model"]().eval()
        out = model(torch.empty(1, *analysis.input_shape))
    assert sum(p.numel() for p in model.parameters()) == analysis.totals.params
    assert tuple(out.shape[1:]) == analysis.output_shape
    # networks made of nothing but nn.Sequential containers export as one; the others as a traced module
    built = build_meta(explorer.configure(name))
    containers = [m for m in built.modules() if next(m.children(), None) is not None]
    plain = all(type(m) is torch.nn.Sequential for m in containers)
    assert export.form == ("sequential" if plain else "module")


@pytest.mark.parametrize(
    "name,shape,knobs",
    [
        ("vgg11_bn", None, {}),
        ("lecture_exercise", None, {}),
        ("resnet20", None, {}),
        ("densenet40_k12", None, {}),
        ("resnet", (3, 64, 64), {"depth": 50, "width": 8, "num_classes": 7}),
        ("custom", (3, 33, 30), {"spec": TRICKY_SPEC}),
    ],
)
def test_the_exported_model_computes_our_outputs(name, shape, knobs, tmp_path):
    torch.manual_seed(0)
    ours = explorer.build(name, shape, **knobs).eval()
    analysis = explorer.analyze(name, shape, **knobs)
    export = to_pytorch(name, shape, **knobs)
    theirs = _load(export.code, tmp_path)["build_model"]().eval()
    state = ours.state_dict()
    if export.form == "module":  # nested names joined with '_': layer1.0.conv1.weight -> layer1_0_conv1.weight
        state = {k.rsplit(".", 1)[0].replace(".", "_") + "." + k.rsplit(".", 1)[1]: v for k, v in state.items()}
    theirs.load_state_dict(state, strict=True)
    x = torch.randn(2, *analysis.input_shape)
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(x), atol=1e-5)


def test_the_exported_file_runs_as_a_script_and_prints_our_numbers(tmp_path):
    analysis = explorer.analyze("custom", spec=TRICKY_SPEC)
    path = tmp_path / "net.py"
    path.write_text(to_pytorch("custom", spec=TRICKY_SPEC).code)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"parameters: {analysis.totals.params:,}" in out.stdout
    assert f"output shape: {analysis.output_shape}" in out.stdout


def test_user_text_is_a_string_literal_never_code(tmp_path):
    code = to_pytorch("custom", spec=TRICKY_SPEC).code
    assert "('first \"conv\" <b>*x*</b> # not a comment', nn.Conv2d(3, 6, 5, stride=2))" in code
    model = _load(code, tmp_path)["build_model"]()
    assert 'first "conv" <b>*x*</b> # not a comment' in dict(model.named_children())
    compile(code, "exported.py", "exec")  # and the whole file is valid Python


def test_the_cli_prints_or_writes_the_code(tmp_path):
    target = tmp_path / "resnet20.py"
    out = subprocess.run(
        [sys.executable, "-m", "explorer", "export", "resnet20", "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(explorer.__path__[0] + "/.."),
    )
    assert out.returncode == 0, out.stderr
    assert "class Resnet20(nn.Module)" in target.read_text()
    bad = subprocess.run(
        [sys.executable, "-m", "explorer", "export", "--spec", "conv3-64, FC-x"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(explorer.__path__[0] + "/.."),
    )
    assert bad.returncode == 2 and "line 1, column 14: expected a number of units after 'FC-', found 'x'" in bad.stderr
