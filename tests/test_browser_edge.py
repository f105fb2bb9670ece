"""The Transfer learning and Edge computing pages in Debian's Chromium: choose a cut, fine-tune, lighten a network."""

import re

import pytest
from playwright.sync_api import expect

from conftest import layer_graph, metric_value, rerun, screenshot, wait_idle
from explorer.experiments import get_experiment
from explorer.live import cache

FROZEN_FILL = re.compile(r"<(?:path|polygon)[^>]*fill=\"#ced4da\"")  # a frozen layer's node
pytestmark = [pytest.mark.browser, pytest.mark.slow]
# The defaults (the README's screenshots): ~35 s for the transfer sweep, ~45 s for the base network and two
# edge runs on the shared 2-core machine.
TRANSFER = {}
EDGE = {}


def _forget(name: str, values: dict):
    """The server shares this process's cache folder: forget this result so the page computes it live."""
    for path in cache._paths(f"experiments/{name}", get_experiment(name).check(values)):
        path.unlink(missing_ok=True)


def _to_top(locator):
    locator.evaluate("e => e.scrollIntoView({block: 'start'})")
    locator.page.wait_for_timeout(300)


def test_choosing_a_cut_recolours_the_graph_and_fine_tuning_answers_the_lecture(page):
    _forget("transfer-cut", {**TRANSFER, "cut": 8})  # the settings after the preset button below
    pg = page.open("/transfer?" + "&".join(f"transfer-cut.{k}={v}" for k, v in TRANSFER.items()))
    assert pg.locator("h1").first.inner_text() == "Transfer learning: where to cut"
    expect(metric_value(pg, "Frozen parameters")).to_have_text("5,184")
    frozen_before = len(FROZEN_FILL.findall(layer_graph(pg)))
    with rerun(pg):
        pg.get_by_role("button", name="freeze almost all (cut 8)").click()
    expect(metric_value(pg, "Frozen parameters")).to_have_text("578,496")
    expect(metric_value(pg, "Feature size at the cut")).to_have_text("128")
    for _ in range(60):  # the graph is redrawn after the metrics
        frozen = len(FROZEN_FILL.findall(layer_graph(pg)))
        if frozen != frozen_before:
            break
        pg.wait_for_timeout(250)
    assert frozen > frozen_before

    pg.get_by_role("button", name="Fine-tune at every cut").click()
    pg.locator("[data-testid=stProgress]").wait_for(timeout=30_000)
    answer = pg.locator("[data-testid=stMarkdownContainer] li", has_text="How should I choose the right cut?")
    answer.first.wait_for(timeout=240_000)
    wait_idle(pg)
    assert "new labels, same domain (Y_o ≠ Y_n) with 5 labelled examples per class" in answer.first.inner_text()
    expect(pg.locator(".js-plotly-plot")).to_have_count(2)  # plotly draws after the script has ended
    _to_top(pg.locator("h3", has_text="How should I choose the right cut?"))
    screenshot(pg, "transfer-cut")


def test_quantizing_and_pruning_then_the_table_of_every_variant(page):
    _forget("quantize", EDGE)
    _forget("prune", EDGE)
    pg = page.open("/edge?" + "&".join(f"edge.{k}={v}" for k, v in EDGE.items()))
    assert pg.locator("h1").first.inner_text() == "Edge computing: lighter networks"
    pg.get_by_role("button", name="Run: quantization").click()
    size = pg.locator("[data-testid=stMetric]", has_text="Size, int8")
    size.wait_for(timeout=240_000)
    wait_idle(pg)
    ratio = float(size.locator("[data-testid=stMetricDelta]").inner_text().split("x")[0].split()[-1])
    assert ratio > 3.5
    screenshot(pg, "edge-quantize")

    pg.get_by_role("tab", name="Pruning and its curve").click()
    pg.get_by_role("button", name="Run: pruning and its curve").click()
    claim = pg.locator("[data-testid=stMarkdownContainer] li", has_text="2x smaller, 97% of the accuracy")
    claim.first.wait_for(timeout=240_000)
    wait_idle(pg)
    expect(pg.locator(".js-plotly-plot").first).to_be_visible()
    _to_top(pg.get_by_role("tab", name="Pruning and its curve"))
    screenshot(pg, "edge-prune")

    pg.get_by_role("tab", name="Every variant of this session").click()
    wait_idle(pg)
    table = pg.locator("[data-testid=stDataFrame]").last
    table.wait_for()
    assert table.is_visible()
    _to_top(pg.get_by_role("tab", name="Every variant of this session"))
    screenshot(pg, "edge-variants")
