"""The layer-removal experiment and the path-gradient measurement on real trained networks, and their CLI.

One small setting is trained once (about 20 s on two cores) into a cache shared by the whole session,
so later tests and the CLI test load it instead of training again.
"""

import itertools
import json

import pytest
import torch
from test_data import write_cifar

from explorer import analyze
from explorer.cli import main
from explorer.errors import KnobError, UnknownNameError
from explorer.experiments import get_experiment, run_experiment
from explorer.experiments.layer_removal import build, deleted_accuracy, findings, single_deletions
from explorer.experiments.path_gradients import carrying_range, path_gradient
from explorer.live import cache, data, training
from helpers import run_cli, set_args

pytestmark = pytest.mark.slow
# Measured on the CI machine: at this setting the residual net's median drop is 2-5 points and the
# plain net's 44-62 points over seeds 0-2 (the lecture's effect with a wide margin); it trains in ~20 s.
SMALL = {"depth": 32, "width": 16, "epochs": 3, "seed": 0, "draws": 2}


@pytest.fixture(scope="module")
def small(cache_dir):
    return run_experiment("layer-removal", SMALL)


def test_residual_net_survives_one_deletion_and_the_plain_net_does_not(small):
    r = small.result
    res, plain = r["residual"], r["plain"]
    assert len(r["blocks"]) == len(res["deleted"]) == len(plain["deleted"]) == 15
    assert [b["index"] for b in r["blocks"] if b["downsampling"]] == [5, 10]
    for value in [res["full_accuracy"], plain["full_accuracy"], *res["deleted"], *plain["deleted"]]:
        assert 0 <= value <= 1
    assert res["full_accuracy"] > 0.9
    assert res["median_drop"] < 0.1 < 0.3 < plain["median_drop"]
    assert res["median_drop"] < plain["median_drop"] / 3
    # deleting k random blocks: the more blocks go, the lower the residual net's mean accuracy
    means = res["random"]["mean"]
    assert means[0] > means[-1] and res["random"]["k"][-1] == 15
    assert r["random_sets"]["1"] and all(len(s) == 1 for s in r["random_sets"]["1"])


def test_a_second_run_loads_from_the_cache_without_training(small):
    calls = training.TRAIN_CALLS
    again = run_experiment("layer-removal", {k: str(v) for k, v in SMALL.items()})  # CLI-style strings
    assert again.from_cache and training.TRAIN_CALLS == calls
    assert again.result == small.result


def test_the_same_seed_gives_the_same_figures_without_any_cache(tmp_path, monkeypatch):
    tiny = {"depth": 8, "width": 4, "epochs": 1, "draws": 2, "seed": 7}
    results = []
    for folder in ("one", "two"):  # two empty caches: both train from scratch
        monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / folder))
        outcome = run_experiment("layer-removal", tiny)
        assert not outcome.from_cache
        results.append(outcome.result)
    strip = ("train_seconds", "eval_seconds")
    same = [
        {net: {k: v for k, v in r[net].items() if k not in strip} for net in ("residual", "plain")} for r in results
    ]
    assert same[0] == same[1] and results[0]["random_sets"] == results[1]["random_sets"]
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "three"))
    other = run_experiment("layer-removal", {**tiny, "seed": 8}).result
    assert other["residual"]["history"] != results[0]["residual"]["history"]


def test_the_shortcut_for_single_deletions_equals_deleting_each_block(cache_dir):
    d = data.load("digits", size=16, n_test=60)
    for residual in (True, False):
        model = build(14, 4, residual, 1, 10, seed=1).eval()
        with torch.no_grad():  # move the batch-norm statistics away from their initial values
            model.train()
            model(d.train_x[:64])
        model.eval()
        assert single_deletions(model, d) == [deleted_accuracy(model, d, [i]) for i in range(len(model.blocks))]


