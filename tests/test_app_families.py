"""AppTest: the GoogLeNet, FractalNet and SqueezeNet views ("The idea" tab) and the Compare page's families tab."""

from helpers import drawings, metric, no_exceptions

COMPARE = "app_pages/compare.py"


def _dots(at) -> list[str]:
    return drawings(at)


def _plots(at) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


def _table(at, column):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_googlenet_view_draws_the_module_and_follows_the_selection(app):
    at = app(query={"family": "googlenet"})
    no_exceptions(at)
    assert {"The Inception module", "Per module, beside the paper's Table 1", "Inception module calculator"} <= {
        s.value for s in at.subheader
    }
    module = next(d for d in _dots(at) if "inception (3a)" in d)
    assert "5x5 conv\\n32" in module and "filter concatenation\\n256" in module
    at.selectbox(key="googlenet.module").set_value("inception4e").run()
    no_exceptions(at)
    module_4e = next(d for d in _dots(at) if "inception (4e)" in d)
    assert "filter concatenation\\n832" in module_4e and "528" in module_4e


def test_googlenet_table_1_and_the_aux_classifiers(app):
    at = app(query={"family": "googlenet"})
    table = _table(at, "Table 1 row")
    assert list(table["printed params (K)"])[:3] == [2.7, 112, 159]
    assert list(table["agrees"])[:4] == [False, True, True, True]
    assert table.set_index("Table 1 row").loc["inception (3a)", "our params"] == 163_696
    text = _markdown(at)
    assert "Table 1's K is 1,024" in text and "2.7K × 12,544 = 34.7M" in text
    at.toggle(key="googlenet.aux_logits").set_value(True).run()
    no_exceptions(at)
    assert metric(at, "Parameters") == "13,378,280"
    table = _table(at, "Table 1 row")
    assert "auxiliary classifiers (training only)" in list(table["Table 1 row"])
    assert "6,379,728 parameters" in _markdown(at)


def test_inception_calculator_counts_live(app):
    at = app(query={"family": "googlenet"})
    assert metric(at, "Parameters, with 1x1 reductions") == "163,696"
    assert metric(at, "Parameters, naive module") == "387,296"
    at.number_input(key="googlenet.calc.w3").set_value(64).run()  # #5x5 reduce 16 -> 64
    no_exceptions(at)
    assert metric(at, "Parameters, with 1x1 reductions") != "163,696"
    assert metric(at, "Parameters, naive module") == "387,296"  # the naive module has no reduce
    at.number_input(key="googlenet.calc.in").set_value(480).run()
    assert metric(at, "Output channels (reduced / naive)") == "256 / 704"
    at.number_input(key="googlenet.calc.w2").set_value(12.5).run()  # the #3x3 width: refused, not read as 12
    no_exceptions(at)
    assert len(at.error) == 1 and "#3x3' expects a whole number; got 12.5." in at.error[0].value
    assert at.number_input(key="googlenet.calc.in").value == 480  # the rest as it was
    at.number_input(key="googlenet.calc.w2").set_value(1e9).run()
    assert "between 1 and 4096; got 1000000000" in at.error[0].value


def test_googlenet_away_from_224_offers_the_papers_input(app):
    at = app(query={"family": "googlenet", "input": "3x64x64"})
    no_exceptions(at)
    assert any("designed for 224x224" in i.value for i in at.info)
    at.button(key="googlenet.at224").click().run()
    assert at.slider(key="in.h").value == 224
    assert not any("designed for 224x224" in i.value for i in at.info)


def test_fractalnet_sample_button_changes_seed_and_paths(app):
    at = app(query={"family": "fractalnet"})
    no_exceptions(at)
    assert metric(at, "Seed") == "0"
    expansion = [d for d in _dots(at) if "C = " in d]
    assert len(expansion) == 4
    sampled = [d for d in _dots(at) if "Local, p" in d or "Global: column" in d]
    assert len(sampled) == 2
    at.button(key="fractalnet.sample").click().run()
    no_exceptions(at)
    assert metric(at, "Seed") == "1"
    assert [d for d in _dots(at) if "Local, p" in d or "Global: column" in d] != sampled
    captions = [c.value for c in at.caption if "convolutions run" in c.value]
    at.slider(key="fractalnet.p").set_value(0.6).run()
    assert [c.value for c in at.caption if "convolutions run" in c.value] != captions


def test_fractalnet_deepest_column_is_reachable_from_the_view(app):
    at = app(query={"family": "fractalnet"})
    table = _table(at, "conv layers on the longest path")
    assert list(table["conv layers on the longest path"]) == [40, 40]
    assert list(table["parameters"]) == [76_106_634, 42_387_146]
    at.button(key="fractalnet.keep").click().run()
    no_exceptions(at)
    assert at.number_input(key="fractalnet.column").value == 4
    assert metric(at, "Parameters") == "42,387,146"
    at.slider(key="fractalnet.columns").set_value(3).run()
    assert "has columns 1 to 3" in at.error[0].value  # column 4 no longer exists: one sentence, knobs kept
    assert at.number_input(key="fractalnet.column").value == 4


def test_fractalnet_too_many_blocks_for_the_input_is_one_sentence(app):
    at = app(query={"family": "fractalnet", "blocks": "6"})
    no_exceptions(at)
    assert len(at.error) == 1
    assert "at most 5 blocks" in at.error[0].value and "3x64x64" in at.error[0].value
    assert at.slider(key="fractalnet.blocks").value == 6 and at.slider(key="in.h").value == 32


def test_squeezenet_view_plots_the_squeeze_ratio(app):
    at = app(query={"family": "squeezenet"})
    no_exceptions(at)
    plots = _plots(at)
    assert len(plots) == 2 and "fire4 (ours, PyTorch)" in plots[0] and "the paper's SR = 0.125" in plots[0]
    at.selectbox(key="squeezenet.fire").set_value("fire9").run()
    assert _plots(at)[0] != plots[0] and "fire9" in _plots(at)[0]
    fires = _table(at, "squeeze 1x1 (s)")
    assert list(fires["squeeze 1x1 (s)"]) == [16, 16, 32, 32, 48, 48, 64, 64]
    at.slider(key="squeezenet.squeeze_ratio").set_value(0.25).run()
    no_exceptions(at)
    assert list(_table(at, "squeeze 1x1 (s)")["squeeze 1x1 (s)"]) == [32, 32, 64, 64, 96, 96, 128, 128]
    assert metric(at, "Parameters") != "1,248,424"


def test_compare_across_families(app):
    at = app(page=COMPARE)
    no_exceptions(at)
    assert at.title[0].value == "Compare architectures"
    table = _table(at, "depth (weight layers on the longest path)")
    assert {"vgg16", "googlenet", "squeezenet1_0", "resnet56"} <= set(table["preset"])
    at.multiselect(key="compare.presets").set_value(["vgg16", "googlenet", "fractalnet40"]).run()
    no_exceptions(at)
    table = _table(at, "depth (weight layers on the longest path)")
    assert list(table["input"]) == ["3x224x224", "3x224x224", "3x32x32"]
    assert list(table["depth (weight layers on the longest path)"]) == [16, 22, 41]
    assert "ours (googlenet) 1,583M and 7.00M" in _markdown(at)
    scatter = next(p for p in _plots(at) if "Table 8" in p)
    assert "GoogleNet" in scatter and "fractalnet40" in scatter
    at.multiselect(key="compare.presets").set_value([]).run()
    assert any("Pick one or more presets" in i.value for i in at.info)
