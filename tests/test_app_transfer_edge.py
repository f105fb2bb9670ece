"""AppTest: the Transfer learning and Edge computing pages (tiny trainings, a cache of their own)."""

import pytest

from explorer.live import cache as disk
from explorer.live import data, training
from helpers import drawings, metric, no_exceptions

TRANSFER, EDGE = "app_pages/transfer.py", "app_pages/edge.py"
TINY_TRANSFER = {"transfer-cut.width": 8, "transfer-cut.epochs": 1, "transfer-cut.steps": 5, "transfer-cut.examples": 1}
TINY_EDGE = {
    "edge.width": 8,
    "edge.epochs": 1,
    "edge.dataset": "digits",
    "quantize.repeats": 5,
    "prune.repeats": 5,
    "prune.finetune_steps": 0,
    "truncate.repeats": 5,
}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(disk.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(data.CIFAR10_ENV, raising=False)


def _dot(at):
    return drawings(at)


def test_transfer_page_draws_the_cut_before_anything_trains(app):
    at = app(page=TRANSFER)
    no_exceptions(at)
    calls = training.TRAIN_CALLS
    assert metric(at, "Frozen parameters") == "5,184" and metric(at, "New head") == "645"  # "train some layers"
    assert metric(at, "Feature size at the cut") == "2,048"  # block3.conv1 receives 32x8x8
    assert at.button(key="transfer-cut.run").label == "Fine-tune at every cut" and at.info
    assert any("Y_o ≠ Y_n" in m.value for m in at.markdown)
    before = _dot(at)[0]
    at.button(key="transfer-cut.preset.freeze almost all").click().run()
    no_exceptions(at)
    assert at.number_input(key="transfer-cut.cut").value == 8
    assert metric(at, "Frozen parameters") == "578,496" and metric(at, "Feature size at the cut") == "128"
    after = _dot(at)[0]
    assert after != before and after.count("#ced4da") > before.count("#ced4da")  # more nodes drawn frozen
    at.selectbox(key="transfer-cut.scenario").set_value("domain").run()
    assert any("P(X_o) ≠ P(X_n)" in m.value for m in at.markdown)
    assert training.TRAIN_CALLS == calls  # drawing the cut trains nothing


def test_transfer_page_fine_tunes_then_keeps_results_through_bad_input(app):
    at = app(page=TRANSFER, state=TINY_TRANSFER)
    at.button(key="transfer-cut.run").click().run()
    no_exceptions(at)
    answer = [m.value for m in at.markdown if "How should I choose the right cut?" in m.value]
    assert answer and "new labels, same domain (Y_o ≠ Y_n) with 1 labelled example per class" in answer[0]
    assert len(at.get("plotly_chart")) == 2
    at.slider(key="transfer-cut.examples").set_value(0).run()  # zero target examples
    no_exceptions(at)
    assert len(at.error) == 1 and "zero labelled target examples" in at.error[0].value
    assert len(at.get("plotly_chart")) == 2 and at.warning  # the last figures stay, labelled as such
    at.slider(key="transfer-cut.examples").set_value(1).run()
    at.number_input(key="transfer-cut.cut").set_value(30).run()  # past the last layer
    no_exceptions(at)
    assert len(at.error) == 1 and "past the last layer" in at.error[0].value
    assert len(at.get("plotly_chart")) == 2


def test_edge_page_quantizes_prunes_and_tables_every_variant(app):
    at = app(page=EDGE, state=TINY_EDGE)
    no_exceptions(at)
    assert [t.label for t in at.tabs] == [
        "Quantization",
        "Pruning and its curve",
        "Truncation",
        "Distillation",
        "Every variant of this session",
    ]
    assert not at.metric and not at.dataframe
    at.button(key="quantize.run").click().run()
    no_exceptions(at)
    assert metric(at, "Size, int8").endswith("MB") and metric(at, "Accuracy, int8").endswith("%")
    assert any("smaller on disk" in m.value for m in at.markdown)
    at.button(key="prune.run").click().run()
    no_exceptions(at)
    assert any("2x smaller, 97% of the accuracy" in m.value for m in at.markdown)
    table = at.dataframe[-1].value
    names = list(table["variant"])  # the int8 row names the engine, which depends on the CPU
    assert (
        names[0] == "vgg w8, fp32"
        and names[1].startswith("vgg w8, int8 (")
        and names[2] == "vgg w8, pruned 50% (global)"
    )
    curve = at.get("plotly_chart")
    # moving the sparsity keeps the curve and says which setting it belongs to; 100% is one sentence
    at.slider(key="prune.sparsity").set_value(0.7).run()
    assert any("sparsity 0.5 (not 0.7)" in w.value for w in at.warning) and len(at.get("plotly_chart")) == len(curve)
    at.slider(key="prune.sparsity").set_value(1.0).run()
    no_exceptions(at)
    assert len(at.error) == 1 and "below 100%" in at.error[0].value
    assert len(at.get("plotly_chart")) == len(curve) and len(at.dataframe[-1].value) == 3


def test_edge_page_truncates_and_a_missing_cifar_folder_is_one_sentence(app):
    at = app(page=EDGE, state=TINY_EDGE)
    at.button(key="truncate.run").click().run()
    no_exceptions(at)
    assert any(m.value.startswith("- Cut after") or "Cut after" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 2  # the truncation chart and the session's size-accuracy chart
    at.selectbox(key="edge.dataset").set_value("cifar10").run()
    no_exceptions(at)
    assert at.error and all("CIFAR-10 needs a local folder" in e.value for e in at.error)
    assert len(at.get("plotly_chart")) == 2  # what was computed stays on the page