def test_deleting_a_block_keeps_the_skip_or_stands_in_the_identity():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 16, 16)
    for residual in (True, False):
        model = build(14, 4, residual, 3, 10, 0, side=16).eval()
        y0 = model.stem(x)
        y1 = model.blocks[0](y0)
        # block 1 (index 1) keeps its shape: deleting it is the identity, for both networks
        expected = model.head(model.run_blocks(y1, start=2))
        assert torch.allclose(model.lesioned(x, removed={1}), expected)
        # the downsampling block (index 2) is replaced by the parameter-free option-A shortcut
        y2 = model.blocks[1](y1)
        skipped = model.blocks[2].skip(y2)
        assert skipped.shape == (4, 8, 8, 8) and torch.equal(skipped[:, :2], torch.zeros(4, 2, 8, 8))


def test_the_gradients_of_all_paths_add_up_to_the_full_gradient():
    """Backpropagation is linear: the 2^N single-path gradients sum to the ordinary gradient (Veit et al.)."""
    torch.manual_seed(0)
    model = build(8, 4, True, 1, 10, 0, side=16).eval()  # 3 blocks: 8 paths
    x, y = torch.rand(5, 1, 16, 16), torch.tensor([0, 1, 2, 3, 4])

    def grad(routes):
        y0 = model.stem(x).detach().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model.head(model.run_blocks(y0, routes=routes)), y, reduction="sum")
        return torch.autograd.grad(loss, y0)[0]

    total = sum(grad(list(r)) for r in itertools.product(("branch", "skip"), repeat=3))
    assert torch.allclose(total, grad(None), atol=1e-6)
    assert path_gradient(model, x, y, ["skip"] * 3) == pytest.approx(
        float(grad(["skip"] * 3).flatten(1).norm(dim=1).mean())
    )


def test_carrying_range_is_the_shortest_run_with_the_wanted_share():
    assert carrying_range([0.05, 0.5, 0.4, 0.05]) == (1, 2)
    assert carrying_range([0.3, 0.3, 0.3, 0.1]) == (0, 2)
    assert carrying_range([1.0]) == (0, 0)


def test_short_paths_carry_the_gradient_of_the_trained_network(small):
    calls = training.TRAIN_CALLS
    out = run_experiment("path-gradients", {**{k: v for k, v in SMALL.items() if k != "draws"}, "samples": 4})
    assert training.TRAIN_CALLS == calls  # the layer-removal experiment's residual network, from the cache
    r = out.result
    assert r["blocks"] == 15 and sum(r["paths"]) == 2**15 and sum(r["share"]) == pytest.approx(1)
    assert r["magnitude"][0] > 10 * r["magnitude"][-1]  # a single path's gradient decays with its length
    assert r["peak"] < r["mean_length"]  # the gradient comes from paths shorter than the typical path
    high = r["range"]["high"]
    assert r["range"]["gradient_share"] >= 0.9 and r["range"]["path_share"] < 1 and high < 15


def test_knobs_are_checked_before_anything_runs(cache_dir):
    with pytest.raises(KnobError, match="6n\\+2"):
        run_experiment("layer-removal", {"depth": 9})  # within the knob's range, but not 6n+2
    with pytest.raises(KnobError, match="between 8 and 56"):
        run_experiment("layer-removal", {"depth": 62})
    with pytest.raises(KnobError, match="no knob 'lr'"):
        run_experiment("layer-removal", {"lr": 0.1})
    with pytest.raises(UnknownNameError, match="did you mean 'layer-removal'"):
        get_experiment("layer-remova")


def test_a_local_cifar10_folder_trains_and_joins_the_cache_key(tmp_path, cache_dir):

    write_cifar(tmp_path / "a")
    write_cifar(tmp_path / "b", per_batch=6)
    tiny = {"dataset": "cifar10", "depth": 8, "width": 4, "epochs": 1, "draws": 1}
    first = run_experiment("layer-removal", tiny, data_dir=str(tmp_path / "a"))
    assert first.result["dataset"]["train"] == 20 and first.result["dataset"]["input_shape"] == [3, 16, 16]
    other = run_experiment("layer-removal", tiny, data_dir=str(tmp_path / "b"))  # another folder: not cached
    assert not other.from_cache and other.result["dataset"]["train"] == 30


