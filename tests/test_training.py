"""The training loop (seeded, progress, freezing) and the disk cache (keys, atomic writes, weights_only)."""

import json
import threading

import pytest
import torch
from torch import nn

from explorer.errors import ExperimentError
from explorer.live import cache as disk
from explorer.live import training


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(disk.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def tiny_data(n=96):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    x = torch.rand(n, 1, 6, 6, generator=g) * 0.6 + 0.4 * y.view(-1, 1, 1, 1)  # class 1 is brighter
    return x, y


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(64, 2))


def test_the_same_seed_trains_the_same_weights():
    x, y = tiny_data()
    a, b = tiny_model(), tiny_model()
    training.train(a, x, y, epochs=2, seed=1)
    training.train(b, x, y, epochs=2, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    c = tiny_model()
    training.train(c, x, y, epochs=2, seed=2)  # another batch order
    assert not torch.equal(a[0].weight, c[0].weight)


def test_progress_reports_every_step_and_the_history_every_epoch():
    x, y = tiny_data(100)
    seen = []
    history = training.train(tiny_model(), x, y, epochs=3, batch_size=32, progress=seen.append, stage="tiny")
    assert len(seen) == 3 * 4 and [h["epoch"] for h in history] == [1, 2, 3]
    assert seen[-1].fraction == 1.0 and seen[0].stage == "tiny"
    assert all(a.fraction < b.fraction for a, b in zip(seen, seen[1:]))
    assert all(0 <= p.accuracy <= 1 and p.loss > 0 for p in seen)
    halves = []
    training.train(tiny_model(), x, y, epochs=1, batch_size=50, progress=training.as_part(halves.append, 2, 2))
    assert [p.overall for p in halves] == [0.75, 1.0]


def test_training_learns_and_evaluate_is_a_fraction():
    x, y = tiny_data(200)
    model = tiny_model()
    before = training.evaluate(model, x, y)
    training.train(model, x, y, epochs=8, lr=0.05)
    after = training.evaluate(model, x, y)
    assert 0 <= before <= 1 and after > max(before, 0.85)


def test_frozen_parameters_and_their_batch_norm_statistics_stay_unchanged():
    x, y = tiny_data()
    model = tiny_model()
    for p in list(model[0].parameters()) + list(model[1].parameters()):
        p.requires_grad_(False)
    frozen = {k: v.clone() for k, v in model.state_dict().items() if k.startswith(("0.", "1."))}
    head = model[4].weight.clone()
    training.train(model, x, y, epochs=2)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in frozen.items())
    assert not torch.equal(model[4].weight, head)


def test_bad_training_requests_are_one_sentence():
    x, y = tiny_data()
    with pytest.raises(ExperimentError, match="at least one epoch"):
        training.train(tiny_model(), x, y, epochs=0)
    model = tiny_model()
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ExperimentError, match="frozen"):
        training.train(model, x, y, epochs=1)


def test_cache_keys_follow_the_settings_not_their_spelling():
    a = disk.cache_key("k", {"depth": 20, "sizes": (1, 2), "name": "x"})
    assert a == disk.cache_key("k", {"name": "x", "sizes": [1, 2], "depth": 20})
    assert a != disk.cache_key("k", {"name": "x", "sizes": [1, 2], "depth": 26})
    assert a != disk.cache_key("other", {"name": "x", "sizes": [1, 2], "depth": 20})


def _fit(model):
    x, y = tiny_data()
    return {"history": training.train(model, x, y, epochs=1)}


def test_a_second_call_loads_the_weights_instead_of_training(cache):
    calls = training.TRAIN_CALLS
    first, info, hit = disk.cached_model("tiny", {"seed": 0}, tiny_model, _fit)
    assert not hit and training.TRAIN_CALLS == calls + 1
    second, info2, hit2 = disk.cached_model("tiny", {"seed": 0}, tiny_model, _fit)
    assert hit2 and training.TRAIN_CALLS == calls + 1 and info2 == info
    assert all(torch.equal(p, q) for p, q in zip(first.state_dict().values(), second.state_dict().values()))
    assert disk.is_cached("tiny", {"seed": 0}) and not disk.is_cached("tiny", {"seed": 1})
    files = sorted(p.suffix for p in (cache / "tiny").iterdir())
    assert files == [".json", ".pt"]  # no temporary files left behind


