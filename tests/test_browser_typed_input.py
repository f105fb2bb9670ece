"""Bad values typed into the real widgets in Chromium, as a student types them: the sidebar's number boxes and
lists, and the Custom builder's box. Each is answered by one sentence on the page naming the cause, with no
exception box and no traceback, and the student's other inputs (family, preset, the other knobs) stay as they were.

One page is reused for the whole module (each case opens its own link, so a bad value never leaks into the next)."""

import pytest
from playwright.sync_api import expect

from conftest import _WATCH_SCRIPT_STATE, screenshot, wait_idle

pytestmark = pytest.mark.browser

RESNET = "/?family=resnet&preset=resnet18&num_classes=100"
DENSENET = "/?family=densenet&preset=densenet121&num_classes=100&input=3x32x32"
ANSWER_MS = 30_000  # a wait for the page's answer, not a speed test (benchmarks/ measure speed)


@pytest.fixture(scope="module")
def pg(browser, server_url):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
    context.add_init_script(_WATCH_SCRIPT_STATE)
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.server_url = server_url
    yield page
    context.close()


def _open(pg, path: str):
    pg.goto(pg.server_url + path)
    pg.wait_for_selector("[data-testid=stSidebar] [data-testid=stSelectbox]")
    pg.wait_for_selector("[data-testid=stMain] h1")
    wait_idle(pg, 500)


def _sidebar_box(pg, label: str):
    sb = pg.locator("[data-testid=stSidebar]")
    return sb.locator("[data-testid=stNumberInput], [data-testid=stTextInput]", has_text=label).locator("input")


def _type(pg, box, text: str, commit: str = "Enter") -> None:
    """Focus, select all, delete, type key by key (as a student does: the browser filters what a box refuses).
    Focus, not a click: a click can land on the box's "Press Enter to apply" hint."""
    box.focus()
    box.press("Control+a")
    box.press("Delete")
    pg.keyboard.type(text)
    box.press(commit)


SIDEBAR_SHOWS = """() => {
  const shown = {};
  document.querySelectorAll('[data-testid=stSidebar] [data-testid=stSelectbox]').forEach((box) => {
    const input = box.querySelector('input');
    shown[box.querySelector('label').innerText] = (input && input.value) || box.innerText;
  });
  document.querySelectorAll('[data-testid=stSidebar] [data-testid=stNumberInput], '
                            + '[data-testid=stSidebar] [data-testid=stTextInput]').forEach((box) => {
    shown[box.querySelector('label').innerText] = box.querySelector('input').value;
  });
  return shown;
}"""


def _sidebar(pg) -> dict:
    """What the sidebar shows: the family, the preset and every number or text box, by label (read in one go)."""
    return pg.evaluate(SIDEBAR_SHOWS)


def _one_sentence_no_traceback(pg, says: str, name: str) -> str:
    alert = pg.locator("[data-testid=stAlert]", has_text=says).first
    expect(alert).to_be_visible(timeout=ANSWER_MS)
    wait_idle(pg, 400)
    screenshot(pg, f"typed-{name}")
    text = alert.inner_text().replace("error\n\n", "", 1).strip()
    assert "\n" not in text and len(text) < 400, text
    assert pg.locator("[data-testid=stException]").count() == 0
    assert "Traceback" not in pg.locator("[data-testid=stApp]").inner_text()
    return text


# (link, the box's label, what is typed, what the sentence says, the box's value afterwards)
SIDEBAR = [
    (RESNET, "classes", "1e9", "between 1 and 100000; got 1000000000", "1000000000"),
    (RESNET, "classes", "12.5", "expects a whole number, got 12.5", "12.5"),
    (RESNET, "classes", "-3", "between 1 and 100000; got -3", "-3"),
    (RESNET, "width", "0", "'width' must be between 1 and 256; got 0", "0"),
    (RESNET, "Input channels", "2.5", "three whole numbers", "2.5"),
    (RESNET, "Input channels", "65", "at most 64 channels", "65"),
    (DENSENET, "layers per block", "6,-12,24", "got -12", "6,-12,24"),
    (DENSENET, "layers per block", "٣,٦", "whole numbers separated by commas", "٣,٦"),
]


@pytest.mark.parametrize(("link", "label", "typed", "says", "shows"), SIDEBAR, ids=[f"{c[1]}={c[2]}" for c in SIDEBAR])
def test_a_bad_value_typed_in_the_sidebar_is_one_sentence_and_keeps_the_rest(pg, link, label, typed, says, shows):
    _open(pg, link)
    before = _sidebar(pg)
    _type(pg, _sidebar_box(pg, label), typed)
    _one_sentence_no_traceback(pg, says, "sidebar")
    after = _sidebar(pg)
    typed_label = next(k for k in after if label in k)
    assert after[typed_label] == shows  # as typed: not truncated (12.5 -> 12) nor read as another number (1e9 -> 1)
    assert {k: v for k, v in after.items() if k != typed_label} == {k: v for k, v in before.items() if k != typed_label}


def test_characters_a_number_box_refuses_leave_its_value(pg):
    """Arabic-Indic digits: Chromium's number box takes no such key, so the value the box had comes back."""
    _open(pg, RESNET)
    before = _sidebar(pg)
    _type(pg, _sidebar_box(pg, "classes"), "٣٢", commit="Tab")
    wait_idle(pg, 400)
    assert _sidebar(pg) == before
    assert pg.locator("[data-testid=stException]").count() == 0


