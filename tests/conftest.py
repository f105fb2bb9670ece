"""Shared fixtures: the AppTest runner and hypothesis settings."""

import contextlib
import inspect
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from playwright.sync_api import sync_playwright
from streamlit.testing.v1 import AppTest

from explorer.live import cache

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Property tests build real PyTorch layers: no per-example deadline on a loaded 2-core CI machine.
settings.register_profile("default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, max_examples=60, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "default")

# Tests write CIFAR-10 folders under the temporary directory: that is their data root (tests of the root
# itself set their own). Subprocesses (CLI, served app) inherit it.
os.environ.setdefault("EXPLORER_DATA_ROOT", tempfile.gettempdir())
# AppTest and library tests analyse in the test's own process (tests count and patch what the engine does); the
# served app of the browser tests computes in its analysis process, as `make run` does (see server_url).
os.environ.setdefault("EXPLORER_ANALYSTS", "0")


@pytest.fixture
def app():
    """An AppTest of the whole app (router + shared sidebar), started on a given page."""

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


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """The disk cache of the tests that train (layer removal, transfer, edge): one folder for the whole session,
    so a network one module trained is loaded by the next, and by the CLI the tests start."""

    folder = tmp_path_factory.getbasetemp() / "explorer-cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(cache.CACHE_ENV, str(folder))
        yield folder


# -- the real browser -------------------------------------------------------------------------
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = ROOT / "docs" / "screenshots"


def _free_port() -> int:

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_path():

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = (
            "Debian's chromium is not installed, so the browser tests cannot run "
            "(sudo apt-get install chromium, or run .ci/run)."
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " Under CI they must run.")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def server_url(chromium_path):
    """`streamlit run app.py` on a free port, for the whole session."""

    port = _free_port()
    log = open(ROOT / ".pytest-streamlit.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if k != "EXPLORER_ANALYSTS"},
    )
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

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server_url):
    """A fresh browser page; page.open(path) loads the app and waits until its script is idle."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
    context.add_init_script(_WATCH_SCRIPT_STATE)
    pg = context.new_page()
    pg.set_default_timeout(90_000)

    def open_(path: str = "/"):
        pg.goto(server_url + path)
        # the app's state reads "notRunning" before the first run has started: wait for what app.py draws
        # on every page (the sidebar's family selector) and for the page's title, then for the run to end
        pg.wait_for_selector("[data-testid=stSidebar] [data-testid=stSelectbox]")
        pg.wait_for_selector("[data-testid=stMain] h1")
        wait_idle(pg, 500)
        return pg

    pg.open = open_
    yield pg
    context.close()


# Records when Streamlit's script state last changed, so that waits can ask for a quiet app, not only an
# idle one: right after a key press or a click the state may still read "notRunning" for a moment.
_WATCH_SCRIPT_STATE = """
(() => {
  window.__lastChange = performance.now();
  window.__changes = 0;
  const watch = new MutationObserver(() => { window.__lastChange = performance.now(); window.__changes++; });
  const start = () => watch.observe(document.documentElement, {attributes: true, subtree: true,
                                                               attributeFilter: ['data-test-script-state']});
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""


def wait_idle(pg, settle_ms: int = 500) -> None:
    """Wait until Streamlit has finished running the script and its state has not changed for settle_ms."""
    pg.wait_for_function(
        """(settle) => {
            const app = document.querySelector('[data-testid=stApp]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning'
                && performance.now() - (window.__lastChange || 0) > settle;
        }""",
        arg=settle_ms,
    )


@contextlib.contextmanager
def rerun(pg, settle_ms: int = 500):
    """Around an action that reruns the script (Enter in a box, a click, key presses on a slider): wait until
    a run has started after it and the app is quiet again. An idle app alone proves nothing: under load the
    server may start the rerun a second after the key press."""
    before = pg.evaluate("window.__changes")
    yield
    pg.wait_for_function("(before) => window.__changes > before", arg=before)
    wait_idle(pg, settle_ms)


def metric_value(pg, label: str):
    """The value of the st.metric labelled `label` (a locator: use expect(...).to_have_text, which retries)."""
    return pg.locator("[data-testid=stMetric]", has_text=label).locator("[data-testid=stMetricValue]").first


LAYER_GRAPH_SVG = """(containing) => {
  const img = document.querySelector("[data-testid=stMain] img[alt='Layer graph']");
  if (!img || !img.src.startsWith('data:image/svg+xml;base64,')) return null;
  const bytes = Uint8Array.from(atob(img.src.split(',')[1]), c => c.charCodeAt(0));
  const svg = new TextDecoder().decode(bytes);
  return !containing || svg.includes(containing) ? svg : null;
}"""


def layer_graph(pg, containing: str = "", timeout_ms: int = 30_000) -> str:
    """The layer graph's SVG text (ui.graphs.draw shows Graphviz's SVG as an image), once it contains
    `containing`: labels, fills and shapes as the server drew them."""
    pg.wait_for_function(LAYER_GRAPH_SVG, arg=containing, timeout=timeout_ms)
    return pg.evaluate(LAYER_GRAPH_SVG, containing)


def screenshot(pg, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


# -- the subsets: `make test-fast` leaves out what trains, drives a browser or spawns a process -----------------
TRAINS = ("run_experiment(", "trained_network(", "cached_model(", "train(", "TRAIN_CALLS", '.run").click()')
SPAWNS = ("run_cli(", "subprocess", "sys.executable", "served_app", "Popen(")


def _sources(item) -> str:
    """The code of the test, of the module-level helpers it calls (two levels) and of every fixture it uses."""
    module = getattr(item, "module", None)
    fixtures = getattr(item, "_fixtureinfo", None)
    todo = [getattr(item, "function", None)] + [
        d.func for defs in (fixtures.name2fixturedefs.values() if fixtures else ()) for d in defs
    ]
    texts, seen = [], set()
    for depth in range(3):
        called = []
        for fn in todo:
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            with contextlib.suppress(TypeError, OSError):
                texts.append(inspect.getsource(fn))
            code = getattr(fn, "__code__", None)
            if code is not None and module is not None and depth < 2:
                called += [getattr(module, n) for n in code.co_names if inspect.isfunction(getattr(module, n, None))]
        todo = called
    return "\n".join(texts)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("browser"):
            continue
        code = _sources(item)
        if any(word in code for word in TRAINS):
            item.add_marker(pytest.mark.slow)
        if any(word in code for word in SPAWNS):
            item.add_marker(pytest.mark.subprocess)
