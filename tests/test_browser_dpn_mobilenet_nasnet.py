"""The DPN, MobileNet and NASNet views in Debian's Chromium: open "The idea", move a widget, see it change."""

import pytest
from playwright.sync_api import expect

from conftest import metric_value, rerun, screenshot, wait_idle

pytestmark = pytest.mark.browser


def _metric(pg, label):
    box = pg.locator("[data-testid=stMetric]", has_text=label).first
    return box.locator("[data-testid=stMetricValue]").inner_text()


def _idea(pg):
    pg.get_by_role("tab", name="The idea").click()
    wait_idle(pg)


def _errors(pg):
    assert pg.locator("[data-testid=stException]").count() == 0


def test_dpn_paths(page):
    pg = page.open("/?family=dpn&preset=dpn92")
    assert pg.locator("h1").first.inner_text() == "DPN-92 (32x3d)"
    expect(metric_value(pg, "Parameters")).to_have_text("37,668,392")
    _idea(pg)
    pg.wait_for_selector(".js-plotly-plot")
    assert pg.get_by_text("residual path (added, +)").count() >= 1
    pg.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(pg, "idea-dpn92-paths")
    with rerun(pg):
        pg.get_by_text("share of the block's output").click()
    assert pg.get_by_text("% of the block's output channels").count() >= 1
    _errors(pg)


def test_mobilenet_v1_calculator_and_multipliers(page):
    pg = page.open("/?family=mobilenet_v1")
    expect(metric_value(pg, "Parameters")).to_have_text("4,231,976")
    _idea(pg)
    before = _metric(pg, "Standard conv, multiply-adds")
    assert before == f"{3 * 3 * 512 * 512 * 14 * 14:,}"
    slider = pg.locator("[data-testid=stSlider]", has_text="O (output channels)").get_by_role("slider")
    slider.focus()
    for _ in range(8):
        pg.keyboard.press("ArrowLeft")
    value = pg.locator("[data-testid=stMetric]", has_text="Standard conv, multiply-adds").locator(
        "[data-testid=stMetricValue]"
    )
    expect(value).to_have_text(f"{3 * 3 * 512 * 504 * 14 * 14:,}")  # the last key press's rerun has drawn
    wait_idle(pg)
    assert pg.get_by_text("3·3·512·504·14·14").count() >= 1
    screenshot(pg, "idea-mobilenet-calculator")
    plot = pg.locator(".js-plotly-plot").first
    plot.scroll_into_view_if_needed()
    pg.wait_for_timeout(500)
    assert "paper, Table 6" in plot.inner_text()
    screenshot(pg, "idea-mobilenet-multipliers")
    _errors(pg)


def test_mobilenet_v2_block(page):
    pg = page.open("/?family=mobilenet_v2")
    expect(metric_value(pg, "Parameters")).to_have_text("3,504,872")
    _idea(pg)
    svg = pg.locator("[data-testid=stGraphVizChart] svg", has_text="linear (project)")
    svg.wait_for()
    expect(svg).to_contain_text("shortcut")
    svg.scroll_into_view_if_needed()
    pg.wait_for_timeout(300)
    screenshot(pg, "idea-mobilenet-v2-block")
    _errors(pg)


def test_nasnet_cells(page):
    pg = page.open("/?family=nasnet&preset=nasnet_a_mobile")
    expect(metric_value(pg, "Parameters")).to_have_text("5,289,978")
    _idea(pg)
    cells = pg.locator("[data-testid=stGraphVizChart] svg", has_text="concat")
    cells.first.wait_for()
    expect(cells).to_have_count(2)
    expect(cells.first).to_contain_text("sep 5x5")
    expect(cells.first).to_contain_text("33,000 parameters")
    cells.first.scroll_into_view_if_needed()
    pg.wait_for_timeout(300)
    screenshot(pg, "idea-nasnet-cells")
    _errors(pg)
