"""The Labs pages in Debian's Chromium: type as a student types, see what a student sees."""

import re

import pytest
from playwright.sync_api import expect

from conftest import layer_graph, metric_value, rerun, screenshot, wait_idle

pytestmark = pytest.mark.browser


def _type(pg, label, value):
    box = pg.get_by_label(label, exact=True).first
    if box.input_value() == str(value):
        return  # nothing changes, nothing reruns
    box.fill(str(value))
    with rerun(pg):
        box.press("Enter")


def test_layer_arithmetic_with_the_sliding_window(page):
    pg = page.open("/layer-arithmetic")
    expect(metric_value(pg, "Output volume")).to_have_text("28 × 28 × 6")
    expect(metric_value(pg, "Parameters")).to_have_text("456")
    for label, value in (
        ("A (height)", 7),
        ("L (width)", 7),
        ("F (receptive field)", 3),
        ("S (stride)", 3),
        ("P (padding)", 0),
    ):
        _type(pg, label, value)
    expect(metric_value(pg, "Output volume")).to_have_text("2 × 2 × 6")
    assert "is not a whole number: PyTorch floors it" in pg.locator("[data-testid=stAlert]").all_inner_texts()[0]
    _type(pg, "P (padding)", 1)
    expect(metric_value(pg, "Output volume")).to_have_text("3 × 3 × 6")
    pg.wait_for_selector(".js-plotly-plot")
    slider = pg.locator("[data-testid=stSlider]", has_text="Window position").get_by_role("slider")
    slider.focus()
    with rerun(pg, 800):
        for _ in range(4):
            pg.keyboard.press("ArrowRight")
    pg.locator("[data-testid=stCaptionContainer]", has_text="Window 5 of 9").wait_for()  # each key press reruns
    pg.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(pg, "labs-layer-arithmetic")
    pg.get_by_role("tab", name="Receptive field of the sidebar's network").click()
    wait_idle(pg)
    pg.locator("[data-testid=stMetric]", has_text="Receptive field of the last window").scroll_into_view_if_needed()
    expect(pg.locator(".js-plotly-plot").nth(1)).to_be_visible()
    screenshot(pg, "labs-receptive-field")
    assert pg.locator("[data-testid=stException]").count() == 0


def test_exercises_check_each_answer(page):
    pg = page.open("/exercises?exercise=0&difficulty=1")
    assert "The lecture's exercise" in pg.locator("h3").first.inner_text()
    shapes = pg.get_by_role("textbox", name="Output volume", exact=True)
    params = pg.get_by_role("textbox", name="Parameters", exact=True)
    board = pg.locator("[data-testid=stAlert]", has_text="answers right this session")
    shapes.nth(0).fill("28x28x6")
    shapes.nth(0).press("Enter")
    expect(board).to_contain_text("1 of 1 answers right")  # each answer is one rerun: wait for its result
    params.nth(0).fill("450")
    params.nth(0).press("Enter")
    expect(board).to_contain_text("1 of 2 answers right")
    shapes.nth(1).fill("14 x 14 x six")
    shapes.nth(1).press("Enter")
    expect(pg.locator("[data-testid=stAlert]", has_text="column 11")).to_be_visible()
    wait_idle(pg)
    alerts = " ".join(pg.locator("[data-testid=stAlert]").all_inner_texts())
    assert "Right" in alerts and "Not this one" in alerts and "column 11: expected a whole number, found 's'" in alerts
    assert "1 of 2 answers right this session." in alerts
    assert "2,416" not in pg.locator("[data-testid=stMain]").inner_text()  # answers stay hidden
    screenshot(pg, "labs-exercises")
    pg.get_by_text("Derivation", exact=True).nth(2).click()
    expect(pg.locator("[data-testid=stMain]")).to_contain_text("16 · (5·5 · 6 + 1) = 2,416")
    wait_idle(pg)
    assert "6 · (5·5 · 3 + 1) = 456" not in pg.locator("[data-testid=stMain]").inner_text()


def test_custom_builder_errors_escaping_and_export(page):
    pg = page.open("/custom-builder")
    expect(metric_value(pg, "Parameters")).to_have_text("62,006")
    box = pg.get_by_role("textbox", name="Layers", exact=True)
    box.fill("conv3-64\nmaxpool\n  conv3-x")
    box.press("Control+Enter")
    wait_idle(pg)
    error = pg.locator("[data-testid=stAlertContentError]").first.inner_text()
    assert error.endswith("line 3, column 9: expected a number of kernels after 'conv3-', found 'x'")
    assert box.input_value() == "conv3-64\nmaxpool\n  conv3-x"  # the text stays in the box
    assert pg.locator("[data-testid=stException]").count() == 0
    box.fill(
        "# VGG paper, Table 1, column A, on CIFAR-10\nconv3-64, maxpool\nconv3-128, maxpool\n"
        "conv3-256, conv3-256, maxpool\nconv3-512, conv3-512, maxpool\nconv3-512, conv3-512, maxpool\n"
        "FC-4096, FC-4096, FC-10, soft-max"
    )
    box.press("Control+Enter")
    wait_idle(pg)
    expect(metric_value(pg, "Weight layers")).to_have_text("11")
    layer_graph(pg)
    pg.locator("[data-testid=stMetric]", has_text="Parameters").first.evaluate(
        "e => e.scrollIntoView({block: 'start'})"
    )  # the totals, the tabs and the graph of the box's network
    wait_idle(pg)
    screenshot(pg, "labs-custom-builder")
    hostile = "Conv2D(8, 3, name='<img src=x onerror=alert(1)> **b** $x$')"
    box.fill(f"{hostile}\nmaxpool, conv3-16, maxpool\nFC-64, FC-10, soft-max")
    box.press("Control+Enter")
    wait_idle(pg)
    assert pg.locator("[data-testid=stMain] img[src=x]").count() == 0
    assert pg.locator("[data-testid=stMain] strong", has_text=re.compile("^b$")).count() == 0
    pg.get_by_role("tab", name="Shapes and parameters").click()
    wait_idle(pg)
    assert "<img src=x onerror=alert(1)> **b** $x$" in pg.locator("[data-testid=stMain]").inner_text()
    pg.get_by_role("tab", name="PyTorch code").click()
    wait_idle(pg)
    code = pg.locator("[data-testid=stCode]", has_text="build_model").first.inner_text()
    assert "('<img src=x onerror=alert(1)> **b** $x$', nn.Conv2d(3, 8, 3))" in code
    pg.locator("[data-testid=stCode]", has_text="build_model").first.scroll_into_view_if_needed()
    screenshot(pg, "labs-pytorch-code")
