"""AppTest: the Explore and Compare pages, driven through the shared sidebar."""

from helpers import drawings, metric, no_exceptions

EXPLORE, COMPARE = "app_pages/explore.py", "app_pages/compare.py"


def _dot(at):
    graphs = drawings(at)
    assert graphs, "no graph on the page"
    return graphs[0]


def test_explore_opens_on_vgg16_at_cifar_size(app):
    at = app()
    no_exceptions(at)
    assert at.title[0].value == "VGG-16 (config D)"
    assert metric(at, "Parameters") == "37,694,248"  # 512-input FC-4096 at 32x32
    assert "block1" in _dot(at)


def test_moving_a_knob_or_the_input_size_changes_totals_and_graph(app):
    at = app()
    assert at.title[0].value == "VGG-16 (config D)"
    before, dot_before = metric(at, "Parameters"), _dot(at)
    at.slider(key="vgg.width").set_value(32).run()
    no_exceptions(at)
    assert metric(at, "Parameters") != before
    assert _dot(at) != dot_before
    madds = metric(at, "Multiply-adds")
    at.slider(key="in.h").set_value(64).run()
    assert metric(at, "Multiply-adds") != madds
    assert "Changed from the preset: kernels (first stage)." in [c.value for c in at.sidebar.caption]
    assert at.title[0].value == "VGG"  # no longer VGG-16: the page names the family, not a preset it left
    assert at.selectbox(key="vgg.preset").value == "vgg16"  # the sidebar keeps where it started, with the caption


def test_a_collapsing_input_is_one_sentence_and_the_input_stays(app):
    at = app()
    at.slider(key="in.h").set_value(16).run()
    no_exceptions(at)
    assert len(at.error) == 1
    assert "block5.pool" in at.error[0].value and "3x32x32" in at.error[0].value
    assert at.slider(key="in.h").value == 16


def test_a_bad_knob_text_is_one_sentence(app):
    at = app(query={"family": "densenet"})
    at.text_input(key="densenet.block_config").set_value("6, x, 24").run()
    no_exceptions(at)
    assert "block_config" in at.error[0].value
    assert at.text_input(key="densenet.block_config").value == "6, x, 24"


def test_choosing_a_preset_loads_its_knobs(app):
    at = app()
    at.selectbox(key="family").set_value("resnet").run()
    at.selectbox(key="resnet.preset").set_value("resnet56").run()
    no_exceptions(at)
    assert metric(at, "Parameters") == "853,018"
    assert at.selectbox(key="resnet.depth").value == 56


def test_a_link_reproduces_the_view(app):
    at = app(query={"family": "resnet", "preset": "resnet56", "input": "3x40x40"})
    no_exceptions(at)
    assert at.title[0].value.startswith("ResNet-56")
    assert metric(at, "Parameters") == "853,018"
    assert at.slider(key="in.h").value == 40
    # and the URL follows the widgets: a knob that leaves the preset is written, with the input
    at.selectbox(key="resnet.depth").set_value(110).run()
    assert at.query_params["depth"] == "110" and at.query_params["preset"] == "resnet56"
    assert at.query_params["input"] == "3x40x40"
    again = app(query=dict(at.query_params))
    assert metric(again, "Parameters") == metric(at, "Parameters") != "853,018"


def test_choice_survives_switching_pages(app):
    at = app()
    at.slider(key="vgg.width").set_value(16).run()
    at.switch_page(COMPARE).run()
    no_exceptions(at)
    at.switch_page(EXPLORE).run()
    assert at.slider(key="vgg.width").value == 16


def test_table_and_derivation(app):
    at = app(query={"family": "seed_cnn"})
    no_exceptions(at)
    assert at.dataframe[0].value.shape[0] == 12
    text = " ".join(m.value for m in at.markdown)
    assert "6 · (5·5 · 3 + 1) = 456" in text and "PyTorch: 456 ✓" in text


def test_compare_page_shows_all_configurations_beside_table_2(app):
    at = app(page=COMPARE)
    no_exceptions(at)
    df = at.dataframe[0].value
    assert list(df["configuration"]) == ["A", "A-LRN", "B", "C", "D", "E"]
    assert list(df["Table 2 (millions)"]) == list(df["ours at 224, millions"]) == [133, 133, 133, 134, 138, 144]
    at.slider(key="in.h").set_value(64).run()
    assert at.dataframe[0].value["params (this input)"].iloc[0] != df["params (this input)"].iloc[0]


def test_the_idea_tabs_of_vgg_resnet_and_densenet(app):
    at = app(query={"family": "vgg"})
    no_exceptions(at)
    table = next(e.proto.body for e in at.get("html") if "vgg-table" in e.proto.body)
    assert "<th>A</th><th>A-LRN</th><th>B</th><th>C</th><th>D ◀</th><th>E</th>" in table  # D: the sidebar's
    assert "<td>conv3-256<br>conv3-256<br>conv1-256</td>" in table  # one layer per line, as the paper prints it
    at = app(query={"family": "resnet", "preset": "resnet56"})
    text = " ".join(m.value for m in at.markdown)
    assert "27 residual blocks" in text and f"{2**27:,} paths" in text
    at = app(query={"family": "densenet", "preset": "densenet40_k12"})
    rows = at.dataframe[-1].value
    assert len(rows) == 36 and set(rows["agrees"]) == {"✓"}
    assert "16 + 12·(12 - 1) = 148" in list(rows["k0 + k (n - 1)"])
    at.slider(key="densenet.growth_rate").set_value(24).run()
    assert "16 + 24·(12 - 1) = 280" in list(at.dataframe[-1].value["k0 + k (n - 1)"])


def test_the_measured_switch_adds_latency_columns_chart_and_sentence(app):
    at = app(query={"family": "resnet", "preset": "resnet20"})
    assert not [m for m in at.metric if m.label == "Median latency (1 image)"]
    at.toggle(key="explore.measured").set_value(True).run()
    no_exceptions(at)
    assert metric(at, "Median latency (1 image)").endswith(" ms")
    assert metric(at, "Peak activation memory").endswith(" MB")
    table = at.dataframe[0].value
    assert {"median ms", "share of time", "G mult-adds/s"} <= set(table.columns)
    assert table["median ms"].notna().sum() == len(table)  # every layer call of resnet20 was timed
    assert any("of the time" in m.value and "PyTorch" in m.value for m in at.markdown)
    assert any("ms (quartiles" in c.value or "Spread: quartiles" in c.value for c in at.caption)


def test_compare_measures_presets_at_one_input_and_ranks_them(app):
    at = app(page=COMPARE)
    at.multiselect(key="compare.measure.presets").set_value(["resnet20", "resnet32"]).run()
    at.select_slider(key="compare.side").set_value(64).run()
    assert not any("rank by latency" in t.value.columns for t in at.dataframe)  # nothing runs before the click
    at.button(key="compare.measure.go").click().run()
    no_exceptions(at)
    table = next(t for t in at.dataframe if "rank by latency" in t.value.columns)
    assert set(table.value["preset"]) == {"resnet20", "resnet32"}
    assert sorted(table.value["rank by multiply-adds"]) == [1, 2]
