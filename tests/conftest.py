"""Shared fixtures: the AppTest runner and hypothesis settings."""
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Property tests build real PyTorch layers: no per-example deadline on a loaded 2-core CI machine.
settings.register_profile("default", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=60, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture
def app():
    """An AppTest of the whole app (router + shared sidebar), started on a given page."""
    from streamlit.testing.v1 import AppTest

    def start(page: str | None = None, query: dict | None = None, state: dict | None = None):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        for key, value in (state or {}).items():
            at.session_state[key] = value
        at.run()
        if page:
            at.switch_page(page).run()
        return at

    return start


# -- the real browser -------------------------------------------------------------------------
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
SCREENSHOTS = ROOT / "docs" / "screenshots"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_path():
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = ("Debian's chromium is not installed, so the browser tests cannot run "
                   "(sudo apt-get install chromium, or run .ci/run).")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " Under CI they must run.")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def server_url(chromium_path):
    """`streamlit run app.py` on a free port, for the whole session."""
    import subprocess
    import time
    import urllib.request

    port = _free_port()
    log = open(ROOT / ".pytest-streamlit.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false",
                             "--server.fileWatcherType", "none"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: see .pytest-streamlit.log")
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server_url):
    """A fresh browser page; page.open(path) loads the app and waits until its script is idle."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
    pg = context.new_page()
    pg.set_default_timeout(90_000)

    def open_(path: str = "/"):
        pg.goto(server_url + path)
        wait_idle(pg)
        return pg

    pg.open = open_
    yield pg
    context.close()


def wait_idle(pg, settle_ms: int = 300) -> None:
    """Wait until Streamlit has finished running the script (and the page has drawn)."""
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]")
    pg.wait_for_timeout(settle_ms)
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]")


def screenshot(pg, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
