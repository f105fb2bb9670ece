"""AppTest: the Residual paths and Layer removal pages (tiny trainings, a cache of their own)."""

import pytest

from explorer.live import cache as disk
from explorer.live import data, training
from helpers import drawings, metric, no_exceptions

PATHS, REMOVAL = "app_pages/paths.py", "app_pages/layer_removal.py"
LECTURE_Y3 = "y_3 = f_3(f_2(f_1(y_0) + y_0) + f_1(y_0) + y_0) + f_2(f_1(y_0) + y_0) + f_1(y_0) + y_0"
LECTURE_Y3_WITHOUT_F2 = "y_3 = f_3(f_1(y_0) + y_0) + f_1(y_0) + y_0"
TINY = {"depth": 8, "width": 4, "epochs": 1, "draws": 1}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(disk.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(data.CIFAR10_ENV, raising=False)


def _latex(at):
    return [e.value.strip("$\n") for e in at.latex]


def _dots(at):
    return drawings(at)


def test_paths_page_opens_with_the_lecture_s_three_blocks(app):
    at = app(page=PATHS)
    no_exceptions(at)
    assert metric(at, "Paths, 2^N") == "8" and metric(at, "Mean path length") == "1.5"
    assert _latex(at) == [LECTURE_Y3, "y_3 = f_3(f_2(f_1(y_0)))"]
    dots = _dots(at)
    assert len(dots) == 2 and "8 of 8 paths" in dots[0] and "1 of 1 path" in dots[1]


def test_removing_a_block_updates_the_expression_and_both_graphs(app):
    at = app(page=PATHS)
    before = _dots(at)
    at.selectbox(key="paths.removed.3").set_value(2).run()
    no_exceptions(at)
    assert _latex(at)[0] == LECTURE_Y3_WITHOUT_F2 and "\\cancel{f_2}" in _latex(at)[1]
    assert [s.value for s in at.subheader] == ["Residual: 4 of 8 paths", "Plain: 0 of 1 path"]
    after = _dots(at)
    assert after != before and "4 of 8 paths" in after[0] and "✕" in after[1]


def test_resnet_110_and_the_length_range(app):
    at = app(page=PATHS)
    at.button(key="paths.preset.ResNet-110").click().run()
    no_exceptions(at)
    assert at.slider(key="paths.blocks").value == 54 and at.query_params["paths.blocks"] == "54"
    assert metric(at, "Paths, 2^N") == "≈ 1.8 × 10¹⁶" and metric(at, "Mean path length") == "27"
    assert metric(at, "Standard deviation") == "3.674"
    assert any(c.value.startswith("2^54 ≈ 1.8 × 10¹⁶ (17 digits)") for c in at.caption)
    assert any(c.value == "18014398509481984" for c in at.code)  # the exact value, folded
    at.slider(key="paths.range.54").set_value((5, 17)).run()
    share = next(m.value for m in at.markdown if m.value.startswith("Paths of length"))
    assert "**5 to 17**" in share and "0.4537%" in share
    assert not _latex(at) and not _dots(at)  # too many paths to write out: the page says so
    assert any("lower N" in i.value for i in at.info)


def test_the_sidebar_s_resnet_and_a_link_set_n(app):
    at = app(page=PATHS, query={"family": "resnet", "preset": "resnet56", "paths.blocks": "4"})
    no_exceptions(at)
    assert at.slider(key="paths.blocks").value == 4 and len(_latex(at)) == 2
    at.button(key="paths.preset.sidebar: ResNet-56").click().run()
    assert at.slider(key="paths.blocks").value == 27 and metric(at, "Paths, 2^N") == "134,217,728"


def test_measuring_path_gradients_live(app):
    at = app(
        page=PATHS,
        state={f"path-gradients.{k}": v for k, v in TINY.items() if k != "draws"} | {"path-gradients.samples": 2},
    )
    no_exceptions(at)
    at.button(key="path-gradients.run").click().run()
    no_exceptions(at)
    found = [m.value for m in at.markdown if "carry" in m.value]
    assert found and "trained ResNet with 3 blocks" in found[0]
    assert len(at.get("plotly_chart")) == 3  # the length distribution and the two gradient plots
    at.toggle(key="path-gradients.trained").set_value(False).run()
    assert any("trained true (not false)" in w.value for w in at.warning)  # the old figures, labelled
    at.button(key="path-gradients.run").click().run()
    assert not at.warning and "untrained" in next(m.value for m in at.markdown if "carry" in m.value)


def test_layer_removal_trains_on_the_button_then_shows_both_networks(app):
    at = app(page=REMOVAL, state={f"layer-removal.{k}": v for k, v in TINY.items()})
    no_exceptions(at)
    assert not at.metric and at.info and at.button(key="layer-removal.run").label == "Train both networks"
    at.button(key="layer-removal.run").click().run()
    no_exceptions(at)
    values = {m.label: m.value for m in at.metric}
    assert set(values) == {"Residual, full", "Plain, full", "Residual: median drop", "Plain: median drop", "Chance"}
    assert len(at.get("plotly_chart")) == 3
    assert any("Deleting one block costs the residual network" in m.value for m in at.markdown)
    assert at.query_params["layer-removal.depth"] == "8" and "layer-removal.dataset" not in at.query_params
    # moving a knob keeps the figures, says which settings they belong to, and the button trains anew
    at.slider(key="layer-removal.epochs").set_value(2).run()
    assert any("epochs 1 (not 2)" in w.value for w in at.warning)
    at.button(key="layer-removal.run").click().run()
    assert not at.warning and {m.label: m.value for m in at.metric} != values


def test_layer_removal_second_visit_is_served_from_disk(app):
    first = app(page=REMOVAL, state={f"layer-removal.{k}": v for k, v in TINY.items()})
    first.button(key="layer-removal.run").click().run()
    calls = training.TRAIN_CALLS
    again = app(page=REMOVAL, state={f"layer-removal.{k}": v for k, v in TINY.items()})  # another student
    no_exceptions(again)
    assert training.TRAIN_CALLS == calls and metric(again, "Chance") == metric(first, "Chance")
    assert any("Loaded from the disk cache" in c.value for c in again.caption)


def test_a_link_sets_the_knobs_and_bad_input_is_one_sentence(app, tmp_path):
    at = app(page=REMOVAL, query={"layer-removal.depth": "20", "layer-removal.width": "abc"})
    no_exceptions(at)
    assert at.slider(key="layer-removal.depth").value == 20 and at.slider(key="layer-removal.width").value == 16
    at.selectbox(key="layer-removal.dataset").set_value("cifar10").run()
    no_exceptions(at)
    assert len(at.error) == 1 and "CIFAR-10 needs a local folder" in at.error[0].value
    at.text_input(key="layer-removal.data_dir").set_value(str(tmp_path / "missing")).run()
    no_exceptions(at)
    assert len(at.error) == 1 and "There is no folder" in at.error[0].value
    assert at.text_input(key="layer-removal.data_dir").value == str(tmp_path / "missing")