def test_cli_experiment_json_loads_the_cached_networks(small, cache_dir):
    sets = set_args(SMALL)
    out = run_cli("experiment", "layer-removal", *sets, "--json", cache=cache_dir)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    for net in ("residual", "plain"):
        assert d[net]["full_accuracy"] == small.result[net]["full_accuracy"]
        assert d[net]["deleted"] == small.result[net]["deleted"] and len(d[net]["deleted"]) == 15
    text = run_cli("experiment", "layer-removal", *sets, cache=cache_dir)
    assert "without layer2.0 (downsampling)" in text.stdout and "loaded from the cache" in text.stdout
    listing = run_cli("experiment", "list", cache=cache_dir)
    assert listing.returncode == 0, listing.stderr
    assert "--set trained=  bool, true or false, default true" in listing.stdout
    assert "layer-removal" in listing.stdout and "path-gradients" in listing.stdout and "--set depth=" in listing.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (("experiment", "layer-removal", "--set", "depth=20x"), "depth"),
        (("experiment", "layer-removal", "--set", "dataset=cifar10"), "CIFAR-10 needs a local folder"),
        (("experiment", "layer-removal", "--set", "dataset=cifar10", "--data-dir", "/nonexistent"), "data root"),
        (("experiment", "nonsense"), "no experiment 'nonsense'"),
    ],
)
def test_cli_experiment_errors_are_one_sentence_with_status_2(tmp_path, monkeypatch, capsys, args, words):

    monkeypatch.delenv(data.CIFAR10_ENV, raising=False)
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    assert main(list(args)) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and words in err


def test_the_trained_networks_are_the_registry_s_resnet_and_can_be_analysed():
    """One CIFAR ResNet: the experiment's networks are the resnet family's, so the analysis describes them."""
    residual, plain = (build(14, 4, r, 3, 10, 0) for r in (True, False))
    a_res = analyze("resnet", (3, 32, 32), depth=14, stem="cifar", width=4, shortcut="A", num_classes=10)
    a_plain = analyze("resnet", (3, 32, 32), depth=14, stem="cifar", width=4, shortcut="plain", num_classes=10)
    for model, a in ((residual, a_res), (plain, a_plain)):
        assert sum(p.numel() for p in model.parameters()) == a.totals.params
        assert list(model.block_names) == [n for n in dict(model.named_modules()) if n.count(".") == 1]
    adds = [sum(r.type == "(+) add" for r in a.rows) for a in (a_res, a_plain)]
    assert adds == [6, 0]  # y = f(x) + x in each of the six blocks, and none in the plain twin
    assert a_res.totals.params == a_plain.totals.params  # option A has no parameters: the twins match
    assert all(torch.equal(p, q) for p, q in zip(residual.parameters(), plain.parameters()))  # same initial weights


def _removal_result(plain_epochs: int):
    def net(full, deleted, epochs):
        return {
            "full_accuracy": full,
            "deleted": deleted,
            "median_drop": full - sorted(deleted)[len(deleted) // 2],
            "random": {"k": [1, 2], "mean": [0.9, 0.8]},
            "params": 1000,
            "history": [{"epoch": e} for e in range(epochs)],
        }

    blocks = [{"index": i, "name": f"layer1.{i}", "downsampling": False} for i in range(3)]
    return {
        "residual": net(0.95, [0.94, 0.93, 0.9], 3),
        "plain": net(0.9, [0.2, 0.1, 0.15], plain_epochs),
        "blocks": blocks,
        "dataset": {"chance": 0.1},
    }


def test_the_page_says_whether_the_two_networks_had_the_same_budget():
    fair = " ".join(findings(_removal_result(3)))
    assert "A fair comparison: both networks have 1,000 parameters" in fair and "same 3 epochs" in fair
    unfair = " ".join(findings(_removal_result(5)))
    assert "Not an equal budget" in unfair and "A fair comparison" not in unfair
