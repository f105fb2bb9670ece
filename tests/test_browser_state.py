"""The sidebar's selection in Chromium: a tour of every page (the folding ones included), back/forward and a reload
leave the selection and Explore's totals exactly as they were, and the first paint after a reload shows the link's
values, not the widgets' minimum."""

import pytest
from playwright.sync_api import expect

from conftest import metric_value, screenshot, wait_idle

pytestmark = pytest.mark.browser

LINK = "/?family=resnet&preset=resnet110&shortcut=B&num_classes=100&input=1x40x40"
PAGES = [
    "Compare",
    "Layer arithmetic",
    "Exercises",
    "Custom builder",
    "Residual paths",
    "Layer removal",
    "Transfer learning",
    "Edge computing",
]


def _sidebar_state(pg) -> list[str]:
    """What the sidebar shows: every select box's text and every number box's and slider's value."""
    sb = pg.locator("[data-testid=stSidebar]")
    selects = [
        box.locator("input").first.input_value() or box.inner_text()
        for box in sb.locator("[data-testid=stSelectbox]").all()
    ]
    numbers = [n.input_value() for n in sb.locator("[data-testid=stNumberInput] input").all()]
    sliders = sb.locator("[data-testid=stSliderThumbValue]").all_inner_texts()
    return selects + numbers + sliders


def _totals(pg) -> tuple:
    return tuple(metric_value(pg, label).inner_text() for label in ("Parameters", "Multiply-adds"))


def _open_knobs(pg) -> None:
    for name in ("Knobs", "Input"):
        summary = pg.locator("[data-testid=stSidebar] [data-testid=stExpander] summary", has_text=name).first
        details = summary.locator("xpath=..")
        if details.get_attribute("open") is None:
            summary.click()
    wait_idle(pg, 300)


def test_a_tour_of_every_page_and_back_changes_nothing(page):
    pg = page.open(LINK)
    _open_knobs(pg)
    before, totals = _sidebar_state(pg), _totals(pg)
    assert "40" in before and "100" in before  # the link's input and classes
    for name in PAGES:
        pg.get_by_role("link", name=name).first.click()
        pg.wait_for_selector("[data-testid=stMain] h1")
        wait_idle(pg, 600)
        assert not pg.locator("[data-testid=stException]").count(), name
    pg.get_by_role("link", name="Explore").first.click()
    wait_idle(pg, 800)
    _open_knobs(pg)
    assert _sidebar_state(pg) == before
    expect(metric_value(pg, "Parameters")).to_have_text(totals[0])
    assert _totals(pg) == totals
    screenshot(pg, "state-after-tour")

    for _ in range(3):  # back through the pages and forward again
        pg.go_back()
        wait_idle(pg, 600)
    for _ in range(3):
        pg.go_forward()
        wait_idle(pg, 600)
    pg.get_by_role("link", name="Explore").first.click()
    wait_idle(pg, 800)
    _open_knobs(pg)
    assert _sidebar_state(pg) == before and _totals(pg) == totals


def test_the_first_paint_after_a_reload_shows_the_links_values(page):
    pg = page.open(LINK)
    pg.reload()
    box = pg.locator("[data-testid=stSidebar] [data-testid=stNumberInput]", has_text="classes").locator("input")
    box.wait_for(state="attached")
    first = box.input_value()  # as soon as the box exists: the widget's minimum (1) was drawn here before
    thumb = pg.locator("[data-testid=stSidebar] [data-testid=stSlider]", has_text="Input size")
    thumb = thumb.locator("[data-testid=stSliderThumbValue]")
    thumb.wait_for(state="attached")
    side = thumb.inner_text()  # a slider's shown value (its aria-valuenow is not on the role=slider node)
    assert (first, side) == ("100", "40")
    wait_idle(pg)
    assert box.input_value() == "100"


# Installed before the reload: every time the sidebar changes (and on every animation frame, since React sets an
# input's value as a property, which no MutationObserver sees), record what each number box, select box and slider
# displays, keyed by its label.
_RECORD_SIDEBAR = """
(() => {
  window.__shown = {};
  const note = (key, value) => {
    if (!key) return;
    const seen = (window.__shown[key] = window.__shown[key] || []);
    if (!seen.includes(value)) seen.push(value);
  };
  const label = (el) => (el.querySelector('[data-testid=stWidgetLabel]') || {}).innerText;
  const read = () => {
    const sb = document.querySelector('[data-testid=stSidebar]');
    if (!sb) return;
    sb.querySelectorAll('[data-testid=stNumberInput]').forEach((w) => {
      const box = w.querySelector('input');
      if (box) note('number:' + label(w), box.value);
    });
    sb.querySelectorAll('[data-testid=stSelectbox]').forEach((w) => {
      const shown = w.querySelector('[data-baseweb=select]');
      if (shown) note('select:' + label(w), shown.innerText);
    });
    sb.querySelectorAll('[data-testid=stSlider]').forEach((w) => {
      const thumb = w.querySelector('[data-testid=stSliderThumbValue]');
      if (thumb) note('slider:' + label(w), thumb.innerText);
    });
  };
  const watch = new MutationObserver(read);
  const start = () => watch.observe(document.documentElement,
                                    {childList: true, subtree: true, attributes: true, characterData: true});
  const frame = () => { read(); requestAnimationFrame(frame); };
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
  requestAnimationFrame(frame);
})();
"""


def test_after_a_reload_no_sidebar_widget_ever_shows_a_value_but_the_links(page):
    pg = page.open(LINK)
    pg.context.add_init_script(_RECORD_SIDEBAR)
    pg.reload()
    pg.wait_for_selector("[data-testid=stSidebar] [data-testid=stSelectbox]")
    wait_idle(pg)
    shown = pg.evaluate("window.__shown")
    assert shown.get("number:classes") == ["100"], shown
    assert shown.get("slider:Input size") == ["40"], shown
    flickered = {key: values for key, values in shown.items() if len(values) > 1}
    assert not flickered, flickered
    # the recorder sees a change when there is one: type another number of classes
    box = pg.locator("[data-testid=stSidebar] [data-testid=stNumberInput]", has_text="classes").locator("input")
    box.fill("10")
    box.press("Enter")
    wait_idle(pg)
    assert pg.evaluate("window.__shown['number:classes']") == ["100", "10"]
