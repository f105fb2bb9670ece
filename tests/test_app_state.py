"""The sidebar's selection in the app (AppTest): it survives every page, presets set their input, a bad link is
answered by a notice per ignored value, the depth control offers valid depths, "auto" says what it means."""

import pytest

from explorer import all_families
from explorer.families.resnet import valid_depths
from helpers import metric, no_exceptions

EXPLORE, COMPARE = "app_pages/explore.py", "app_pages/compare.py"
PAGES = [
    "app_pages/compare.py",
    "app_pages/layer_arithmetic.py",
    "app_pages/exercises.py",
    "app_pages/custom_builder.py",
    "app_pages/paths.py",
    "app_pages/layer_removal.py",
    "app_pages/transfer.py",
    "app_pages/edge.py",
]
FOLDING = ["app_pages/exercises.py", "app_pages/layer_removal.py", "app_pages/transfer.py", "app_pages/edge.py"]


def _sidebar(at) -> dict:
    """Every sidebar widget's value, by key."""
    return {w.key: w.value for w in at.sidebar if getattr(w, "key", None) and hasattr(w, "value")}


def _explore_totals(at) -> tuple:
    return at.title[0].value, metric(at, "Parameters"), metric(at, "Multiply-adds")


def test_the_selection_survives_a_tour_of_every_page(app):
    at = app()
    at.selectbox(key="family").set_value("resnet").run()
    at.selectbox(key="resnet.preset").set_value("resnet110").run()
    at.selectbox(key="resnet.shortcut").set_value("B").run()
    at.number_input(key="resnet.num_classes").set_value(100).run()
    at.number_input(key="in.c").set_value(1).run()
    at.toggle(key="in.square").set_value(False).run()
    at.slider(key="in.w").set_value(40).run()
    no_exceptions(at)
    before, totals, url = _sidebar(at), _explore_totals(at), dict(at.query_params)
    assert before["resnet.num_classes"] == 100 and before["in.c"] == 1 and before["in.w"] == 40
    for page in PAGES + FOLDING[::-1]:
        at.switch_page(page).run()
        no_exceptions(at)
        assert _sidebar(at) == before, page
    at.switch_page(EXPLORE).run()
    assert _sidebar(at) == before and _explore_totals(at) == totals
    keys = {"family", "preset", "input"} | {k.name for k in all_families()["resnet"].knobs}
    assert {k: v for k, v in at.query_params.items() if k in keys} == {k: v for k, v in url.items() if k in keys}


def test_a_reload_of_the_link_gives_the_same_view(app):
    at = app(query={"family": "resnet", "preset": "resnet56", "shortcut": "B", "input": "1x40x48"})
    no_exceptions(at)
    again = app(query=dict(at.query_params))
    assert _sidebar(again) == _sidebar(at) and _explore_totals(again) == _explore_totals(at)
    assert again.slider(key="in.h").value == 40 and again.slider(key="in.w").value == 48
    assert not again.warning  # nothing in the link was ignored


def test_other_families_keep_their_knobs(app):
    at = app(query={"family": "densenet"})
    at.text_input(key="densenet.block_config").set_value("6,12,32").run()
    at.selectbox(key="family").set_value("vgg").run()
    at.switch_page("app_pages/exercises.py").run()
    at.switch_page(EXPLORE).run()
    at.selectbox(key="family").set_value("densenet").run()
    assert at.text_input(key="densenet.block_config").value == "6,12,32"


def test_a_preset_sets_its_input_and_a_later_input_change_stands(app):
    at = app()
    at.selectbox(key="family").set_value("resnet").run()
    at.selectbox(key="resnet.preset").set_value("resnet110").run()
    assert at.slider(key="in.h").value == 32  # CIFAR
    at.selectbox(key="resnet.preset").set_value("resnet18").run()
    assert at.slider(key="in.h").value == 224  # ImageNet
    at.selectbox(key="resnet.preset").set_value("resnet110").run()
    assert at.slider(key="in.h").value == 32
    explore = metric(at, "Multiply-adds")
    at.switch_page(COMPARE).run()
    no_exceptions(at)
    at.switch_page(EXPLORE).run()
    assert metric(at, "Multiply-adds") == explore
    at.slider(key="in.h").set_value(64).run()
    at.switch_page(COMPARE).run()
    at.switch_page(EXPLORE).run()
    assert at.slider(key="in.h").value == 64 and metric(at, "Multiply-adds") != explore


