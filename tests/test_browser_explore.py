"""The real app in Debian's Chromium: change a slider, see the table and the graph update."""

import re

import pytest
from playwright.sync_api import expect

from conftest import layer_graph, metric_value, rerun, screenshot, wait_idle

pytestmark = pytest.mark.browser


def test_slider_updates_totals_table_and_graph(page):
    pg = page.open("/?family=vgg&preset=vgg16&input=3x32x32")
    assert pg.locator("h1").first.inner_text() == "VGG-16 (config D)"
    expect(metric_value(pg, "Parameters")).to_have_text("37,694,248")
    graph_before = layer_graph(pg)
    assert "block1" in graph_before and "3×32×32" in graph_before
    screenshot(pg, "explore-vgg16")

    slider = pg.locator("[data-testid=stSidebar] [data-testid=stSlider]", has_text="Input size").get_by_role("slider")
    slider.focus()
    with rerun(pg, 800):
        for _ in range(32):  # 32 -> 64 with the keyboard, as a student would
            pg.keyboard.press("ArrowRight")
    expect(pg.locator("[data-testid=stSidebar] [data-testid=stSlider]", has_text="Input size")).to_contain_text("64")
    value = pg.locator("[data-testid=stMetric]", has_text="Parameters").locator("[data-testid=stMetricValue]")
    expect(value).not_to_have_text("37,694,248")  # the rerun of the last key press has drawn
    wait_idle(pg)
    graph_after = layer_graph(pg, containing="3×64×64")
    assert "3×64×64" in graph_after and graph_after != graph_before
    expect(pg).to_have_url(re.compile(r"input=3x64x64"))

    pg.get_by_role("tab", name="Shapes and parameters").click()
    wait_idle(pg)
    table = pg.locator("[data-testid=stDataFrame]").first
    table.wait_for()
    assert table.is_visible()
    derivation = pg.get_by_text("64 · (3·3 · 3 + 1) = 1,792").first
    derivation.scroll_into_view_if_needed()
    assert (
        pg.locator("[data-testid=stMarkdownContainer]", has_text="64 · (3·3 · 3 + 1) = 1,792")
        .last.inner_text()
        .endswith("PyTorch: 1,792 ✓")
    )
    pg.mouse.wheel(0, 250)
    pg.wait_for_timeout(300)
    screenshot(pg, "explore-table")


def test_a_deep_link_opens_with_the_sidebar_and_the_choice(page):
    pg = page.open("/compare?family=resnet&preset=resnet56&input=3x32x32")
    assert pg.locator("h1").first.inner_text() == "Compare architectures"
    assert pg.get_by_role("tab", name="VGG A to E").is_visible()
    assert pg.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").count() >= 2
    pg.wait_for_selector(".js-plotly-plot")
    screenshot(pg, "compare-vgg")
    with rerun(pg):
        pg.get_by_role("link", name="Explore").first.click()
    expect(pg.locator("h1").first).to_contain_text("ResNet-56")
    expect(metric_value(pg, "Parameters")).to_have_text("853,018")
    screenshot(pg, "explore-resnet56")


def test_a_bad_input_is_one_sentence_not_a_traceback(page):
    pg = page.open("/?family=vgg&preset=vgg16&input=3x16x16")
    alert = pg.locator("[data-testid=stAlertContentError]").first
    assert "smallest input that works is 3x32x32" in alert.inner_text()
    assert pg.locator("[data-testid=stException]").count() == 0
