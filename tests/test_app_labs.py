"""AppTest: the Labs pages (Layer arithmetic, Exercises, Custom builder) and the PyTorch code tab of Explore."""

from explorer.families.custom import table_1_text
from helpers import drawings, metric, no_exceptions

LAB, EXERCISES, BUILDER, EXPLORE = (
    "app_pages/layer_arithmetic.py",
    "app_pages/exercises.py",
    "app_pages/custom_builder.py",
    "app_pages/explore.py",
)


def _text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _plotly(at, containing=""):
    return next(c.proto.spec for c in at.get("plotly_chart") if containing in c.proto.spec)


# -- Layer arithmetic ------------------------------------------------------------------------------


def test_layer_arithmetic_opens_on_the_lectures_first_convolution(app):
    at = app(page=LAB)
    no_exceptions(at)
    assert metric(at, "Output volume (A × L × D)") == "28 × 28 × 6"
    assert metric(at, "Parameters") == "456" and metric(at, "Multiply-adds") == "352,800"
    text = _text(at)
    assert "`⌊(32 − 5 + 2·0) / 1⌋ + 1 = 28` — PyTorch: 28" in text and "6 · (5·5 · 3 + 1) = 456" in text
    assert any("nn.Conv2d(3, 6, 5)" in c.value for c in at.code)  # beside the copy-link box


def test_a_stride_that_does_not_divide_is_explained_and_fixed(app):
    at = app(page=LAB)
    at.number_input(key="lab.field").set_value(3).run()
    at.number_input(key="lab.stride").set_value(3).run()
    no_exceptions(at)
    assert metric(at, "Output volume (A × L × D)") == "10 × 10 × 6"
    notes = " ".join(i.value for i in at.info)
    assert "is not a whole number: PyTorch floors it" in notes and "Paddings that make it exact: 2." in notes
    at.number_input(key="lab.padding").set_value(2).run()
    assert metric(at, "Output volume (A × L × D)") == "12 × 12 × 6"
    assert "not a whole number" not in " ".join(i.value for i in at.info)


def test_same_padding_dense_and_depthwise(app):
    at = app(page=LAB)
    at.number_input(key="lab.stride").set_value(2).run()
    at.radio(key="lab.padding_mode").set_value("same").run()
    no_exceptions(at)
    assert metric(at, "Output volume (A × L × D)") == "16 × 16 × 6"
    assert any("padding='same' is not supported for strided convolutions" in i.value for i in at.info)
    at.selectbox(key="lab.kind").set_value("dwconv").run()
    assert metric(at, "Output volume (A × L × D)") == "16 × 16 × 18"  # 3 channels x 6 kernels each
    at.selectbox(key="lab.kind").set_value("dense").run()
    assert metric(at, "Output volume (A × L × D)") == "6" and metric(at, "Parameters") == f"{(3 * 32 * 32 + 1) * 6:,}"


def test_the_sliding_window_moves_with_its_slider(app):
    at = app(page=LAB)
    for key, value in (("lab.height", 7), ("lab.width", 7), ("lab.field", 3), ("lab.stride", 2), ("lab.padding", 1)):
        at.number_input(key=key).set_value(value).run()
    no_exceptions(at)
    first = _plotly(at)
    at.slider(key="lab.step").set_value(5).run()
    assert _plotly(at) != first
    assert "Window 5 of 16" in " ".join(c.value for c in at.caption)
    at.number_input(key="lab.stride").set_value(3).run()  # 9 windows now: the slider follows
    assert at.slider(key="lab.step").value == 5 and "Window 5 of 9" in " ".join(c.value for c in at.caption)


def test_a_window_that_does_not_fit_is_one_sentence_and_the_inputs_stay(app):
    at = app(page=LAB)
    at.number_input(key="lab.height").set_value(3).run()
    no_exceptions(at)
    assert len(at.error) == 1 and "make the height at least 5 or pad by at least 1" in at.error[0].value
    assert at.number_input(key="lab.height").value == 3


