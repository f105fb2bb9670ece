"""The lecture path in Debian's Chromium at 1280x720, in presenter mode, walked with the arrow keys.

`prepare` runs first (in this process, on the cache folder the served app reads), so every experiment step
must load its stored result: the test checks the "loaded from the disk cache" caption, not a time.
"""

import pytest
from playwright.sync_api import expect

from conftest import screenshot, wait_idle
from explorer import lecture

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WIDTH, HEIGHT = 1280, 720
MIN_TEXT_PX = 14

# A label's size on screen: its font size in SVG units times the drawn width over the viewBox width (the
# zoom is a CSS transform around the SVG, which getScreenCTM does not include in Chromium).
SMALLEST_GRAPH_TEXT = """() => {
  const svg = document.querySelector('#stage svg');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size') || '14') * scale);
  return sizes.length ? Math.min(...sizes) : null;
}"""


DRAWN = "() => [...document.querySelectorAll('iframe')].some(f => f.contentDocument?.querySelector('#stage svg'))"


@pytest.fixture
def projector(browser, server_url):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
    pg = context.new_page()
    pg.set_default_timeout(120_000)
    pg.server = server_url
    yield pg
    context.close()


def _on_screen(pg, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT and box["x"] + box["width"] <= WIDTH


def _graph_text_px(pg) -> float | None:
    """The smallest label of the zoomable layer graph, in screen pixels (None when the step draws none)."""
    frames = [f for f in pg.frames if f != pg.main_frame and f.locator("#stage svg").count()]
    if not frames:
        return None
    return frames[0].evaluate(SMALLEST_GRAPH_TEXT)


def test_prepare_then_walk_the_lecture_in_presenter_mode(projector):
    done = lecture.prepare()
    assert {p.experiment for p in done} == {s.experiment for s in lecture.STEPS if s.view == lecture.EXPERIMENT}
    pg = projector
    pg.goto(pg.server + "/lecture?present=1")
    pg.wait_for_selector("[data-testid=stMain] h4")
    wait_idle(pg, 800)
    expect(pg.locator("[data-testid=stSidebar]")).to_be_hidden()
    for i, step in enumerate(lecture.STEPS):
        heading = pg.locator("[data-testid=stMain] h4", has_text=f"{i + 1}/{len(lecture.STEPS)}")
        expect(heading).to_contain_text(step.title)
        assert f"step={step.slug}" in pg.url
        result = pg.locator("[data-testid=stAlert]", has_text="What the live result says")
        expect(result).to_be_visible()
        assert _on_screen(pg, result), f"step {step.slug}: the live result is below the fold"
        body = pg.locator("[data-testid=stMarkdownContainer] p", has_text="The slide:").first
        assert float(body.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 20
        assert pg.locator("[data-testid=stException]").count() == 0
        if step.view == lecture.EXPERIMENT:
            expect(pg.get_by_text("Loaded from the disk cache").first).to_be_attached()
        if step.view == lecture.ANALYSIS:
            pg.wait_for_function(DRAWN)
            smallest = _graph_text_px(pg)
            assert smallest is not None and smallest >= MIN_TEXT_PX - 0.01, f"step {step.slug}: {smallest} px"
        if step.slug in ("conv-arithmetic", "densenet", "layer-removal"):
            screenshot(pg, f"presenter-{step.slug}")
        if i < len(lecture.STEPS) - 1:
            heading.click()  # the focus on the page, not on a slider (whose arrow keys move it)
            pg.keyboard.press("ArrowRight")
            expect(pg.locator("[data-testid=stMain] h4", has_text=f"{i + 2}/{len(lecture.STEPS)}")).to_be_visible()
            wait_idle(pg, 800)
    pg.keyboard.press("ArrowLeft")
    expect(pg.locator("[data-testid=stMain] h4", has_text=f"{len(lecture.STEPS) - 1}/")).to_be_visible()


def test_a_link_opens_its_step_and_a_bad_step_says_so(projector):
    pg = projector
    pg.goto(pg.server + "/lecture?step=densenet")
    pg.wait_for_selector("[data-testid=stMain] h4")
    wait_idle(pg, 500)
    expect(pg.locator("[data-testid=stMain] h4")).to_contain_text("DenseNet and the growth rate")
    pg.goto(pg.server + "/lecture?step=alexnet")
    pg.wait_for_selector("[data-testid=stMain] h4")
    wait_idle(pg, 500)
    expect(pg.get_by_text("The lecture has no step 'alexnet'")).to_be_visible()
    expect(pg.locator("[data-testid=stMain] h4")).to_contain_text("1/")
