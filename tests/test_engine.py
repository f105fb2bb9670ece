"""The engine on any nn.Module: a corpus of models written here, each checked against torch.utils.flop_counter
(run for real, on CPU) and sum(p.numel()); the arithmetic fast paths against a plain meta forward; the input and
size checks of analyze and build."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import explorer
from explorer import cli
from explorer.analysis import analyzer
from explorer.analysis.trace import trace
from explorer.build import meta_model
from explorer.errors import ExplorerError, KnobError, LimitError, ShapeError
from explorer.families.densenet import compressed
from explorer.registry import all_presets, configure


class Branches(nn.Module):  # two branches, an add and a concat, in-place ReLU
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.a = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.b = nn.Conv2d(16, 16, 1)
        self.head = nn.Linear(32 * 8 * 8, 10)

    def forward(self, x):
        x = F.max_pool2d(self.stem(x), 2)
        y = self.a(x)
        y += self.b(x)  # in place
        z = torch.cat([y, x], 1)
        return self.head(F.avg_pool2d(z, 2).flatten(1))


class SharedWeights(nn.Module):  # one module called twice; one weight tied between two layers
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.enc = nn.Linear(8, 20)
        self.dec = nn.Linear(20, 8)
        self.dec2 = nn.Linear(20, 8, bias=False)
        self.dec2.weight = self.dec.weight
        self.first = nn.Conv2d(3, 8, 1)

    def forward(self, x):
        x = self.conv(self.conv(self.first(x)))
        x = x.mean((2, 3))
        h = self.enc(x)
        return self.dec(h) + self.dec2(h)


class Functional(nn.Module):  # weights held by a container and used by functional calls
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(12, 3, 3, 3))
        self.proj = nn.Parameter(torch.randn(12, 5))
        self.register_buffer("scale", torch.ones(1, 12, 1, 1))
        self.bn = nn.BatchNorm2d(12)

    def forward(self, x):
        x = self.bn(F.conv2d(x, self.w, stride=2, padding=1)) * self.scale
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return torch.matmul(x, self.proj)


class Separable(nn.Module):  # depthwise and grouped convolutions, a lazy layer
    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(3, 3, 3, groups=3, padding=1, bias=False)
        self.pw = nn.Conv2d(3, 32, 1)
        self.grouped = nn.Conv2d(32, 64, 3, stride=2, groups=4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.LazyLinear(7)

    def forward(self, x):
        return self.fc(self.pool(F.relu_(self.grouped(self.pw(self.dw(x))))).flatten(1))


class Attention(nn.Module):  # a layer the engine does not derive: measured
    def __init__(self):
        super().__init__()
        self.embed = nn.Conv2d(3, 16, 4, stride=4)
        self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        t = self.embed(x).flatten(2).transpose(1, 2)
        t, _ = self.attn(t, t, t)
        return self.fc(torch.einsum("btc->bc", t))


class ReadsLayerWeights(nn.Module):  # a forward that reads its layers' own weights and buffers
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        y = self.bn(self.conv(x)) + F.conv2d(x, self.conv.weight, padding=1)  # the conv's weight, once more
        y = y * self.bn.running_var.view(1, -1, 1, 1)
        return F.linear(y.mean((2, 3)), self.fc.weight) + self.fc(y.mean((2, 3)))


CORPUS = [
    (Branches, (3, 32, 32)),
    (SharedWeights, (3, 16, 16)),
    (Functional, (3, 20, 20)),
    (Separable, (3, 24, 24)),
    (Attention, (3, 16, 16)),
    (ReadsLayerWeights, (3, 12, 12)),
]


def flop_counter_mult_adds(model, shape) -> int:
    # train mode: in eval mode nn.MultiheadAttention takes a fused fast path that flop_counter does not count
    # (it reports 0 for the attention); the counts do not depend on the mode otherwise
    model.train()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, *shape))
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("make,shape", CORPUS, ids=[m.__name__ for m, _ in CORPUS])
def test_any_module_agrees_with_flop_counter_and_numel(make, shape):
    torch.manual_seed(0)
    model = make()
    a = explorer.analyze(model, shape)
    if any(isinstance(m, nn.modules.lazy.LazyModuleMixin) for m in model.modules()):
        model(torch.randn(1, *shape))  # the user's copy stays lazy; materialise it to count by hand
    assert a.totals.params == sum(p.numel() for p in model.parameters())
    assert sum(r.params for r in a.rows) == a.totals.params  # shared weights once, functional weights kept
    assert a.totals.buffers == sum(b.numel() for b in model.buffers())
    assert a.totals.mult_adds == flop_counter_mult_adds(model, shape)
    with torch.no_grad():
        assert a.output_shape == tuple(model.eval()(torch.randn(1, *shape)).shape[1:])


def test_the_users_weights_are_untouched_and_an_example_input_works():
    model = Branches()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    a = explorer.analyze(model, torch.randn(2, 3, 32, 32))
    assert a.input_shape == (3, 32, 32) and a.family == "module"
    assert all(not t.is_meta for t in model.state_dict().values())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training


@pytest.mark.parametrize("make,shape", CORPUS, ids=[m.__name__ for m, _ in CORPUS])
def test_layers_derived_by_arithmetic_keep_their_weights_and_the_rows_do_not_change(make, shape, monkeypatch):
    torch.manual_seed(0)
    model = make()
    quick = explorer.analyze(model, shape)  # derived layers' tensors left where they are
    monkeypatch.setattr(analyzer, "arithmetic_leaf", lambda module: False)
    everything_on_meta = explorer.analyze(model, shape)
    assert [vars(r) for r in quick.rows] == [vars(r) for r in everything_on_meta.rows]  # rows compare by identity
    assert quick.totals == everything_on_meta.totals


def test_a_built_network_is_traced_without_swapping_its_derived_layers_weights(monkeypatch):
    model = explorer.build("resnet20")
    seen = []
    real_trace = analyzer.trace

    def watched(m, *args, **kwargs):
        seen.append([p.is_meta for p in m.parameters()] + [b.is_meta for b in m.buffers()])
        return real_trace(m, *args, **kwargs)

    monkeypatch.setattr(analyzer, "trace", watched)
    a = explorer.analyze(model, (3, 32, 32))
    assert len(seen) == 1 and not any(seen[0])  # one trace, every tensor left as it was
    assert a.totals.params == sum(p.numel() for p in model.parameters())


def test_shared_module_and_tied_weight_rows():
    a = explorer.analyze(SharedWeights(), (3, 16, 16))
    calls = [r for r in a.rows if r.name == "conv"]
    assert [r.call for r in calls] == [1, 2] and calls[1].params == 0 and calls[1].shared_with == calls[0].index
    dec2 = next(r for r in a.rows if r.name == "dec2")
    assert dec2.params == 0  # its weight is dec's, counted there


def test_unknown_operations_are_measured_and_marked():
    a = explorer.analyze(Attention(), (3, 16, 16))
    attn = [r for r in a.rows if r.name.startswith("attn") and r.flop_counted]  # F.multi_head_attention_forward
    assert attn and all(r.mult_adds > 0 for r in attn)
    assert a.totals.measured_mult_adds == sum(r.mult_adds for r in attn)
    functional = explorer.analyze(Functional(), (3, 20, 20))
    conv = next(r for r in functional.rows if r.type == "conv2d")
    assert conv.flop_counted and conv.params == 12 * 3 * 3 * 3


def test_family_rows_are_never_measured():
    a = explorer.analyze("resnet18", (3, 224, 224))
    assert not any(r.flop_counted for r in a.rows) and a.totals.measured_mult_adds == 0


def test_a_module_that_cannot_take_the_input_says_so():
    with pytest.raises(ShapeError, match="cannot take"):
        explorer.analyze(Branches(), (3, 7, 7))
    with pytest.raises(KnobError):
        explorer.analyze(Branches(), "3x32x32")
    with pytest.raises(KnobError):
        explorer.analyze(Branches(), (3, 32, 32), depth=3)


@pytest.mark.parametrize("bad", [123, None, 3.5, ["vgg16"]])
def test_analyze_and_build_check_the_name_type(bad):
    for call in (explorer.analyze, explorer.build):
        with pytest.raises(ExplorerError, match="family or preset name"):
            call(bad)


def test_build_refuses_weights_above_the_cap():
    with pytest.raises(LimitError, match="GiB"):
        explorer.build("vgg16", (3, 224, 224), max_bytes=100 * 2**20)  # 528 MB of weights


@pytest.mark.parametrize("preset", sorted(all_presets()))
def test_arithmetic_shapes_agree_with_a_plain_meta_forward(preset):
    config = configure(preset)
    model = meta_model(config)
    shapes = {}

    def record(name):
        def hook(module, args, out):
            shapes.setdefault(name, tuple(out.shape[1:]))

        return hook

    hooks = [
        m.register_forward_hook(record(n))
        for n, m in model.named_modules()
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d))
    ]
    model.eval()
    with torch.no_grad():
        model(torch.empty(1, *config.input_shape, device="meta"))
    for h in hooks:
        h.remove()
    tr = trace(meta_model(config), config.input_shape)
    traced = {c.name: c.output_shape for c in tr.calls if c.call == 1 and c.module is not None}
    assert {n: traced[n] for n in shapes} == shapes


def test_densenet_compression_is_floored_exactly():
    for theta in (0.35, 0.5, 0.7, 0.1, 1.0):
        for m in range(1, 600):
            num, den = {0.35: (35, 100), 0.5: (1, 2), 0.7: (7, 10), 0.1: (1, 10), 1.0: (1, 1)}[theta]
            assert compressed(theta, m) == num * m // den


def test_googlenet_torchvision_pools_before_5a_with_2x2():
    at = {p: explorer.analyze(p, (3, 240, 240)) for p in ("googlenet", "googlenet_torchvision")}
    side = {p: next(r for r in a.rows if r.name == "pool4").output_shape[1] for p, a in at.items()}
    assert side == {"googlenet": 7, "googlenet_torchvision": 8}  # 15x15 maps: 3x3/2 ceil -> 7, 2x2/2 ceil -> 8
    same = [explorer.analyze(p, (3, 224, 224)).totals.mult_adds for p in ("googlenet_torchvision",)]
    assert same[0] == explorer.analyze("googlenet_torchvision", (3, 224, 224), pool4_kernel=3).totals.mult_adds


def test_resnet_original_bottleneck_subsamples_on_the_first_1x1():
    v15 = explorer.analyze("resnet50", (3, 224, 224))
    v1 = explorer.analyze("resnet50", (3, 224, 224), stride_on="1x1")
    assert v1.totals.params == v15.totals.params and v1.totals.mult_adds < v15.totals.mult_adds
    row = next(r for r in v1.rows if r.name == "layer2.0.conv1")
    assert row.stride == (2, 2) and next(r for r in v1.rows if r.name == "layer2.0.conv2").stride == (1, 1)


def test_nasnet_cifar_has_no_stem_cells_and_keeps_32x32_into_the_first_cell():
    a = explorer.analyze("nasnet_a_cifar")
    assert not any(r.name.startswith("cell_stem") for r in a.rows)
    assert next(r for r in a.rows if r.name == "cell_0.conv_1x1.conv").input_shape == (96, 32, 32)


USER_MODELS = """
from torch import nn


def make():
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))


def broken():
    raise ValueError("no such layer")


def not_a_module():
    return 42
"""


@pytest.fixture
def user_models(tmp_path, monkeypatch):
    (tmp_path / "engine_user_models.py").write_text(USER_MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "engine_user_models"


def test_cli_summary_imports_the_users_factory(user_models, capsys):
    assert cli.main(["summary", f"{user_models}:make", "--input", "3x10x10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(512, 10))
    assert out["total_params"] == sum(p.numel() for p in model.parameters())
    assert out["buffers"] == sum(b.numel() for b in model.buffers())
    assert out["mult_adds"] == flop_counter_mult_adds(model, (3, 10, 10))


@pytest.mark.parametrize(
    "target,words",
    [
        (":broken", "raised ValueError"),
        (":not_a_module", "not a torch.nn.Module"),
        (":nosuch", "has no function"),
        ("nosuchpackage_xyz:make", "Cannot import"),
        ("1bad:make", "package.module:factory"),
    ],
)
def test_cli_summary_user_errors_are_one_sentence(user_models, capsys, target, words):
    target = user_models + target if target.startswith(":") else target
    assert cli.main(["summary", target, "--input", "3x10x10"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and err.count("\n") == 1