def test_receptive_field_of_the_sidebars_network(app):
    at = app(page=LAB, query={"family": "seed_cnn"})
    no_exceptions(at)
    table = at.dataframe[0].value
    assert list(table["receptive field"]) == [5, 6, 14, 16] and list(table["jump"]) == [1, 2, 2, 4]
    assert metric(at, "Receptive field of the last window") == "16 px"
    chart = _plotly(at, "receptive field r")
    at.slider(key="in.h").set_value(64).run()
    assert at.dataframe[0].value["output"].iloc[0] == "6x60x60" and _plotly(at, "receptive field r") != chart


def test_vgg16s_receptive_field_beside_the_published_one(app):
    at = app(page=LAB)
    no_exceptions(at)
    text = _text(at)
    assert "**receptive field** at block5.pool: published 212" in text and "ours **212**" in text
    assert "**effective padding** at block5.pool: published 90" in text and "cancel" not in text


# -- Exercises -----------------------------------------------------------------------------------


def test_the_default_exercise_is_the_lectures_and_hides_its_answers(app):
    at = app(page=EXERCISES)
    no_exceptions(at)
    assert at.subheader[0].value == "The lecture's exercise"
    assert len(at.text_input) == 8  # shape and parameters of 4 layers
    assert "Answer:" not in _text(at) and "2,416" not in _text(at)
    assert at.query_params["exercise"] == "0" and at.query_params["difficulty"] == "1"


def test_answers_are_checked_one_by_one_and_scored(app):
    at = app(page=EXERCISES)
    at.text_input(key="ex.0.1.0.shape").set_value("28x28x6").run()
    at.text_input(key="ex.0.1.2.params").set_value("2400").run()
    at.text_input(key="ex.0.1.1.params").set_value("zero").run()
    no_exceptions(at)
    assert [s.value for s in at.success] == ["Right"]
    assert len(at.error) == 1 and "Not this one" in at.error[0].value
    assert at.warning[0].value == "column 1: expected a whole number, found 'z'"
    assert at.info[0].value == "1 of 2 answers right this session."
    at.text_input(key="ex.0.1.2.params").set_value("2,416").run()
    assert at.info[0].value == "2 of 2 answers right this session."
    at.toggle(key="ex.0.1.3.show").set_value(True).run()
    assert "Answer: **5×5×16**, **0** parameters." in _text(at)
    assert at.info[0].value == "2 of 2 answers right this session; 2 shown before being answered."
    at.radio(key="ex.order").set_value("CHW").run()  # the same text now reads as C x H x W
    assert [s.value for s in at.success] == ["Right"] and len(at.error) == 1


def test_a_link_gives_the_class_the_same_exercise(app):
    at = app(page=EXERCISES, query={"exercise": "4242", "difficulty": "3"})
    no_exceptions(at)
    assert at.number_input(key="ex.seed").value == 4242 and at.selectbox(key="ex.level").value == 3
    assert at.subheader[0].value == "Exercise 4242 (1×1 convolutions and dense layers)"
    descriptions = _text(at)
    again = app(page=EXERCISES, query={"exercise": "4242", "difficulty": "3"})
    assert _text(again) == descriptions
    _button(at, "New exercise").click().run()
    assert at.number_input(key="ex.seed").value != 4242 and at.query_params["exercise"] != "4242"


def test_a_bad_link_falls_back_to_the_lecture_with_one_sentence(app):
    at = app(page=EXERCISES, query={"exercise": "abc", "difficulty": "9"})
    no_exceptions(at)
    assert "seed from 0 to 999,999" in at.warning[0].value and "lecture's exercise instead" in at.warning[0].value
    assert at.subheader[0].value == "The lecture's exercise"


def test_changing_the_level_of_the_lecture_draws_a_new_exercise(app):
    at = app(page=EXERCISES)
    at.selectbox(key="ex.level").set_value(4).run()
    no_exceptions(at)
    assert at.number_input(key="ex.seed").value != 0 and "Non-square" in at.subheader[0].value


# -- Custom builder --------------------------------------------------------------------------------


def test_the_builder_opens_on_the_lecture_network(app):
    at = app(page=BUILDER)
    no_exceptions(at)
    assert metric(at, "Parameters") == "62,006"
    assert "Conv2D(6, (5, 5)" in at.text_area(key="builder.spec").value


