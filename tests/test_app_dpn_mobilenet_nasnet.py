"""AppTest: the DPN, MobileNet v1/v2 and NASNet views ("The idea" tab of Explore), driven through their widgets."""

from helpers import drawings, metric, no_exceptions


def _frame(at, column):
    """The dataframe that has `column` (the views' tables sit beside the per-layer table)."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with a '{column}' column")


def _dots(at):
    return drawings(at)


def _markdown(at):
    return " ".join(m.value for m in at.markdown)


def _caption(at):
    return " ".join(c.value for c in at.caption)


# -- DPN --------------------------------------------------------------------------------------------------------


def test_dpn_view_tables_the_two_paths_and_follows_the_knobs(app):
    at = app(query={"family": "dpn"})
    no_exceptions(at)
    assert at.title[0].value == "DPN-92 (32x3d)"
    paths = _frame(at, "dense (concatenated)")
    assert len(paths) == 30 and list(paths["residual (added)"][:3]) == [256, 256, 256]
    assert list(paths["dense (concatenated)"][:3]) == [48, 64, 80]  # 3 x 16, then + 16 a block
    at.text_input(key="dpn.inc_sec").set_value("8,32,24,128").run()
    no_exceptions(at)
    assert list(_frame(at, "dense (concatenated)")["dense (concatenated)"][:3]) == [24, 32, 40]
    chart_before = at.get("plotly_chart")[0].proto.spec
    at.radio(key="dpn.idea.scale").set_value("share of the block's output").run()
    assert (
        at.get("plotly_chart")[0].proto.spec != chart_before
        and "% of the block" in at.get("plotly_chart")[0].proto.spec
    )


def test_dpn_mismatched_stage_lists_are_one_sentence_and_stay(app):
    at = app(query={"family": "dpn"})
    at.text_input(key="dpn.inc_sec").set_value("16,32,24").run()
    no_exceptions(at)
    assert len(at.error) == 1 and "one dense increment per stage" in at.error[0].value
    assert at.text_input(key="dpn.inc_sec").value == "16,32,24"


def test_dpn_presets_reproduce_the_published_counts(app):
    at = app(query={"family": "dpn", "preset": "dpn98"})
    no_exceptions(at)
    assert metric(at, "Parameters") == "61,570,728"
    assert "✓ agrees" in _markdown(at) and "✗" not in _markdown(at)


# -- MobileNet v1 -----------------------------------------------------------------------------------------------


def test_mobilenet_v1_calculator_counts_both_layers(app):
    at = app(query={"family": "mobilenet_v1"})
    no_exceptions(at)
    assert metric(at, "Parameters") == "4,231,976"
    assert metric(at, "Standard conv, multiply-adds") == f"{3 * 3 * 512 * 512 * 14 * 14:,}"
    assert "3·3·512·512·14·14" in _markdown(at)
    at.slider(key="mobilenet_v1.calc.O").set_value(64).run()
    at.slider(key="mobilenet_v1.calc.Fm").set_value(56).run()
    no_exceptions(at)
    assert metric(at, "Standard conv, multiply-adds") == f"{3 * 3 * 512 * 64 * 56 * 56:,}"
    assert metric(at, "Depthwise separable, multiply-adds") == f"{3 * 3 * 512 * 56 * 56 + 512 * 64 * 56 * 56:,}"
    assert metric(at, "Separable / standard") == f"{1 / 64 + 1 / 9:.4f}"
    assert "1/64 + 1/3²" in _markdown(at) and "✗" not in _markdown(at)


def test_mobilenet_v1_alpha_and_resolution_change_the_network_and_the_plot(app):
    at = app(query={"family": "mobilenet_v1"})
    plot = at.get("plotly_chart")[0].proto.spec
    assert "paper, Table 6" in plot and "paper, Table 7" in plot
    at.slider(key="mobilenet_v1.alpha").set_value(0.5).run()
    no_exceptions(at)
    assert metric(at, "Parameters") == "1,331,592"
    madds = metric(at, "Multiply-adds")
    at.slider(key="mobilenet_v1.resolution").set_value(160).run()
    no_exceptions(at)
    assert metric(at, "Multiply-adds") != madds and metric(at, "Parameters") == "1,331,592"
    assert "Input 3×160×160, set by 'resolution'." in [c.value for c in at.sidebar.caption]
    assert at.get("plotly_chart")[0].proto.spec != plot  # the red star moved
    assert at.query_params["resolution"] == "160" and at.query_params["input"] == "3x160x160"


def test_conv_mobilenet_toggle_and_the_table_4_figures(app):
    at = app(query={"family": "mobilenet_v1"})
    at.toggle(key="mobilenet_v1.depthwise").set_value(False).run()
    no_exceptions(at)
    assert metric(at, "Parameters") == "29,294,088"
    types = _frame(at, "paper mult-adds %")
    assert "Conv DW 3x3" not in list(types["type"])
    at = app(query={"family": "mobilenet_v1", "preset": "conv_mobilenet_v1"})
    assert "Table 4" in _markdown(at) and "✓ agrees" in _markdown(at)


def test_mobilenet_v1_published_rows_agree_and_the_button_sets_the_resolution(app):
    at = app(query={"family": "mobilenet_v1", "preset": "mobilenet_v1_192"})
    no_exceptions(at)
    assert at.slider(key="mobilenet_v1.resolution").value == 192
    assert "Table 7" in _markdown(at) and "✓ agrees" in _markdown(at)
    at.button(key="published.3x224x224").click().run()
    no_exceptions(at)
    assert at.slider(key="mobilenet_v1.resolution").value == 224
    assert metric(at, "Multiply-adds") == "568.74 M"


# -- MobileNet v2 -----------------------------------------------------------------------------------------------


def test_mobilenet_v2_view_draws_the_chosen_block(app):
    at = app(query={"family": "mobilenet_v2"})
    no_exceptions(at)
    assert metric(at, "Parameters") == "3,504,872"
    stages = _frame(at, "expanded (t k)")
    assert list(stages["output (k')"]) == [16, 24, 32, 64, 96, 160, 320]
    dot = [d for d in _dots(at) if "linear (project)" in d][0]
    assert "shortcut" in dot  # bottleneck2.2: stride 1, 24 -> 24 channels
    at.selectbox(key="mobilenet_v2.idea.block").set_value("bottleneck4.1").run()
    no_exceptions(at)
    dot = [d for d in _dots(at) if "linear (project)" in d][0]
    assert "shortcut" not in dot and "stride 2" in dot and "32×28×28 → 192×28×28" in dot
    assert "Parameters of this block" in [m.label for m in at.metric]


def test_mobilenet_v2_width_multiplier_changes_the_stage_table(app):
    at = app(query={"family": "mobilenet_v2"})
    at.slider(key="mobilenet_v2.width_mult").set_value(0.5).run()
    no_exceptions(at)
    assert list(_frame(at, "expanded (t k)")["output (k')"]) == [8, 16, 16, 32, 48, 80, 160]
    assert metric(at, "Parameters") == "1,968,680"


# -- NASNet -----------------------------------------------------------------------------------------------------


def test_nasnet_view_draws_both_cells_with_their_counts(app):
    at = app(query={"family": "nasnet"})
    no_exceptions(at)
    assert metric(at, "Parameters") == "5,289,978"
    cells = [d for d in _dots(at) if "concat" in d and "h_{i+1}" in d]
    assert len(cells) == 2
    assert "cell_0: Normal Cell, 33,000 parameters" in cells[0]
    assert "reduction_cell_0: Reduction Cell, 153,648 parameters" in cells[1]
    at.selectbox(key="nasnet.idea.normal").set_value("cell_9").run()
    no_exceptions(at)
    cells = [d for d in _dots(at) if "concat" in d and "h_{i+1}" in d]
    assert "cell_9: Normal Cell, 650,848 parameters" in cells[0] and "176×7×7" in cells[0]
    assert len(_frame(at, "filters")) == 16


def test_nasnet_knobs_change_the_stack_and_bad_filters_are_one_sentence(app):
    at = app(query={"family": "nasnet"})
    at.slider(key="nasnet.cell_repeats").set_value(2).run()
    no_exceptions(at)
    assert len(_frame(at, "filters")) == 2 + 2 + 3 * 2
    at.number_input(key="nasnet.penultimate_filters").set_value(1000).run()
    no_exceptions(at)
    assert len(at.error) == 1 and "984 and 1008" in at.error[0].value
    assert at.number_input(key="nasnet.penultimate_filters").value == 1000
