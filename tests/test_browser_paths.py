"""The Residual paths and Layer removal pages in Debian's Chromium: remove a block, train live, measure."""

import pytest
from playwright.sync_api import expect

from conftest import metric_value, rerun, screenshot, wait_idle
from explorer.experiments import get_experiment
from explorer.experiments.layer_removal import network_settings
from explorer.live import cache

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# The CI setting of tests/test_layer_removal.py: the lecture's effect with a wide margin, ~25 s of training.
SMALL = {"epochs": 3, "draws": 2}
MEASURE = {"epochs": 3, "samples": 5}


def _forget_small_setting():
    """The server shares this process's cache folder: forget these settings so the pages compute them live."""
    settings = get_experiment("layer-removal").check(SMALL)
    for kind, values in [
        ("experiments/layer-removal", settings),
        ("experiments/path-gradients", get_experiment("path-gradients").check(MEASURE)),
    ] + [("layer-removal", network_settings(settings, net)) for net in ("residual", "plain")]:
        for path in cache._paths(kind, values):
            path.unlink(missing_ok=True)


def _to_top(locator):
    """Scroll so that this element is at the top of the window (what the screenshot shows)."""
    locator.evaluate("e => e.scrollIntoView({block: 'start'})")
    locator.page.wait_for_timeout(300)


def _metric(pg, label):
    return pg.locator("[data-testid=stMetric]", has_text=label).locator("[data-testid=stMetricValue]").inner_text()


def test_removing_a_block_redraws_the_expression_and_the_graphs(page):
    pg = page.open("/paths")
    assert pg.locator("h1").first.inner_text() == "Unravelled residual paths"
    expect(metric_value(pg, "Paths, 2^N")).to_have_text("8")
    graphs = pg.locator("[data-testid=stGraphVizChart] svg")
    graphs.first.wait_for()
    expect(graphs).to_have_count(2)
    expect(graphs.first).to_contain_text("8 of 8 paths")
    box = pg.locator("[data-testid=stSelectbox]", has_text="Remove block")
    box.locator("input").click()
    pg.keyboard.type("f_2")  # as a person types into the box; the list filters to one option
    with rerun(pg):
        pg.keyboard.press("Enter")
    expect(graphs.first).to_contain_text("4 of 8 paths")
    expect(pg.get_by_text("Plain: 0 of 1 path")).to_be_visible()
    _to_top(pg.locator("h2", has_text="Unravelled"))
    screenshot(pg, "paths-unravelled")


def test_layer_removal_trains_live_then_paths_reuse_the_network(page):
    _forget_small_setting()
    pg = page.open("/layer-removal?" + "&".join(f"layer-removal.{k}={v}" for k, v in SMALL.items()))
    pg.get_by_role("button", name="Train both networks").click()
    pg.locator("[data-testid=stProgress]").wait_for(timeout=30_000)  # the bar, while it trains
    pg.locator("[data-testid=stMetric]", has_text="Plain: median drop").wait_for(timeout=240_000)
    wait_idle(pg)
    residual, plain = (float(_metric(pg, f"{n}: median drop").rstrip("%")) for n in ("Residual", "Plain"))
    assert residual < plain / 3
    expect(pg.locator(".js-plotly-plot").nth(1)).to_be_visible()  # plotly draws after the script has ended
    assert pg.get_by_role("button", name="Train both networks").count() == 0  # done: the result is stored
    _to_top(pg.locator("[data-testid=stMetric]").first)
    screenshot(pg, "layer-removal")

    pg = page.open("/paths?" + "&".join(f"path-gradients.{k}={v}" for k, v in MEASURE.items()))
    pg.get_by_role("button", name="Measure (trains the ResNet first if needed)").click()
    finding = pg.locator("[data-testid=stMarkdownContainer] li", has_text="of the gradient that reaches")
    finding.first.wait_for(timeout=120_000)
    wait_idle(pg)
    assert "trained ResNet with 15 blocks" in finding.first.inner_text()
    _to_top(finding.first)
    screenshot(pg, "paths-gradients")
