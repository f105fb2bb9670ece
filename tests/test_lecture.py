"""The lecture path: steps in the lecture's order, verdicts computed from live results, the page, links."""

import pytest

import explorer
from explorer import lecture
from explorer.errors import KnobError
from explorer.experiments import transfer_cut
from explorer.graph import max_depth
from helpers import no_exceptions
from ui import zoom

LECTURE = "app_pages/lecture.py"


def test_the_path_follows_the_lecture_and_every_step_is_complete():
    topics = [s.topic for s in lecture.STEPS]
    order = ["Recap on convolution", "VGG", "GoogLeNet", "FractalNet", "ResNet", "DenseNet", "DPN"]
    order += ["Edge computing", "NASNet", "Transfer learning"]
    assert list(dict.fromkeys(topics)) == order
    assert len({s.slug for s in lecture.STEPS}) == len(lecture.STEPS)
    for s in lecture.STEPS:
        assert s.claim and s.prompt and callable(s.verdict)
        assert (s.preset is not None) == (s.view == lecture.ANALYSIS)
        assert (s.experiment is not None) == (s.view == lecture.EXPERIMENT)


def test_the_known_slide_differences_are_said():
    says = {s.slug: " ".join(s.slide_says) for s in lecture.STEPS}
    assert "K·(F·F·C + 1)" in says["conv-arithmetic"]
    assert "average pooling" in says["densenet"]
    assert "L = 190" in says["nasnet"]
    assert "75" in says["fractalnet"]


@pytest.mark.parametrize("kernel", [3, 5, 7])
def test_the_arithmetic_verdict_follows_the_knob(kernel):
    a = explorer.analyze("lecture_exercise", (3, 32, 32), kernel_size=kernel)
    text = lecture.conv_arithmetic(a)
    side, params = 32 - kernel + 1, 6 * (kernel * kernel * 3 + 1)
    assert f"{side}×{side}×6" in text and f"{params:,} parameters" in text and "✓" in text


def test_every_analysis_step_gives_a_verdict_from_its_own_network():
    for s in lecture.STEPS:
        if s.view == lecture.ANALYSIS:
            a = explorer.analyze(s.preset, s.input_shape, **s.knobs)
            text = s.verdict(a)
            assert text.endswith(".") and len(text) > 60, s.slug
    densenet = explorer.analyze("densenet40_k12", (3, 32, 32), growth_rate=48)
    assert "k = 48" in lecture.dense_growth(densenet) and "36 of 36" in lecture.dense_growth(densenet)


def test_large_numbers_as_the_lecture_writes_them():
    assert lecture.power_of_two(600) == "2^600 ≈ 4.1 × 10¹⁸⁰"
    assert lecture.power_of_two(3) == "2^3 = 8"
    assert lecture.short(138_357_544) == "138.4 M" and lecture.short(456) == "456"


def test_a_step_is_found_by_name_or_number_and_a_wrong_one_is_named():
    assert lecture.step_index("densenet") == [s.slug for s in lecture.STEPS].index("densenet")
    assert lecture.step_index("2") == 1 and lecture.step_index(None) == 0
    with pytest.raises(KnobError, match="no step 'alexnet'.*conv-arithmetic"):
        lecture.step_index("alexnet")


def test_prepare_covers_every_experiment_and_every_transfer_scenario_once():
    runs = lecture.experiment_runs()
    assert len(runs) == len({(n, tuple(sorted(s.items()))) for n, s in runs})
    assert {s["scenario"] for n, s in runs if n == "transfer-cut"} == set(transfer_cut.SCENARIOS)
    assert {n for n, _ in runs} == {s.experiment for s in lecture.STEPS if s.experiment}


def test_graph_colours_sum_to_the_network():
    a = explorer.analyze("resnet20", (3, 32, 32))
    measures = zoom.node_measures(a, max_depth(a), fold=False)
    assert sum(m["params"] for m in measures.values()) == a.totals.params
    assert 1 <= zoom.fitting_depth(a) <= max_depth(a)


def test_the_page_opens_a_linked_step_in_presenter_mode_and_moves_on(app):
    at = app(page=LECTURE, query={"step": "densenet", "present": "1"})
    no_exceptions(at)
    assert at.query_params["step"] == "densenet" and at.query_params["present"] == "1"
    assert any("What the live result says" in s.value and "k = 12" in s.value for s in at.success)
    at.slider(key="lecture.densenet.growth_rate").set_value(48).run()
    assert any("k = 48" in s.value for s in at.success)
    at.button(key="lecture.next").click().run()
    no_exceptions(at)
    assert at.query_params["step"] == "dpn"
    assert any("dense path grows" in s.value for s in at.success)


def test_a_bad_step_in_the_link_is_one_sentence(app):
    at = app(page=LECTURE, query={"step": "alexnet"})
    no_exceptions(at)
    assert any("no step 'alexnet'" in e.value for e in at.error)
    assert at.query_params["step"] == "conv-arithmetic"


def test_an_uncomputed_experiment_offers_to_compute_it(app, cache_dir):
    at = app(page=LECTURE, query={"step": "layer-removal"})
    no_exceptions(at)
    assert any("has not been computed" in w.value for w in at.warning)
    assert at.button(key="lecture.layer-removal.run")


def test_the_copy_link_holds_the_page_s_own_settings(app):
    at = app(page="app_pages/layer_arithmetic.py", query={"lab.kernels": "12"})
    no_exceptions(at)
    assert at.session_state["lab.kernels"] == 12
    links = [c.value for c in at.caption if "lab.kernels=12" in c.value]
    assert links and "lab.stride=" in links[0]
