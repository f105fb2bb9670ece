"""Measured latency: the machinery (every layer timed, shares, cache, cost cap, CLI keys), never the clock."""

import json

import pytest
import torch

from explorer import analyze, configure
from explorer.build import real_model
from explorer.cli import main
from explorer.errors import LimitError
from explorer.live import latency
from explorer.live.latency import Figure, layer_kind, order, rank_flips

CAP = 3.0  # seconds: small networks at small inputs, a few repeats


@pytest.fixture(scope="module")
def resnet20():
    return latency.measure("resnet20", (3, 32, 32), cap_s=CAP)


@pytest.mark.parametrize(
    "name, shape", [("resnet20", (3, 32, 32)), ("densenet40_k12", (3, 32, 32)), ("mobilenet_v1_025", (3, 64, 64))]
)
def test_every_layer_call_gets_a_measurement(name, shape):
    m = latency.measure(name, shape, cap_s=CAP)
    a = analyze(name, shape)
    called = {r.index for r in a.rows if r.call > 0}
    assert {t.row for t in m.layers} == called
    assert all(t.time.runs == m.timed_whole.runs >= latency.MIN_RUNS for t in m.layers)
    assert all(t.time.low <= t.time.median <= t.time.high for t in m.layers)


def test_shares_sum_to_the_whole(resnet20):
    m = resnet20
    between = m.between.median / m.layer_sum
    assert sum(t.share for t in m.layers) + between == pytest.approx(1.0)
    assert sum(t.mult_add_share for t in m.layers) == pytest.approx(1.0)
    kinds = m.kind_shares()
    assert sum(s for _, s in kinds.values()) + between == pytest.approx(1.0)


def test_the_timed_layers_lie_inside_their_run():
    """Each run's layer intervals are disjoint and inside the run: their sum cannot exceed the run's time."""
    config = configure("densenet40_k12", (3, 32, 32))
    model = real_model(config).eval()
    x = torch.rand(1, 3, 32, 32)
    clock = latency._LayerClock(model, torch.device("cpu"))
    with torch.inference_mode(), clock.installed():
        for _ in range(3):
            times, total = clock.run(x)
            assert 0 < sum(times.values()) <= total
    assert "forward" not in model.features.conv0.__dict__  # the wrappers are gone afterwards


def test_the_cache_returns_the_same_figures(resnet20):
    again = latency.measure("resnet20", (3, 32, 32), cap_s=CAP)
    assert again is resnet20
    assert latency.cached("resnet20", (3, 32, 32), cap_s=CAP) is resnet20
    assert latency.cached("resnet20", (3, 32, 32), threads=2, cap_s=CAP) is None  # threads are part of the key


def test_the_cost_cap_refuses_before_running():
    latency.cache_clear()
    with pytest.raises(LimitError, match="beyond the 30 s"):
        latency.measure("vgg16", (3, 900, 900))
    with pytest.raises(LimitError, match="beyond the 0.01 s"):
        latency.measure("resnet20", (3, 32, 32), cap_s=0.01)
    with pytest.raises(LimitError, match="1 to 8 threads"):
        latency.measure("resnet20", (3, 32, 32), threads=0)
    assert not latency._CACHE
    small = latency.estimate(analyze("resnet20", (3, 32, 32)))
    large = latency.estimate(analyze("vgg16", (3, 224, 224)))
    assert small.fits and large.forward_s > small.forward_s


def test_spreads_that_overlap_are_not_ranked():
    a, b, c = Figure(1.0, 0.9, 1.1, 5), Figure(1.05, 1.0, 1.2, 5), Figure(2.0, 1.9, 2.1, 5)
    assert order(a, b) == 0 and order(a, c) == -1 and order(c, a) == 1
    entries = {"few": (100, c), "many": (200, a), "near": (150, b)}
    assert rank_flips(entries) == [("few", "many"), ("few", "near")]


def test_layer_kinds_of_mobilenet():
    a = analyze("mobilenet_v1", (3, 224, 224))
    kinds = {layer_kind(r) for r in a.rows if r.kind == "conv"}
    assert kinds == {"3x3 conv", "depthwise conv", "1x1 conv"}
    depthwise = [r for r in a.rows if layer_kind(r) == "depthwise conv"]
    assert len(depthwise) == 13 and all(r.groups == r.input_shape[0] for r in depthwise)
    ones = sum(r.mult_adds for r in a.rows if layer_kind(r) == "1x1 conv") / a.totals.mult_adds
    assert ones == pytest.approx(0.95, abs=0.01)  # MobileNet Table 2: 94.86% in 1x1 convolutions


def test_peak_memory_is_measured(resnet20):
    assert resnet20.peak_activation_bytes > 0
    assert resnet20.machine.threads == 1 and resnet20.machine.torch == torch.__version__


def test_the_cli_json_keys(capsys):
    assert main(["measure", "resnet20", "--input", "3x32x32", "--cap", str(CAP), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"machine", "whole_ms", "layers", "peak_activation_bytes", "between_layers_ms", "load_average"} <= set(out)
    assert {"cpu", "threads", "torch", "device"} <= set(out["machine"])
    assert {"median", "low", "high", "runs"} == set(out["whole_ms"])
    assert {"name", "kind", "ms", "share", "mult_adds_per_second"} <= set(out["layers"][0])


def test_the_cli_refuses_in_one_sentence(capsys):
    assert main(["measure", "vgg16", "--input", "3x900x900"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
