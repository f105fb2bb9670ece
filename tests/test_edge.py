"""Edge computing on real trained networks: int8 quantization, magnitude pruning, truncation, distillation."""

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explorer.errors import ExperimentError, KnobError
from explorer.experiments import get_experiment, run_experiment
from explorer.experiments.distill import findings_distill, student_images
from explorer.experiments.edge_base import scene_domain
from explorer.experiments.prune import findings_prune, lecture_check
from explorer.live import compression as edge
from explorer.live import data as datasets
from explorer.live import training
from explorer.live.networks import build_network, network_analysis
from helpers import run_cli, set_args

# One base network for every test: the default VGG (width 16) on the digits, two epochs (~6 s to train).
BASE = {"family": "vgg", "width": 16, "epochs": 2, "dataset": "digits", "seed": 0}
INT8_ACCURACY_MARGIN = 0.02  # measured: int8 loses 0.0-0.4 points at this setting


@pytest.fixture(scope="module")
def quantized(cache_dir):
    return run_experiment("quantize", {**BASE, "repeats": 10})


@pytest.fixture(scope="module")
def pruned(cache_dir, quantized):
    return run_experiment("prune", {**BASE, "finetune_steps": 5, "repeats": 5})


def test_int8_is_at_least_3_5x_smaller_and_keeps_its_accuracy(quantized):
    r = quantized.result
    assert r["fp32_size_bytes"] >= 3.5 * r["int8_size_bytes"] and r["size_ratio"] < 4.0
    assert r["fp32_accuracy"] > 0.8 and abs(r["int8_accuracy"] - r["fp32_accuracy"]) <= INT8_ACCURACY_MARGIN
    assert r["fp32_latency_ms"] > 0 and r["int8_latency_ms"] > 0
    assert r["backend"] in r["available_backends"] and "FX graph mode" in r["method"]
    assert [v["variant"] for v in r["variants"]] == ["vgg w16, fp32", f"vgg w16, int8 ({r['backend']})"]
    assert r["variants"][0]["size_bytes"] == r["fp32_size_bytes"] and r["variants"][0]["params"] == r["base"]["params"]


