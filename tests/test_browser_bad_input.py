"""Bad links in Chromium: each one is one sentence on the page naming what is wrong, no exception box, and the
link's other values stay in the sidebar."""

import pytest

from conftest import screenshot

pytestmark = pytest.mark.browser

NINES = "9" * 5000
KEEP = "num_classes=100"
LINKS = [
    ("family=nosuch", "nosuch"),
    ("family=resnet&input=3x4096x4096", "4096"),
    ("family=resnet&depth=21", "21"),
    ("family=resnet&depth=２０", "whole number"),
    (f"family=resnet&depth={NINES}", "5,000 characters"),
    ("family=resnet&depth=nan", "whole number"),
    ("family=mobilenet_v1&alpha=inf", "number"),
    ("family=densenet&block_config=6,-12,24", "-12"),
    ("family=resnet&input=3x32.7x32", "32.7"),
]


@pytest.mark.parametrize(("query", "says"), LINKS, ids=[q[:40] for q, _ in LINKS])
def test_a_bad_link_is_one_sentence_and_keeps_the_other_values(page, query, says):
    pg = page.open(f"/?{query}&{KEEP}")
    alerts = pg.locator("[data-testid=stAlert]")
    texts = alerts.all_inner_texts()
    screenshot(pg, "bad-link")
    assert any(says in t for t in texts), texts
    assert all("Traceback" not in t for t in texts), texts
    assert pg.locator("[data-testid=stException]").count() == 0
    classes = pg.locator("[data-testid=stSidebar] [data-testid=stNumberInput]", has_text="classes").locator("input")
    assert classes.input_value() == "100"