def test_unreadable_or_unsafe_weights_are_retrained_not_loaded(cache):
    disk.cached_model("tiny", {"seed": 0}, tiny_model, _fit)
    state_file = next((cache / "tiny").glob("*.pt"))
    state_file.write_bytes(b"truncated")
    calls = training.TRAIN_CALLS
    _, _, hit = disk.cached_model("tiny", {"seed": 0}, tiny_model, _fit)
    assert not hit and training.TRAIN_CALLS == calls + 1
    # a file holding an arbitrary object: weights_only=True refuses it, so it is replaced by training
    torch.save({"payload": threading.Lock}, state_file)
    _, _, hit = disk.cached_model("tiny", {"seed": 0}, tiny_model, _fit)
    assert not hit and training.TRAIN_CALLS == calls + 2


def test_cached_json_and_concurrent_writers(cache):
    calls = []
    result, hit = disk.cached_json("r", {"a": 1}, lambda: calls.append(1) or {"value": 1})
    again, hit2 = disk.cached_json("r", {"a": 1}, lambda: calls.append(1) or {"value": 2})
    assert (result, hit, again, hit2, len(calls)) == ({"value": 1}, False, {"value": 1}, True, 1)

    big = [{"value": i, "padding": "x" * 200_000} for i in range(8)]
    threads = [threading.Thread(target=disk.save_json, args=("w", {"k": 1}, b)) for b in big]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = disk.load_json("w", {"k": 1})
    assert stored in big  # one writer's complete file, never a mix
    assert [p.name for p in (cache / "w").iterdir() if p.name.startswith(".")] == []
    json_file = next((cache / "w").glob("*.json"))
    assert json.loads(json_file.read_text())["settings"] == {"k": 1}


def test_a_failed_write_leaves_nothing_behind(cache):
    def boom(_f):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        disk._write_atomic(cache / "x" / "file.json", boom)
    assert list((cache / "x").iterdir()) == []


def test_evaluate_accepts_a_model_without_parameters():
    """A quantized model keeps its weights in buffers: evaluate must not need model.parameters()."""
    logits = torch.tensor([[2.0, 0.0], [0.0, 3.0], [1.0, 0.0]]).view(3, 1, 1, 2)
    assert training.device_of(nn.Flatten()) == torch.device("cpu")
    assert training.evaluate(nn.Flatten(), logits, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)


def test_recomputed_batchnorm_statistics_are_the_data_s_and_frozen_layers_keep_theirs():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Conv2d(3, 2, 1), nn.BatchNorm2d(2))
    for p in list(model[0].parameters()) + list(model[1].parameters()):
        p.requires_grad = False  # the first convolution and its batch norm are frozen
    frozen_mean = model[1].running_mean.clone()
    x = torch.rand(50, 1, 8, 8) * 3 + 1
    training.recompute_batchnorm(model, x, batch_size=10)  # equal batches: the average of their means is exact
    assert torch.equal(model[1].running_mean, frozen_mean)
    with torch.no_grad():
        before_last = model[:4](x)
    assert torch.allclose(model[4].running_mean, before_last.mean(dim=(0, 2, 3)), atol=1e-5)
    assert torch.allclose(model[4].running_var, before_last.var(dim=(0, 2, 3)), rtol=0.05)  # per-batch variances
    assert model[4].momentum == 0.1 and not model.training


def test_evaluate_runs_a_model_without_parameters():
    class Parity(nn.Module):  # like an int8 model: no nn.Parameter at all
        def forward(self, x):
            return torch.stack([x.sum((1, 2, 3)) < 0, x.sum((1, 2, 3)) >= 0], 1).float()

    x = torch.randn(20, 1, 2, 2)
    assert training.evaluate(Parity(), x, (x.sum((1, 2, 3)) >= 0).long()) == 1.0
