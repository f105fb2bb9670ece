"""What a user feels in the browser: control change to new totals on screen, in Debian's Chromium.

    .venv/bin/python benchmarks/bench_browser.py                 (every case, 10 changes each after 2 warm-ups)
    .venv/bin/python benchmarks/bench_browser.py --changes 20 --cases input,growth,baseline

It starts the app as `make run` does (streamlit run app.py, headless, fresh disk cache unless --cache-dir),
and, in the same run, a one-widget Streamlit app (a slider and a metric: the framework's floor). Before the
browser cases it trains the layer-removal experiment at its defaults once through the CLI, so that its
page is measured as a cached visit (skip with --no-experiment).

Every time is measured inside the page: a capturing keydown/pointerdown listener stamps the user's action
with performance.now(), and a requestAnimationFrame poll stamps the first frame where the watched part of
the page (the totals' metric values; the layer graph's SVG; the page title) differs from before the action.
"done" is when Streamlit's script state next reads notRunning after the action (the whole page complete).
A slider moved with the keyboard is committed by Streamlit's frontend after its own debounce, in the app
and in the one-widget baseline alike; the ratio to the baseline carries over between machines, the
milliseconds do not. The load average is printed with the table: on a shared machine, rerun when it is high.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
BASELINE_APP = """import streamlit as st