DEEP = "\n".join(["conv3-8", "maxpool"] * 9) + "\nFC-10"
BUILDER = [
    ("notation", "conv3-64\nconvv3-64\nFC-10", "line 2, column 5"),
    ("input-shape-short", "Conv2D(16, 3, input_shape=(32, 32))\nFlatten\nDense(10)", "three whole numbers"),
    ("input-shape-later", "Conv2D(16, 3)\nConv2D(8, 3, input_shape=(32, 32, 3))\nFlatten", "first layer only"),
    ("name-forward", 'Conv2D(16, 3, name="forward")\nFlatten\nDense(10)', "'forward' is taken by PyTorch"),
    ("name-training", 'Conv2D(16, 3, name="training")\nFlatten\nDense(10)', "'training' is taken by PyTorch"),
    ("name-long", 'Conv2D(16, 3, name="' + "x" * 300 + '")', "at most 40 characters"),
    ("too-deep", DEEP, "smallest input that works is 3x512x512"),
    ("empty", "", "the architecture is empty"),
]


def _builder(pg):
    if "Custom builder" not in pg.locator("[data-testid=stMain] h1").first.inner_text():
        _open(pg, RESNET)
        pg.get_by_role("link", name="Custom builder").first.click()
        expect(pg.locator("[data-testid=stMain] h1").first).to_have_text("Custom builder")
        wait_idle(pg, 500)
    return pg.locator("[data-testid=stMain] textarea").first


@pytest.mark.parametrize(("name", "text", "says"), BUILDER, ids=[c[0] for c in BUILDER])
def test_a_bad_network_in_the_custom_builder_is_one_sentence(pg, name, text, says):
    box = _builder(pg)
    before = _sidebar(pg)
    box.fill(text)
    box.press("Control+Enter")
    _one_sentence_no_traceback(pg, says, "builder")
    assert box.input_value() == text  # the student's text stays to be fixed
    assert _sidebar(pg) == before  # the sidebar's network is untouched


def test_keras_input_shape_sets_the_builders_input(pg):
    box = _builder(pg)
    box.fill("Conv2D(16, 3, input_shape=(28, 28, 1))\nFlatten\nDense(10)")
    box.press("Control+Enter")
    expect(pg.locator("[data-testid=stMain]")).to_contain_text("1x28x28", timeout=ANSWER_MS)
    wait_idle(pg, 400)
    assert pg.locator("[data-testid=stMain] [data-testid=stAlert]").count() == 0
    assert pg.locator("[data-testid=stException]").count() == 0


def _on_page(pg, name: str) -> None:
    if name not in pg.locator("[data-testid=stSidebar] [aria-current=page]").all_inner_texts():
        _open(pg, RESNET)
        pg.get_by_role("link", name=name).first.click()
        # the page switched (the last page's h1 would match at once), then its run finished
        expect(pg.locator("[data-testid=stSidebar] [aria-current=page]")).to_contain_text(name)
        pg.wait_for_selector("[data-testid=stMain] h1")
        wait_idle(pg, 500)


def _page_boxes(pg) -> dict:
    """The page's visible number boxes (one inside a folded expander may be drawn only after a rerun)."""
    boxes = [b for b in pg.locator("[data-testid=stMain] [data-testid=stNumberInput]").all() if b.is_visible()]
    return {box.locator("label").inner_text(): box.locator("input").input_value() for box in boxes}


# (page, the box's label, what is typed, what the sentence says, the box afterwards): Streamlit's own whole-number
# box read 1e9 as 1 and 12.5 as 12
PAGES = [
    ("Layer arithmetic", "A (height)", "1e9", "between 1 and 1024; got 1000000000", "1000000000"),
    ("Layer arithmetic", "A (height)", "12.5", "expects a whole number, got 12.5", "12.5"),
    ("Exercises", "Seed", "1e9", "seed from 0 to 999,999", "1000000000"),
    ("Exercises", "Seed", "-3", "got seed -3", "-3"),
    ("Transfer learning", "Weight layers frozen", "1e9", "The cut 1000000000 is past the last layer", "1000000000"),
    ("Edge computing", "calibration images", "12.5", "expects a whole number, got 12.5", "12.5"),
    ("Layer removal", "seed", "1e9", "between 0 and 9999; got 1000000000", "1000000000"),
]


@pytest.mark.parametrize(("name", "label", "typed", "says", "shows"), PAGES, ids=[f"{c[0]}-{c[2]}" for c in PAGES])
def test_a_bad_number_typed_on_a_page_is_one_sentence_and_keeps_the_rest(pg, name, label, typed, says, shows):
    _on_page(pg, name)
    before, sidebar = _page_boxes(pg), _sidebar(pg)
    _type(pg, pg.locator("[data-testid=stMain] [data-testid=stNumberInput]", has_text=label).locator("input"), typed)
    _one_sentence_no_traceback(pg, says, "page")
    after = _page_boxes(pg)
    typed_label = next(k for k in after if label in k)
    assert after[typed_label] == shows
    assert {k: v for k, v in after.items() if k != typed_label} == {k: v for k, v in before.items() if k != typed_label}
    assert _sidebar(pg) == sidebar