def test_the_depth_control_offers_valid_depths_only(app):
    at = app(query={"family": "resnet", "preset": "resnet32"})
    depth = at.selectbox(key="resnet.depth")
    assert "32" in depth.options and "111" not in depth.options and "110" in depth.options
    assert [int(d) for d in depth.options] == list(valid_depths({"stem": "cifar", "block": None}))
    at.selectbox(key="resnet.block").set_value("bottleneck").run()
    options = [int(d) for d in at.selectbox(key="resnet.depth").options][1:]  # 32 first: kept, and refused
    assert options == list(valid_depths({"stem": "cifar", "block": "bottleneck"}))
    assert all((d - 2) % 9 == 0 for d in options)
    assert "bottleneck" in at.error[0].value  # the kept 56 is explained, not silently changed
    at.selectbox(key="resnet.depth").set_value(29).run()
    no_exceptions(at)
    assert not at.error


def test_auto_says_what_it_means(app):
    at = app(query={"family": "resnet"})
    for key in ("resnet.block", "resnet.shortcut"):
        shown = at.selectbox(key=key)
        assert shown.value == "auto"
        knob = all_families()["resnet"].knob(key.split(".")[1])
        assert shown.options[0] == f"auto: {knob.auto}"


NINES = "9" * 5000


@pytest.mark.parametrize(
    ("query", "ignored"),
    [
        ({"family": "nosuch"}, ["family='nosuch'"]),
        ({"family": "resnet", "preset": "resnet56", "input": "3x4096x4096"}, ["input='3x4096x4096'"]),
        ({"family": "resnet", "preset": "resnet56", "input": "3x600x600"}, ["input='3x600x600'"]),
        ({"family": "resnet", "stem": "cifar", "depth": "57"}, ["depth='57'", "nearest valid depth, 56"]),
        ({"family": "resnet", "depth": "５６", "stem": "cifar"}, ["depth='５６'", "nearest valid depth, 20"]),
        ({"family": "resnet", "depth": NINES}, ["depth='99999"]),
        ({"family": "vgg", "preset": "nosuch", "input": NINES}, ["preset='nosuch'", "input='9999"]),
        ({"family": "densenet", "block_config": "6,-12,24"}, ["block_config='6,-12,24'"]),
    ],
)
def test_a_bad_link_shows_the_view_with_a_notice_per_ignored_value(app, query, ignored):
    at = app(query=query)
    no_exceptions(at)
    assert at.title and metric(at, "Parameters")  # the view is there
    notices = [w.value.replace("\\", "") for w in at.warning if "was ignored" in w.value]
    assert len(notices) == len([v for v in ignored if "=" in v])
    for value in ignored:
        assert any(value in text and len(text) < 400 for text in notices), (value, notices)  # named, shortened
    at.switch_page(COMPARE).run()
    at.switch_page(EXPLORE).run()
    assert len([w for w in at.warning if "was ignored" in w.value]) == len(notices)  # until the user acts
    first = next(w for w in at.sidebar if getattr(w, "key", None) == "in.c")
    first.set_value(1).run()
    assert not [w for w in at.warning if "was ignored" in w.value]


def test_keras_input_shape_sets_the_input_in_the_builder(app):
    at = app(page="app_pages/custom_builder.py")
    spec = 'Conv2D(6, (5, 5), activation="relu", input_shape=(28, 28, 1))\nMaxPooling2D(2)\nFlatten()\nDense(10)'
    at.text_area(key="builder.spec").set_value(spec).run()
    no_exceptions(at)
    assert not [e for e in at.error if "input_shape" in e.value or "declares" in e.value]
    assert metric(at, "Parameters") == f"{6 * (5 * 5 * 1 + 1) + 10 * (6 * 12 * 12 + 1):,}"  # 1x28x28 in
    assert any("1x28x28" in c.value or "1×28×28" in c.value for c in at.caption)


def test_a_reserved_layer_name_is_one_sentence_and_the_text_stays(app):
    at = app(page="app_pages/custom_builder.py")
    spec = 'Conv2D(6, 5, name="forward")\nFlatten()\nDense(10)'
    at.text_area(key="builder.spec").set_value(spec).run()
    no_exceptions(at)
    assert "'forward' is taken by PyTorch" in at.error[0].value.replace("\\", "")
    assert at.text_area(key="builder.spec").value == spec


def test_an_experiment_s_knobs_survive_a_visit_to_another_page(app):
    at = app(page="app_pages/layer_removal.py")
    at.slider(key="layer-removal.depth").set_value(56).run()
    at.switch_page("app_pages/explore.py").run()
    no_exceptions(at)
    at.switch_page("app_pages/layer_removal.py").run()
    assert at.slider(key="layer-removal.depth").value == 56
    assert at.query_params["layer-removal.depth"] == "56"
