"""Transfer learning's cut on real networks: the plan read off explorer.analyze, exact freezing, the live sweep."""

import json

import pytest
import torch

from explorer.errors import KnobError
from explorer.experiments import get_experiment, run_experiment
from explorer.experiments.transfer_cut import SCENARIOS, few_shot, findings, target_data
from explorer.live import cuts as transfer
from explorer.live import data as datasets
from explorer.live import training
from explorer.live.networks import build_network, network_analysis
from helpers import run_cli, set_args

# Small enough for CI (~25 s on two busy cores), large enough for the lecture's effect: at 2 labelled examples
# per class the best cut below the top scored 71-75% and scratch 29-34% over seeds 0-2 (measured).
SMALL = {"scenario": "new-labels", "family": "vgg", "width": 16, "epochs": 2, "examples": 2, "steps": 15, "seed": 0}


@pytest.fixture(scope="module")
def small(cache_dir):
    return run_experiment("transfer-cut", SMALL)


def vgg(num_classes=5):
    return network_analysis("vgg", 16, (3, 32, 32), num_classes)


def test_the_cut_splits_the_parameters_read_off_the_analysis():
    a = vgg()
    layers = transfer.weight_layers(a)
    assert [layer.row.name for layer in layers][:3] == ["block1.conv1", "block2.conv1", "block3.conv1"]
    assert len(layers) == 11 and layers[-1].row.name == "classifier.fc3"  # VGG-11: 8 convolutions, 3 FC layers
    assert layers[0].params == 3 * 9 * 16 + 16 + 2 * 16  # conv 448 and its batch norm's 32
    for k in range(len(layers)):
        cut = transfer.plan(a, k)
        assert cut.frozen_params + cut.trainable_params == a.totals.params
        assert cut.frozen_params == sum(layer.params for layer in layers[:k])
        assert cut.head_params == 128 * 5 + 5 and cut.head == "classifier.fc3"
    cut = transfer.plan(a, 8)  # the whole convolutional base frozen: block5's 128x1x1 output is the feature
    assert cut.feature_shape == (128,) and cut.feature_size == 128 and cut.after == "block5.conv2"
    assert transfer.plan(a, 2).feature_shape == (32, 8, 8)
    states = cut.row_states
    assert {a.rows[i].name for i, s in states.items() if s == "head"} == {"classifier.fc3"}
    assert {a.rows[i].name for i, s in states.items() if s == "trainable"} == {"classifier.fc1", "classifier.fc2"}
    assert sum(a.rows[i].params for i, s in states.items() if s == "frozen") == cut.frozen_params


def test_the_lecture_presets_and_the_sweep_sit_on_stage_boundaries():
    a = vgg()
    assert transfer.stage_cuts(a) == [0, 1, 2, 4, 6, 8, 9, 10]
    assert transfer.lecture_presets(a) == {
        "train entire model": 0,
        "train some layers": 2,
        "train fewer layers": 6,
        "freeze almost all": 8,
    }
    r = network_analysis("resnet", 16, (3, 32, 32), 5)  # ResNet-8: stem, 3 stages of 2 convolutions, fc
    assert transfer.stage_cuts(r) == [0, 1, 3, 5, 7]
    assert transfer.lecture_presets(r) == {
        "train entire model": 0,
        "train some layers": 3,
        "train fewer layers": 5,
        "freeze almost all": 7,
    }
    assert transfer.plan(r, 7).feature_shape == (64,) and transfer.plan(r, 5).feature_shape == (32, 16, 16)


@pytest.mark.parametrize("k", [11, 40])
def test_a_cut_past_the_last_layer_is_one_sentence(k):
    with pytest.raises(KnobError, match="past the last layer.*between 0 .* and 10"):
        transfer.plan(vgg(), k)
    with pytest.raises(KnobError, match="past the last layer"):
        get_experiment("transfer-cut").check({"cut": k})


@pytest.mark.parametrize("family, k", [("vgg", 6), ("resnet", 5)])
def test_freezing_keeps_exactly_the_frozen_tensors_unchanged(family, k):
    """After fine-tuning, every frozen parameter and batch-norm statistic is bit-identical; the rest moved."""
    a = network_analysis(family, 8, (3, 32, 32), 5)
    source = build_network(family, 8, (3, 32, 32), 5, seed=0)
    model = build_network(family, 8, (3, 32, 32), 5, seed=1)
    transfer.load_source(model, a, source.state_dict())
    frozen = set(transfer.freeze(model, a, k))
    before = {name: t.clone() for name, t in model.state_dict().items()}
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 3, 32, 32, generator=g), torch.arange(40) % 5
    training.train(model, x, y, epochs=2, batch_size=20, lr=0.05)
    training.recompute_batchnorm(model, x)
    after = model.state_dict()
    frozen_modules = {name.rpartition(".")[0] for name in frozen}
    for name, tensor in after.items():
        module = name.rpartition(".")[0]
        if name.endswith("num_batches_tracked"):
            continue
        if module in frozen_modules:
            assert torch.equal(tensor, before[name]), f"{name} is frozen but changed"
        elif name.endswith(("weight", "bias")):
            assert not torch.equal(tensor, before[name]), f"{name} is trainable but did not change"
    assert sum(before[n].numel() for n in frozen) == transfer.plan(a, k).frozen_params
    head = transfer.plan(a, 0).head  # the new head has fresh weights, not the source's
    assert not torch.equal(before[f"{head}.weight"], source.state_dict()[f"{head}.weight"])


