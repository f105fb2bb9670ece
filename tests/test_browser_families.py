"""The GoogLeNet, FractalNet and SqueezeNet views and the Compare page's families tab, in Debian's Chromium."""

import pytest
from playwright.sync_api import expect

from conftest import metric_value, rerun, screenshot, wait_idle

pytestmark = pytest.mark.browser


def _metric(pg, label):
    box = pg.locator("[data-testid=stMetric]").filter(has=pg.locator("[data-testid=stMetricLabel]", has_text=label))
    return box.first.locator("[data-testid=stMetricValue]").inner_text()


def _open_idea(pg):
    pg.get_by_role("tab", name="The idea").click()
    wait_idle(pg)


def _show(pg, text):
    """Scroll a heading to the top of the window (and move the mouse away from any tooltip)."""
    pg.mouse.move(5, 5)
    pg.get_by_text(text, exact=True).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    pg.wait_for_timeout(500)


def test_googlenet_module_table_and_calculator(page):
    pg = page.open("/?family=googlenet&preset=googlenet&input=3x224x224")
    assert pg.locator("h1").first.inner_text() == "GoogLeNet (the paper's Table 1)"
    _open_idea(pg)
    module = pg.locator("[data-testid=stGraphVizChart]", has_text="filter concatenation").first
    module.locator("svg").wait_for()
    expect(module).to_contain_text("inception (3a)")  # the drawing may still be in progress
    _show(pg, "The Inception module")
    screenshot(pg, "googlenet-inception-module")
    assert pg.get_by_text("Where and why our counts differ").count() == 1
    _show(pg, "Per module, beside the paper's Table 1")
    screenshot(pg, "googlenet-table-1")
    expect(metric_value(pg, "Parameters, with 1x1 reductions")).to_have_text("163,696")
    box = pg.locator("[data-testid=stNumberInput]", has_text="#5x5 reduce").locator("input")
    box.fill("64")
    with rerun(pg):
        box.press("Enter")
    expect(metric_value(pg, "Parameters, with 1x1 reductions")).not_to_have_text("163,696")
    expect(metric_value(pg, "Parameters, naive module")).to_have_text("387,296")
    _show(pg, "Inception module calculator")
    screenshot(pg, "googlenet-calculator")
    assert pg.locator("[data-testid=stException]").count() == 0


def test_fractalnet_sample_button_draws_new_paths(page):
    pg = page.open("/?family=fractalnet&preset=fractalnet40&input=3x32x32")
    _open_idea(pg)
    expect(metric_value(pg, "Seed")).to_have_text("0")
    local = pg.locator("[data-testid=stGraphVizChart]", has_text="Local, p").first
    local.locator("svg").wait_for()
    before = local.inner_html()
    with rerun(pg):
        pg.get_by_role("button", name="Sample").click()
    expect(metric_value(pg, "Seed")).to_have_text("1")
    local = pg.locator("[data-testid=stGraphVizChart]", has_text="Local, p").first
    local.locator("svg").wait_for()
    pg.wait_for_function(
        "([element, before]) => element.innerHTML !== before",  # redrawn, maybe still drawing
        arg=[local.element_handle(), before],
    )
    _show(pg, "Drop-path")
    screenshot(pg, "fractalnet-drop-path")
    _show(pg, "The expansion rule")
    screenshot(pg, "fractalnet-expansion-rule")
    assert pg.locator("[data-testid=stException]").count() == 0


def test_squeezenet_squeeze_ratio_plot(page):
    pg = page.open("/?family=squeezenet&preset=squeezenet1_0&input=3x224x224")
    assert pg.locator("h1").first.inner_text().startswith("SqueezeNet 1.0")
    _open_idea(pg)
    pg.wait_for_selector(".js-plotly-plot")
    assert pg.get_by_text("each squeeze filter adds").count() == 1
    _show(pg, "Squeeze ratio against parameters")
    screenshot(pg, "squeezenet-squeeze-ratio")
    assert pg.locator("[data-testid=stException]").count() == 0


def test_compare_across_families(page):
    pg = page.open("/compare")
    pg.get_by_role("tab", name="Across families").click()
    wait_idle(pg)
    pg.locator("[data-testid=stPlotlyChart]", has_text="Table 8").first.wait_for()
    assert pg.get_by_text("ours (googlenet)").count() > 0
    screenshot(pg, "compare-families")
    assert pg.locator("[data-testid=stException]").count() == 0