def test_the_int8_model_really_computes_in_int8():
    model = build_network("resnet", 8, (1, 32, 32), 10, seed=0).eval()
    x = torch.rand(16, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    int8 = edge.quantize_int8(model, x)
    kinds = {type(m).__module__ for m in int8.modules()}
    assert any("quantized" in k for k in kinds)  # quantized conv modules, not float ones
    weights = [v for v in int8.state_dict().values() if isinstance(v, torch.Tensor) and v.is_quantized]
    assert weights and all(w.dtype == torch.qint8 for w in weights if w.dim() > 1)
    assert torch.allclose(int8(x), model(x), atol=0.5)  # close to the float network, not equal to it


def test_a_quantization_engine_the_machine_lacks_is_one_sentence(monkeypatch):
    monkeypatch.setattr(edge, "available_backends", lambda: ("x86",))
    with pytest.raises(ExperimentError, match="no 'qnnpack' quantization engine; choose one of x86"):
        get_experiment("quantize").check({"backend": "qnnpack"})
    assert get_experiment("quantize").check({"backend": "x86"})["backend"] == "x86"
    monkeypatch.setattr(edge, "available_backends", lambda: ())
    with pytest.raises(ExperimentError, match="cannot quantize"):
        edge.check_backend("default")


@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("sparsity", [0.3, 0.75])
def test_pruned_weights_are_zero_at_the_requested_sparsity(scope, sparsity):
    model = build_network("vgg", 8, (3, 32, 32), 10, seed=0)
    edge.prune_magnitude(model, sparsity, scope)
    shares = edge.weight_sparsity(model)
    assert shares["all"] == pytest.approx(sparsity, abs=1e-3)
    if scope == "layer":
        assert all(v == pytest.approx(sparsity, abs=0.01) for v in shares.values())
    else:  # one threshold: the layers lose different shares, and every kept weight is larger than every pruned one
        assert max(shares.values()) - min(shares.values()) > 0.05
        kept = torch.cat([m.weight[m.weight != 0].abs() for m, _ in edge.prunable(model)])
        pruned = torch.cat([m.weight_orig[m.weight_mask == 0].abs() for m, _ in edge.prunable(model)])
        assert kept.min() >= pruned.max()
    x, y = torch.rand(32, 3, 32, 32), torch.arange(32) % 10
    training.train(model, x, y, epochs=1, batch_size=16)  # a fine-tune keeps the pruned weights at zero
    edge.make_permanent(model)
    assert edge.weight_sparsity(model)["all"] == pytest.approx(sparsity, abs=1e-3)
    assert not any(hasattr(m, "weight_mask") for m, _ in edge.prunable(model))


def test_sparse_storage_is_measured_and_shrinks_with_sparsity():
    model = build_network("vgg", 16, (3, 32, 32), 10, seed=0).eval()
    dense = edge.model_bytes(model)
    sizes = [
        edge.compressed_bytes(
            edge.make_permanent(edge.prune_magnitude(build_network("vgg", 16, (3, 32, 32), 10, seed=0), s))
        )
        for s in (0.0, 0.5, 0.9)
    ]
    assert sizes[0] > dense  # nothing pruned: the bit mask is pure overhead
    assert sizes[0] > sizes[1] > sizes[2]
    assert sizes[1] == pytest.approx(dense * (0.5 + 1 / 32), rel=0.05)  # half the values plus one bit a weight
    pruned = edge.make_permanent(edge.prune_magnitude(model, 0.9))
    assert edge.model_bytes(pruned) == pytest.approx(dense, rel=0.01)  # dense tensors keep their zeros


@pytest.mark.parametrize("sparsity", [1.0, 1.5])
def test_a_sparsity_of_100_percent_is_one_sentence(sparsity):
    with pytest.raises(KnobError, match="would remove every weight.*below 100%"):
        get_experiment("prune").check({"sparsity": sparsity} if sparsity <= 1 else {"sparsity": 1.0})
    with pytest.raises(KnobError, match="below 100%"):
        edge.prune_magnitude(nn.Linear(4, 4), sparsity)


def test_the_pruning_curve_tests_the_lecture_s_claim(pruned):
    r = pruned.result
    assert len(r["sparsity"]) == len(r["accuracy"]) == len(r["finetuned_accuracy"]) == len(r["compressed_bytes"])
    assert r["sparsity"][0] == 0.0 and r["accuracy"][0] == r["base_accuracy"] and 0.5 in r["sparsity"]
    for s, measured, tuned in zip(r["sparsity"], r["measured_sparsity"], r["finetuned_measured_sparsity"]):
        assert measured == pytest.approx(s, abs=1e-3) and tuned == pytest.approx(s, abs=1e-3)
    assert all(0 <= a <= 1 for a in r["accuracy"] + r["finetuned_accuracy"])
    assert r["accuracy"][-1] < r["accuracy"][0] - 0.3  # 95% of the weights gone: the network breaks
    assert r["compressed_bytes"] == sorted(r["compressed_bytes"], reverse=True)

    check = lecture_check(r)
    assert check["found"] and check["ratio"] >= 2 and check["sparsity"] in (0.5, 0.6)
    assert '"2x smaller, 97% of the accuracy"' in findings_prune(r)[0]


def test_the_trunk_computes_what_the_network_computes_at_the_cut():
    for family, layer, shape in (("vgg", "block3.conv1", (32, 8, 8)), ("resnet", "layer3.0.conv1", (32, 16, 16))):
        model = build_network(family, 16, (3, 32, 32), 10, seed=0).eval()
        seen = {}
        model.get_submodule(layer).register_forward_pre_hook(lambda m, args, seen=seen: seen.update(x=args[0]))
        x = torch.rand(4, 3, 32, 32)
        model(x)
        trunk = edge.trunk_before(model, layer)
        assert torch.equal(trunk(x), seen["x"]) and trunk(x).shape[1:] == shape
        assert edge.param_count(trunk) < edge.param_count(model)  # the layers after the cut are gone
    with pytest.raises(ExperimentError, match="no layer 'nowhere'"):
        edge.trunk_before(model, "nowhere")


def test_truncation_trades_parameters_for_accuracy(cache_dir, quantized):
    r = run_experiment("truncate", {**BASE, "repeats": 5}).result
    cuts = r["cuts"]
    assert [c["keep"] for c in cuts] == [1, 2, 4, 6, 8, 9, 10]
    assert [c["params"] for c in cuts] == sorted(c["params"] for c in cuts) and cuts[-1]["params"] == r["full_params"]
    a = network_analysis("vgg", 16, (1, 32, 32), 10)
    assert cuts[-1]["mult_adds"] == a.totals.mult_adds  # fc3 replaced by a new head of the same size
    assert cuts[0]["accuracy"] < cuts[-1]["accuracy"] and cuts[-1]["accuracy"] > 0.8
    chosen = next(c for c in cuts if c["keep"] == r["keep"])
    assert chosen["retained"] >= 0.97 and all(c["retained"] < 0.97 for c in cuts if c["keep"] < r["keep"])
    with pytest.raises(KnobError, match="whole stages; keep one of 1, 2, 4, 6, 8, 9, 10"):
        get_experiment("truncate").check({"keep": 3})
    with pytest.raises(KnobError, match="past the last layer"):
        get_experiment("truncate").check({"keep": 11})


def test_distillation_loss_is_hinton_s():
    teacher = nn.Linear(6, 3)
    x, y = torch.rand(8, 6), torch.arange(8) % 3
    logits = torch.randn(8, 3)
    assert edge.distillation_loss(teacher, 3.0, 0.0)(logits, y, x) == pytest.approx(float(F.cross_entropy(logits, y)))
    with torch.no_grad():
        same = teacher(x)
    assert float(edge.distillation_loss(teacher, 3.0, 1.0)(same, y, x)) == pytest.approx(0, abs=1e-6)
    soft = F.softmax(same / 3, dim=1)
    expected = 9 * F.kl_div(F.log_softmax(logits / 3, dim=1), soft, reduction="batchmean")
    assert float(edge.distillation_loss(teacher, 3.0, 1.0)(logits, y, x)) == pytest.approx(float(expected), rel=1e-5)


def test_three_students_from_the_same_few_labelled_images(cache_dir, quantized):
    """Labels only, soft targets + labels, soft targets alone: same start, images and steps; only the loss differs."""
    settings = {
        **BASE,
        "student_width": 8,
        "student_examples": 30,
        "student_epochs": 8,
        "soft_weight": 0.9,
        "temperature": 4.0,
        "repeats": 5,
    }
    r = run_experiment("distill", settings).result
    assert r["teacher"]["accuracy"] == quantized.result["fp32_accuracy"]  # the same cached base network
    assert r["student_images"] == 30 * 10  # 30 labelled digits of each class
    assert r["labels"]["params"] == r["distilled"]["params"] == r["soft"]["params"] < r["teacher"]["params"] / 3
    # chance is 10%: the soft targets alone, without a label, teach the student something. Measured 18% on an AMD
    # EPYC and 14.7% on an Intel Xeon (float kernels differ), so the test asks for what the claim says: above
    # chance by more than three binomial standard deviations of chance on this test set. Labels alone reach more
    # here: the base network of these small settings trains for two epochs only.
    tested = len(datasets.load("digits", size=16, seed=0).test_y)
    chance = 0.1
    assert r["soft"]["accuracy"] > chance + 3 * (chance * (1 - chance) / tested) ** 0.5
    assert r["labels"]["accuracy"] > 0.3
    assert [v["variant"] for v in r["variants"]] == [
        "vgg w16, fp32 (teacher)",
        "vgg w8 student, labels only",
        "vgg w8 student, soft targets + labels (T = 4)",
        "vgg w8 student, soft targets only (T = 4)",
    ]
    assert "300 labelled images" in r["variants"][1]["note"]


def test_student_images_are_per_class_and_drawn_by_the_seed():
    data = datasets.load("digits", size=16, seed=0)
    x, y = student_images({"student_examples": 4, "seed": 0}, data)
    assert torch.bincount(y).tolist() == [4] * 10
    assert torch.equal(student_images({"student_examples": 4, "seed": 0}, data)[0], x)
    assert not torch.equal(student_images({"student_examples": 4, "seed": 1}, data)[0], x)
    assert len(student_images({"student_examples": None, "seed": 0}, data)[1]) == len(data.train_y)


def _distill_result(labels, both, soft):
    student = {"params": 100, "size_bytes": 400, "latency_ms": 1.0, "mult_adds": 10}
    return {
        "base": {"train": 2000},
        "teacher": {**student, "params": 400, "accuracy": 0.8},
        "labels": {**student, "accuracy": labels},
        "distilled": {**student, "accuracy": both},
        "soft": {**student, "accuracy": soft},
        "temperature": 4.0,
        "soft_weight": 0.9,
        "student_images": 200,
    }


def test_the_distillation_sentence_says_what_was_found_either_way():
    helped = " ".join(findings_distill(_distill_result(0.40, 0.55, 0.50)))
    assert "distillation helps here (+15.0 points)" in helped and "(+10.0 points against labels alone)" in helped
    hurt = " ".join(findings_distill(_distill_result(0.47, 0.36, 0.35)))
    assert "distillation does not help here (-11.0 points)" in hurt and "from 200 labelled images" in hurt
    assert "makes no difference" in " ".join(findings_distill(_distill_result(0.50, 0.502, 0.5)))


def test_the_edge_base_trains_on_noisy_shapes_and_the_domain_is_part_of_its_key():
    settings = get_experiment("quantize").defaults()
    assert settings["dataset"] == "shapes" and settings["domain"] == "noisy"
    assert scene_domain(settings) == "noisy" and scene_domain({**settings, "dataset": "digits"}) == "day"
    with pytest.raises(KnobError, match="domain"):
        get_experiment("quantize").check({"domain": "moonlit"})


def test_cli_json_keys_of_quantize_and_prune(cache_dir, quantized, pruned):
    def cli(name, settings):
        out = run_cli("experiment", name, *set_args(settings), "--json", cache=cache_dir, timeout=300)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    q = cli("quantize", {**BASE, "repeats": 10})
    assert {
        "fp32_size_bytes",
        "int8_size_bytes",
        "fp32_accuracy",
        "int8_accuracy",
        "fp32_latency_ms",
        "int8_latency_ms",
    } <= set(q) and q["int8_size_bytes"] == quantized.result["int8_size_bytes"]
    p = cli("prune", {**BASE, "finetune_steps": 5, "repeats": 5})
    assert len(p["sparsity"]) == len(p["accuracy"]) == len(p["finetuned_accuracy"])
    assert p["finetuned_accuracy"] == pruned.result["finetuned_accuracy"]
    bad = run_cli("experiment", "prune", "--set", "sparsity=1", cache=cache_dir, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "below 100%" in bad.stderr