def test_a_parse_error_names_line_and_column_and_the_text_stays(app):
    at = app(page=BUILDER)
    text = "conv3-64\nmaxpool\n  conv3-x"
    at.text_area(key="builder.spec").set_value(text).run()
    no_exceptions(at)
    assert at.error[0].value == "line 3, column 9: expected a number of kernels after 'conv3-', found 'x'"
    assert any(c.value == "  conv3-x\n        ^" for c in at.code)
    assert at.text_area(key="builder.spec").value == text


def test_a_network_that_collapses_names_the_layer_and_its_line(app):
    at = app(page=BUILDER)
    at.text_area(key="builder.spec").set_value("conv3-8\nmaxpool, maxpool, maxpool, maxpool, maxpool, maxpool").run()
    no_exceptions(at)
    assert "at layer 'pool6'" in at.error[0].value and "3x64x64" in at.error[0].value
    assert "comes from line 2, column 46 of the box" in " ".join(c.value for c in at.caption)


def test_presets_fill_the_box_and_compare_with_the_vgg_family(app):
    at = app(page=BUILDER)
    at.selectbox(key="builder.preset").set_value("table1_d").run()
    no_exceptions(at)
    assert at.text_area(key="builder.spec").value == table_1_text("D")
    assert metric(at, "Parameters") == "37,694,248"  # VGG-16 at 32x32
    at.selectbox(key="builder.compare").set_value("vgg16").run()
    totals = at.dataframe[1].value
    assert list(totals["difference"]) == ["same"] * 5
    assert "16 of 16 have the same output and the same parameters" in " ".join(c.value for c in at.caption)
    assert any("def build_model() -> nn.Sequential" in c.value for c in at.code)
    assert at.query_params["net"] == table_1_text("D")


def test_user_text_is_escaped_in_the_graph_the_table_and_the_derivation(app):
    name = "<b>*bold*</b> $x$ :red[r] {a|b}"
    at = app(page=BUILDER)
    at.text_area(key="builder.spec").set_value(f"Conv2D(4, 3, name='{name}'), maxpool, FC-10").run()
    no_exceptions(at)
    dot = drawings(at)[0]  # the SVG the server drew, its text decoded
    assert "<b>" not in dot and "{a|b}" not in dot and "‹b›*bold*‹/b›" in dot
    assert name in list(at.dataframe[0].value["layer"])  # a table cell is plain text
    assert "**\\<b\\>\\*bold\\*\\</b\\> \\$x\\$ \\:red\\[r\\] \\{a\\|b\\}**" in _text(at)
    code = next(c.value for c in at.code if "build_model" in c.value)
    assert repr(name) in code


def test_a_link_fills_the_box_and_open_in_explore_takes_the_network_along(app):
    at = app(page=BUILDER, query={"net": "conv3-16, maxpool, FC-10"})
    no_exceptions(at)
    assert at.text_area(key="builder.spec").value == "conv3-16, maxpool, FC-10"
    params = metric(at, "Parameters")
    _button(at, "Open in Explore").click().run()
    no_exceptions(at)
    assert at.title[0].value == "Custom network" and metric(at, "Parameters") == params
    assert at.text_area(key="custom.spec").value == "conv3-16, maxpool, FC-10"  # the sidebar's box
    assert at.query_params["family"] == "custom" and at.query_params["spec"] == "conv3-16, maxpool, FC-10"


def test_the_custom_family_in_the_sidebar_and_the_code_tab_of_explore(app):
    at = app(query={"family": "custom", "preset": "table1_a"})
    no_exceptions(at)
    assert at.title[0].value == "Table 1, column A (paper notation)"
    before = metric(at, "Parameters")
    at.text_area(key="custom.spec").set_value("conv3-64, maxpool, FC-10").run()
    assert metric(at, "Parameters") != before
    assert any("('conv1', nn.Conv2d(3, 64, 3, padding=1))" in c.value for c in at.code)
    at.text_area(key="custom.spec").set_value("conv3-64, FC-x").run()
    assert "line 1, column 14" in at.error[0].value


def test_the_code_tab_exports_residual_networks_as_a_module(app):
    at = app(query={"family": "resnet", "preset": "resnet20"})
    no_exceptions(at)
    code = next(c.value for c in at.code if "build_model" in c.value)
    assert "class Resnet20(nn.Module)" in code and "add = layer1_0_bn2 + relu" in code