def test_the_relabelled_scenario_keeps_the_images_and_changes_the_rule():
    """P(Y_o|X_o) ≠ P(Y_n|X_n): the source's five shapes by day, each labelled as the next shape."""
    relabelled = target_data({"scenario": "relabelled", "seed": 0, "dataset": "shapes"})
    same = datasets.load(
        "shapes", size=32, channels=3, seed=1, classes=range(5), domain="day", n_train=1000, n_test=500
    )
    assert torch.equal(relabelled.train_x, same.train_x) and torch.equal(relabelled.test_x, same.test_x)
    assert torch.equal(relabelled.train_y, (same.train_y + 1) % 5)  # P(X) and P(Y) the same, P(Y|X) not
    assert torch.bincount(relabelled.train_y).tolist() == torch.bincount(same.train_y).tolist()
    assert SCENARIOS["relabelled"][0] == "P(Y_o|X_o) ≠ P(Y_n|X_n)"
    with pytest.raises(KnobError, match="relabelled task is generated for the shapes only"):
        run_experiment("transfer-cut", {"scenario": "relabelled", "dataset": "cifar10"})


def test_few_shot_draws_the_same_examples_of_every_class():
    data = target_data({"scenario": "feature-space", "seed": 0})
    x, y = few_shot(data, 3, seed=0)
    assert torch.bincount(y).tolist() == [3] * 5 and x.shape == (15, 3, 32, 32)
    assert torch.equal(few_shot(data, 3, seed=0)[0], x) and not torch.equal(few_shot(data, 3, seed=1)[0], x)


def test_freezing_below_a_good_cut_beats_scratch_on_few_examples(small):
    r = small.result
    assert r["scenario"] == "new-labels" and r["notation"] == "Y_o ≠ Y_n"
    assert [c["cut"] for c in r["cuts"]] == [0, 1, 2, 4, 6, 8, 9, 10]
    for c in r["cuts"]:
        assert 0 <= c["accuracy"] <= 1 and c["frozen_params"] + c["trainable_params"] == r["params"]
    assert r["target"]["labelled"] == 10 and r["target"]["classes"] == [
        "diamond",
        "cross",
        "frame",
        "stripes",
        "half-disk",
    ]
    frozen_below = [c for c in r["cuts"] if c["cut"] > 0]
    best = max(frozen_below, key=lambda c: c["accuracy"])
    assert best["accuracy"] > r["scratch_accuracy"] + 0.25  # measured: 37-43 points ahead over seeds 0-2
    counts = r["by_examples"]
    assert counts["examples"] == [1, 2, 5, 10, 20] and counts["cut"] == r["best_cut"]
    assert counts["transfer"][0] > counts["scratch"][0] and counts["scratch"][-1] > counts["scratch"][0]
    text = " ".join(findings(r))
    assert text.startswith("How should I choose the right cut? For new labels, same domain (Y_o ≠ Y_n) with 2")
    assert f"{r['scratch_accuracy']:.1%}" in text


def test_bad_settings_are_one_sentence_before_anything_trains(cache_dir):
    calls = training.TRAIN_CALLS
    with pytest.raises(KnobError, match="zero labelled target examples"):
        run_experiment("transfer-cut", {"examples": 0})
    with pytest.raises(KnobError, match="day-to-night domain shift is generated for the shapes only"):
        run_experiment("transfer-cut", {"scenario": "domain", "dataset": "cifar10"})
    with pytest.raises(KnobError, match="one of new-labels, domain, relabelled, feature-space"):
        run_experiment("transfer-cut", {"scenario": "sideways"})
    assert training.TRAIN_CALLS == calls


def test_cli_json_has_the_documented_keys(small, cache_dir):
    out = run_cli("experiment", "transfer-cut", *set_args(SMALL), "--json", cache=cache_dir, timeout=300)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["scenario"] == "new-labels" and d["scratch_accuracy"] == small.result["scratch_accuracy"]
    assert {"cut", "frozen_params", "trainable_params", "accuracy"} <= set(d["cuts"][0])
    assert all(0 <= c["accuracy"] <= 1 for c in d["cuts"])
    bad = run_cli("experiment", "transfer-cut", "--set", "cut=11", cache=cache_dir, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "past the last layer" in bad.stderr