value = st.slider("Value", 0, 512, 224)
st.metric("Square", f"{value * value:,}")
"""

# Stamps the user's action and Streamlit's script state; defines the snapshots the cases watch.
INIT_SCRIPT = """
(() => {
  window.__t0 = 0; window.__idleAt = 0;
  const stamp = () => { window.__t0 = performance.now(); };
  window.addEventListener('keydown', stamp, true);
  window.addEventListener('pointerdown', stamp, true);
  const watch = new MutationObserver(() => {
    const app = document.querySelector('[data-testid=stApp]');
    if (app && app.getAttribute('data-test-script-state') === 'notRunning') window.__idleAt = performance.now();
  });
  const start = () => watch.observe(document.documentElement, {attributes: true, subtree: true,
                                                               attributeFilter: ['data-test-script-state']});
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
  window.__snap = {
    totals: () => {
      const v = Array.from(document.querySelectorAll('[data-testid=stMain] [data-testid=stMetricValue]'));
      return v.length ? v.map(e => e.textContent).join('|') : null;
    },
    graph: () => {  // the largest drawing in the main area: an SVG, or an image of one
      let best = null, size = -1;
      for (const s of document.querySelectorAll('[data-testid=stMain] svg')) {
        const t = s.textContent.length;
        if (t === 0) continue;  // an icon
        if (t > size) { size = t; best = (s.getAttribute('width') || '') + 'x' + (s.getAttribute('height') || '')
                                          + ':' + t + ':' + s.textContent.slice(0, 200); }
      }
      for (const i of document.querySelectorAll('[data-testid=stMain] img')) {
        if (i.src.length > size) { size = i.src.length; best = i.src.length + ':' + i.src.slice(-200); }
      }
      return best;
    },
    title: () => { const h = document.querySelector('[data-testid=stMain] h1'); return h ? h.textContent : null; },
  };
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(script: Path, env: dict, log) -> tuple[subprocess.Popen, str]:
    """`streamlit run` as `make run` does it, on a free port; returns when /_stcore/health answers."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{script.name} did not start within 120 s: see {log.name}")


def pct(values: list, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


class Browser:
    def __init__(self, chromium, timeout_ms: int):
        self.chromium, self.timeout_ms = chromium, timeout_ms
        self.stage = ""

    def page(self, url: str):
        context = self.chromium.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
        context.add_init_script(INIT_SCRIPT)
        pg = context.new_page()
        pg.set_default_timeout(self.timeout_ms)
        pg.goto(url)
        return pg

    @staticmethod
    def first(pg, snapshot: str) -> float:
        """ms from navigation start until the snapshot (e.g. the totals) is on screen."""
        return pg.wait_for_function(
            f"() => window.__snap.{snapshot}() !== null ? performance.now() : false"
        ).json_value()

    @staticmethod
    def idle(pg, settle_ms: int = 400) -> None:
        pg.wait_for_function(
            """(settle) => {
                const app = document.querySelector('[data-testid=stApp]');
                return app && app.getAttribute('data-test-script-state') === 'notRunning'
                    && performance.now() - Math.max(window.__idleAt, window.__t0) > settle;
            }""",
            arg=settle_ms,
        )

    def change(self, pg, action, snapshot: str, expect: str | None = None) -> tuple[float, float]:
        """Do the action; ms until the snapshot differs (and contains `expect`), and until the run is done."""
        self.idle(pg)
        before = pg.evaluate(f"() => window.__snap.{snapshot}()")
        self.stage = f"on screen (before: {before!r:.80})"
        action()
        seen = pg.wait_for_function(
            """([name, before, expect]) => {
                const now = window.__snap[name]();
                if (now === null || now === before || (expect && !now.includes(expect))) return false;
                return performance.now() - window.__t0;
            }""",
            arg=[snapshot, before, expect],
            polling="raf",
        ).json_value()
        self.stage = "done"
        done = pg.wait_for_function(
            """() => {
                const app = document.querySelector('[data-testid=stApp]');
                const idle = app && app.getAttribute('data-test-script-state') === 'notRunning';
                // a very short run may go running -> notRunning within one render, leaving no mutation behind
                const end = window.__idleAt > window.__t0 ? window.__idleAt : performance.now();
                return idle ? end - window.__t0 : false;
            }"""
        ).json_value()
        return seen, max(seen, done)


def slider(pg, label: str, sidebar: bool = True):
    scope = "[data-testid=stSidebar] " if sidebar else "[data-testid=stMain] "
    return pg.locator(scope + "[data-testid=stSlider]", has_text=label).get_by_role("slider").first


def toggle(pg, label: str):
    return pg.locator("[data-testid=stMain] [data-testid=stCheckbox]", has_text=label).locator("label").first


def number_step(pg, label: str, up: bool):
    box = pg.locator("[data-testid=stSidebar] [data-testid=stNumberInput]", has_text=label).first
    return box.locator("[data-testid=stNumberInputStepUp]" if up else "[data-testid=stNumberInputStepDown]").first


def nav(pg, name: str):
    return pg.locator("[data-testid=stSidebarNav]").get_by_role("link", name=name, exact=True).first


def measure(browser, n: int, warmup: int, url: str, link: str, make_actions, snapshot: str) -> list:
    """Open `link`, then perform the actions make_actions(pg) cycles through; times of the last n."""
    pg = browser.page(url + link)
    browser.first(pg, "totals")
    actions = make_actions(pg)
    times = []
    for i in range(warmup + n):
        action, snap, expect = actions[i % len(actions)]
        try:
            t = browser.change(pg, action, snap or snapshot, expect)
        except PlaywrightError as e:
            shot = Path(tempfile.gettempdir()) / f"bench_browser-{os.getpid()}.png"
            pg.screenshot(path=str(shot))
            reason = e.message.splitlines()[0]
            raise SystemExit(f"change {i} of {link} timed out at {browser.stage} ({reason}); see {shot}") from None
        if i >= warmup:
            times.append(t)
    pg.context.close()
    return times


def key_on(pg, locator, key: str):
    def press():
        locator.focus()
        pg.keyboard.press(key)

    return press


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=10, help="measured changes per case (after the warm-ups)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--cases", default="", help="comma-separated subset of the case keys (default: all)")
    parser.add_argument("--cache-dir", type=Path, help="the app's EXPLORER_CACHE_DIR (default: a fresh one)")
    parser.add_argument("--no-experiment", action="store_true", help="do not train layer removal for its case")
    parser.add_argument("--timeout", type=float, default=60, help="s to wait for one change before failing")
    args = parser.parse_args(argv)
    wanted = set(filter(None, args.cases.split(",")))

    def on(key: str) -> bool:
        return not wanted or key in wanted

    chromium_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium_path is None:
        print("Debian's chromium is not installed (sudo apt-get install chromium).", file=sys.stderr)
        return 2
    temp = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    cache_dir = args.cache_dir or temp / "cache"
    env = dict(os.environ, EXPLORER_CACHE_DIR=str(cache_dir))
    log = open(temp / "servers.log", "w")
    (temp / "baseline.py").write_text(BASELINE_APP)
    rows, servers = [], []
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
            browser = Browser(chromium, int(args.timeout * 1000))
            started = time.perf_counter()
            app, url = serve(ROOT / "app.py", env, log)
            servers.append(app)
            port = url.rsplit(":", 1)[1]  # as `make run` does: run the app once as soon as the server answers
            subprocess.run([sys.executable, "-m", "ui.first_run", port], cwd=ROOT, env=env, check=False, timeout=180)
            warm_s = time.perf_counter() - started
            if on("fresh"):  # the very first student after the server starts
                pg = browser.page(url + "/")
                first = browser.first(pg, "totals")
                rows.append(("fresh", "first student after a server start, fresh browser", [(first, first)], 2000))
                print(f"  server start to warm (make run's first run) {warm_s:.1f} s ... ", end="", flush=True)
                pg.context.close()
            if on("experiment") and not args.no_experiment:
                command = [sys.executable, "-m", "explorer", "experiment", "layer-removal"]
                t = time.perf_counter()
                subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
                print(f"layer removal trained in {time.perf_counter() - t:.0f} s ... ", end="", flush=True)
            base, base_url = serve(temp / "baseline.py", env, log)
            servers.append(base)
            cases = []
            if on("baseline"):
                cases.append(
                    (
                        "baseline",
                        "the same change in a one-widget Streamlit app",
                        base_url,
                        "/",
                        lambda pg: [
                            (key_on(pg, slider(pg, "Value", sidebar=False), "ArrowRight"), None, None),
                            (key_on(pg, slider(pg, "Value", sidebar=False), "ArrowLeft"), None, None),
                        ],
                        "totals",
                        None,
                    )
                )
            if on("input"):
                cases.append(
                    (
                        "input",
                        "input size, VGG-16 at 224",
                        url,
                        "/?family=vgg&preset=vgg16&input=3x224x224",
                        lambda pg: [
                            (key_on(pg, slider(pg, "Input size"), "ArrowRight"), None, None),
                            (key_on(pg, slider(pg, "Input size"), "ArrowLeft"), None, None),
                        ],
                        "totals",
                        300,
                    )
                )
            if on("growth"):
                cases.append(
                    (
                        "growth",
                        "growth rate, DenseNet-121",
                        url,
                        "/?family=densenet&preset=densenet121&input=3x224x224",
                        lambda pg: [
                            (key_on(pg, slider(pg, "growth rate k"), "ArrowRight"), None, None),
                            (key_on(pg, slider(pg, "growth rate k"), "ArrowLeft"), None, None),
                        ],
                        "totals",
                        300,
                    )
                )
            if on("resnet1202"):
                cases.append(
                    (
                        "resnet1202",
                        "a knob of ResNet-1202 (classes, + and -)",
                        url,
                        "/?family=resnet&preset=resnet1202&input=3x32x32",
                        lambda pg: [
                            (number_step(pg, "classes", up=True).click, None, None),
                            (number_step(pg, "classes", up=False).click, None, None),
                        ],
                        "totals",
                        300,
                    )
                )
            for key, title, link, options in (
                ("graph", "graph options (direction, fold, depth), ResNet-110", "resnet110&input=3x32x32", 3),
                ("graph-vgg16", "graph direction, VGG-16 at 224", "vgg16&input=3x224x224", 1),
                ("graph-resnet1202", "graph direction, ResNet-1202", "resnet1202&input=3x32x32", 1),
            ):
                if on(key):

                    def graph_actions(pg, options=options):
                        depth = slider(pg, "Graph depth", sidebar=False)
                        lr = (toggle(pg, "Left to right").click, "graph", None)
                        if options == 1:
                            return [lr]
                        # depth 3 -> 2, unfold (ResNet-110: 62 nodes, under the large-graph warning), fold, 2 -> 3
                        fold = (toggle(pg, "Fold repeated blocks").click, "graph", None)
                        return [
                            (key_on(pg, depth, "ArrowLeft"), "graph", None),
                            fold,
                            fold,
                            (key_on(pg, depth, "ArrowRight"), "graph", None),
                            lr,
                        ]

                    family = "vgg" if "vgg" in link else "resnet"
                    cases.append((key, title, url, f"/?family={family}&preset={link}", graph_actions, "graph", 700))
            if on("pages"):
                cases.append(
                    (
                        "pages",
                        "page switch (Explore to Compare and back)",
                        url,
                        "/?family=resnet&preset=resnet56&input=3x32x32",
                        lambda pg: [
                            (nav(pg, "Compare").click, "title", "Compare"),
                            (nav(pg, "Explore").click, "title", "ResNet-56"),
                        ],
                        "title",
                        1000,
                    )
                )
            if on("experiment"):
                cases.append(
                    (
                        "experiment",
                        "Layer removal, cached (from Explore; and back)",
                        url,
                        "/?family=resnet&preset=resnet56&input=3x32x32",
                        lambda pg: [
                            (nav(pg, "Layer removal").click, "totals", "%"),
                            (nav(pg, "Explore").click, "totals", "853,018"),
                        ],
                        "totals",
                        1000,
                    )
                )
            for key, title, case_url, link, actions, snapshot, goal in cases:
                print(f"{key} ... ", end="", flush=True)
                times = measure(browser, args.changes, args.warmup, case_url, link, actions, snapshot)
                if key == "experiment":  # only the visits to the cached experiment page
                    times = times[(args.warmup % 2) :: 2] if len(times) > 1 else times
                rows.append((key, title, times, goal))
            if on("fresh"):  # a warm server: new browsers, one after another
                times = []
                for _ in range(max(3, args.changes // 2)):
                    pg = browser.page(url + "/?family=vgg&preset=vgg16&input=3x224x224")
                    first = browser.first(pg, "totals")
                    times.append((first, first))
                    pg.context.close()
                rows.append(("fresh-warm", "fresh browser to first totals, warm server", times, 2000))
            chromium.close()
    finally:
        for proc in servers:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        log.close()
        if not args.cache_dir:
            shutil.rmtree(cache_dir, ignore_errors=True)
    print_table(rows)
    return 0


def print_table(rows: list) -> None:
    load = os.getloadavg()
    print(f"\nbench_browser: Chromium, {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    base = next((r for r in rows if r[0] == "baseline"), None)
    base_p50 = statistics.median(t[0] for t in base[2]) if base else None
    vgg = next((r for r in rows if r[0] == "input"), None)
    head = f"| {'case':52} | {'n':>3} | {'on screen p50':>13} | {'p95':>6} | {'done p50':>8} | {'p95':>6} |"
    head += f" {'goal':>7} | {'/ baseline':>10} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for key, title, times, goal in rows:
        seen, done = [t[0] for t in times], [t[1] for t in times]
        ratio = (
            f"{statistics.median(seen) / base_p50:.1f}x"
            if base_p50 and key not in ("baseline", "fresh", "fresh-warm")
            else ""
        )
        goal_text = f"{goal:,} ms" if goal else ""
        print(
            f"| {title:52} | {len(times):3d} | {pct(seen, 0.5):10,.0f} ms | {pct(seen, 0.95):6,.0f} |"
            f" {pct(done, 0.5):8,.0f} | {pct(done, 0.95):6,.0f} | {goal_text:>7} | {ratio:>10} |"
        )
    big = next((r for r in rows if r[0] == "resnet1202"), None)
    if vgg and big:
        ratio = statistics.median(t[0] for t in big[2]) / statistics.median(t[0] for t in vgg[2])
        print(f"ResNet-1202's knob / VGG-16's input size, p50 on screen: {ratio:.2f}x (goal: within 1.5x)")
    if base:
        print("goals: totals p50 < 300 ms, p95 < 600 ms and at most 2x the baseline; graph < 700 ms; page < 1 s;")
        print("       fresh browser to first totals < 2 s; cached experiment page complete ('done') < 1 s.")


if __name__ == "__main__":
    sys.exit(main())
