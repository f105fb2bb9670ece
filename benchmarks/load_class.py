"""A class of simulated students against the app, over Streamlit's own websocket protocol (no browser).

    .venv/bin/python benchmarks/load_class.py --sessions 30 --seconds 60            (scenario: explore)
    .venv/bin/python benchmarks/load_class.py --sessions 30 --scenario class       (pages + a shared training)
    .venv/bin/python benchmarks/load_class.py --sessions 30 --heavy 1              (one on ResNet-1202 at 256)
    .venv/bin/python benchmarks/load_class.py --sessions 30 --page compare         (the moves on another page)
    .venv/bin/python benchmarks/load_class.py --sessions 30 --replicas 2           (two servers, sessions spread)
    .venv/bin/python benchmarks/load_class.py --sessions 30 --url http://host:8501 --url http://host:8502

Without --url it starts the app exactly as `make run` does (streamlit run app.py, headless), with a fresh
disk cache (EXPLORER_CACHE_DIR in a temporary folder, so every training it reports really ran), waits for
/_stcore/health, and measures that server's CPU time and peak RSS (its process and children).

Each student speaks the browser's protocol: GET /_stcore/health (which sets the _streamlit_xsrf cookie),
a websocket on /_stcore/stream with Sec-WebSocket-Protocol "streamlit, <xsrf token>", then one BackMsg
rerun_script(ClientState) per run: the first with the link's query string and page_name "" (the default
page); later ones with the query string of the last page_info_changed, the page_script_hash of the page
shown, and widget_states: every widget the last run drew, by element id, with the value the server sent
(set_value), else the one this student chose, else the widget's default (buttons only as trigger_value in
the run that presses them). A page change sends the target's hash from the navigation message.

A rerun's latency is the time from sending rerun_script to the script_finished of that run (a run the
server ends early because a callback asked for another does not count as the answer). This is server
time only: a browser adds its own rendering on top (benchmarks/bench_browser.py measures that).

Scenarios:
  explore   every student opens Explore with one of VGG-16 (224), ResNet-50 (224), DenseNet-121 (224),
            ResNet-110 (32) or MobileNetV2 1.0-224, and every 2-4 s moves the input size, a knob or the
            preset (the next move waits for the answer to the previous one, as a student reading the totals).
  class     the same, plus: at --train-at seconds every student visits three other pages (Compare,
            Layer arithmetic, Residual paths), opens Layer removal and presses "Train both networks" at its
            defaults, all at the same moment; then goes back to Explore (a browser's page change interrupts
            the waiting run, as here) and at the end opens Layer removal again to read the result.
  --heavy K K of the sessions are on ResNet-1202 at a 256 input instead (the others as in the scenario).
  --page P  explore, but every student moves the sidebar's controls on Compare, Layer arithmetic or Residual
            paths (P: compare, layer-arithmetic, paths), for that page's latency and server CPU per rerun.

Prints one table: sessions, reruns, errors, p50/p95 rerun latency per page, first totals after connecting,
server CPU ms per rerun (counted once the server's warm-up has finished), trainings actually run (model files
written to the cache) and peak server RSS,
with the load average. Timings on a shared machine are noisy: compare rows measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import psutil
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parent.parent
ANSWER_TIMEOUT = 120.0  # s: a run not finished by then counts as an error ("no answer")
WIDGETS = ("slider", "number_input", "checkbox", "selectbox", "text_input", "text_area", "button")


@dataclass(frozen=True)
class Network:
    """A student's starting link and the moves they make: widget label -> values (preset: option prefixes)."""

    name: str
    link: str
    moves: dict


NETWORKS = (
    Network(
        "VGG-16",
        "family=vgg&preset=vgg16&input=3x224x224",
        {"Input size": (192, 208, 224, 240, 256), "kernels (first stage)": (48, 64), "Preset": ("VGG-16 ", "VGG-19 ")},
    ),
    Network(
        "ResNet-50",
        "family=resnet&preset=resnet50&input=3x224x224",
        {"Input size": (192, 224, 256), "depth": (50, 101), "Preset": ("ResNet-50 ", "ResNet-34 ")},
    ),
    Network(
        "DenseNet-121",
        "family=densenet&preset=densenet121&input=3x224x224",
        {"Input size": (192, 224, 256), "growth rate k": (24, 32), "Preset": ("DenseNet-121 ", "DenseNet-169 ")},
    ),
    Network(
        "ResNet-110",
        "family=resnet&preset=resnet110&input=3x32x32",
        {"Input size": (32, 48, 64), "depth": (56, 110), "Preset": ("ResNet-110 ", "ResNet-56 ")},
    ),
    Network(
        "MobileNetV2",
        "family=mobilenet_v2&preset=mobilenet_v2",
        {
            "resolution": (160, 192, 224),
            "width multiplier": (0.75, 1.0),
            "Preset": ("MobileNetV2 1.0", "MobileNetV2 0.75"),
        },
    ),
)
HEAVY = Network(
    "ResNet-1202 at 256",
    "family=resnet&preset=resnet1202&input=3x256x256",
    {"Input size": (224, 256, 288), "depth": (1202, 1100)},
)
OTHER_PAGES = ("compare", "layer-arithmetic", "paths")
TRAIN_PAGE, TRAIN_BUTTON, RESULT_METRIC = "layer-removal", "Train both networks", "Residual, full"


# -- the widget states a browser sends ---------------------------------------------------------------------------------


def shown_value(kind: str, proto):
    """The value a widget shows when it arrives: the server's when it set one (set_value), else its default.
    None for a widget without a value (a button, an empty box)."""
    if kind == "slider" and proto.options:  # st.select_slider: the formatted options, as strings
        if proto.set_value and proto.raw_value:
            return list(proto.raw_value)
        return [proto.options[int(i)] for i in proto.default]
    if kind == "slider":
        return list(proto.value) if proto.set_value else list(proto.default)
    if kind == "checkbox":
        return proto.value if proto.set_value else proto.default
    if kind == "selectbox":
        if proto.set_value:
            return proto.raw_value
        return proto.options[proto.default] if proto.options and proto.HasField("default") else None
    if kind in ("number_input", "text_input", "text_area"):
        if proto.set_value and proto.HasField("value"):
            return proto.value
        return proto.default if proto.HasField("default") else None
    return None


def widget_state(kind: str, proto, value) -> WidgetState | None:
    """The WidgetState a browser sends for a widget holding `value` (buttons: True in the run that presses)."""
    if value is None:
        return None
    state = WidgetState(id=proto.id)
    if kind == "slider" and proto.options:  # st.select_slider sends the formatted options (Streamlit 1.67)
        state.string_array_value.data.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    elif kind == "slider":
        state.double_array_value.data.extend(float(v) for v in (value if isinstance(value, list) else [value]))
    elif kind == "number_input":
        if proto.data_type == proto.INT:
            state.int_value = int(value)
        else:
            state.double_value = float(value)
    elif kind == "checkbox":
        state.bool_value = bool(value)
    elif kind in ("selectbox", "text_input", "text_area"):
        state.string_value = str(value)
    elif kind == "button":
        state.trigger_value = True
    else:
        return None
    return state


# -- one student ---------------------------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict = field(default_factory=dict)  # page -> [seconds]
    first_totals: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    reruns: int = 0
    results_seen: int = 0
    first_press: float | None = None  # when the first student pressed Train (class scenario)
    during_training: list = field(default_factory=list)  # Explore reruns sent after that press

    def add(self, page: str, seconds: float, sent: float) -> None:
        self.latencies.setdefault(page, []).append(seconds)
        self.reruns += 1
        if page == "explore" and self.first_press is not None and sent >= self.first_press:
            self.during_training.append(seconds)


class Student:
    def __init__(self, number: int, url: str, network: Network, stats: Stats, rng: random.Random):
        self.number, self.url, self.network, self.stats, self.rng = number, url, network, stats, rng
        self.ws = None
        self.widgets: dict = {}  # label -> (kind, proto) of the last complete run
        self.pending: dict = {}  # what the current run has drawn so far
        self.values: dict = {}  # element id -> the value the widget holds (server's set_value, else the student's)
        self.pages: dict = {}  # url path ("" for Explore) -> page_script_hash
        self.page_hash, self.page, self.query = "", "", network.link
        self.finished = asyncio.Event()
        self.last_status = None
        self.metrics: dict = {}
        self.connected_at = 0.0
        self.saw_totals = False
        self.verbose = False

    async def connect(self) -> None:
        host = urllib.parse.urlsplit(self.url).netloc
        token = await asyncio.to_thread(_xsrf_token, self.url)
        ws_url = self.url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
        self.connected_at = time.perf_counter()
        self.ws = await websockets.connect(
            ws_url,
            subprotocols=["streamlit", token] if token else ["streamlit"],
            additional_headers={"Cookie": f"_streamlit_xsrf={token}"} if token else None,
            max_size=None,
            open_timeout=60,
            ping_interval=None,  # a busy server may not answer pings in time; the run timeout judges it
            origin=f"http://{host}",
        )
        self.reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        with contextlib.suppress(BaseException):
            await self.reader

    async def _read(self) -> None:
        try:
            async for data in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._on(msg)
        except websockets.ConnectionClosed as e:
            if e.rcvd is None or e.rcvd.code != 1000:
                self.stats.errors.append(f"student {self.number}: connection dropped ({e})")
        finally:
            self.finished.set()

    def _on(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.page_hash = msg.new_session.page_script_hash
            self.pending = {}
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "navigation":
            for page in msg.navigation.app_pages:
                self.pages[page.url_pathname] = page.page_script_hash
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            etype = element.WhichOneof("type")
            if etype in WIDGETS:
                proto = getattr(element, etype)
                self.pending[proto.label] = (etype, proto)
                if proto.id not in self.values or getattr(proto, "set_value", False):
                    self.values[proto.id] = shown_value(etype, proto)
            elif etype == "metric":
                self.metrics[element.metric.label] = element.metric.body
                if element.metric.label == "Parameters" and not self.saw_totals:
                    self.saw_totals = True
                    self.stats.first_totals.append(time.perf_counter() - self.connected_at)
                if element.metric.label == RESULT_METRIC:
                    self.stats.results_seen += 1
            elif etype == "exception":
                self.stats.errors.append(
                    f"student {self.number} ({self.page or 'explore'}): {element.exception.type}: "
                    f"{element.exception.message[:200]}"
                )
        elif kind == "script_finished":
            status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
            if status == "FINISHED_EARLY_FOR_RERUN":
                return  # a callback asked for another run: the answer is the next one
            if status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY":
                self.widgets.update(self.pending)
            elif status == "FINISHED_SUCCESSFULLY":
                self.widgets = self.pending
            else:
                self.stats.errors.append(f"student {self.number}: script finished with {status}")
            self.pending = {}
            self.last_status = status
            self.finished.set()

    async def run(
        self,
        label: str | None = None,
        page: str | None = None,
        change: tuple | None = None,
        press: str | None = None,
        wait: float = ANSWER_TIMEOUT,
    ) -> bool:
        """One rerun as a browser asks for it; True when the server answered within `wait` seconds."""
        states = []
        for widget, (etype, proto) in self.widgets.items():
            if change and widget == change[0]:
                self.values[proto.id] = change[1]
            value = (widget == press or None) if etype == "button" else self.values.get(proto.id)
            state = widget_state(etype, proto, value)
            if state is not None:
                states.append(state)
        msg = BackMsg()
        client = msg.rerun_script
        client.query_string = self.query
        client.widget_states.widgets.extend(states)
        if page is None:
            client.page_script_hash = self.page_hash
        elif page in self.pages:
            client.page_script_hash = self.pages[page]
            self.page = page
        else:
            client.page_name = page
            self.page = page
        if not self.page_hash and page is None:  # the first run: the link decides
            client.page_name = ""
        client.context_info.timezone = "UTC"
        client.context_info.url = f"{self.url}/{self.page}?{self.query}"
        self.finished.clear()
        self.pending = {}
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        try:
            await asyncio.wait_for(self.finished.wait(), wait)
        except TimeoutError:
            if wait >= ANSWER_TIMEOUT:
                self.stats.errors.append(f"student {self.number}: no answer within {wait:.0f} s")
            return False
        if self.ws.state != websockets.protocol.State.OPEN:
            return False
        page = label or self.page or "explore"
        heavy = " (heavy sessions)" if self.network is HEAVY else ""  # the others' figures stand apart
        self.stats.add(page + heavy, time.perf_counter() - start, start)
        if self.verbose:
            print(
                f"  student {self.number:2d} {self.page or 'explore':16} {change or press or ''!s:40} "
                f"{(time.perf_counter() - start) * 1000:7,.0f} ms  Parameters {self.metrics.get('Parameters')}"
            )
        return True

    def a_move(self) -> tuple | None:
        label = self.rng.choice([m for m in self.network.moves if m in self.widgets] or [None])
        if label is None:
            return None
        etype, proto = self.widgets[label]
        values = self.network.moves[label]
        if etype == "selectbox":
            options = [o for o in proto.options if o.startswith(tuple(str(v) for v in values))]
            current = self.values.get(proto.id)
            options = [o for o in options if o != current] or options
            return (label, self.rng.choice(options)) if options else None
        current = self.values.get(proto.id)
        current = current[0] if isinstance(current, list) else current
        return label, self.rng.choice([v for v in values if v != current] or list(values))


def _xsrf_token(url: str) -> str | None:
    """GET /_stcore/health as the browser does: it sets the _streamlit_xsrf cookie the websocket presents."""
    with urllib.request.urlopen(url.rstrip("/") + "/_stcore/health", timeout=60) as response:
        cookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie.load(header)
    morsel = cookie.get("_streamlit_xsrf")
    return morsel.value if morsel else None


# -- the scenarios -------------------------------------------------------------------------------------------------


async def student_life(student: Student, args, t0: float, train_at: float | None, barrier_time: list) -> None:
    await asyncio.sleep(student.rng.uniform(0, args.ramp))
    await student.connect()
    if not await student.run(label="first screen", page=""):
        return
    if args.page:  # the page every move is measured on (explore scenario): its server CPU per rerun
        await student.run(page=args.page)
    end = t0 + args.ramp + args.seconds
    trained = train_at is None
    while time.perf_counter() < end and student.ws.state == websockets.protocol.State.OPEN:
        await asyncio.sleep(student.rng.uniform(2, 4))
        if not trained and time.perf_counter() >= t0 + train_at:
            trained = True
            for page in OTHER_PAGES:
                await student.run(page=page)
                await asyncio.sleep(student.rng.uniform(1, 2))
            await student.run(page=TRAIN_PAGE)
            barrier_time.append(time.perf_counter())
            # everyone presses at the same moment: the last student to arrive plus a second
            while len(barrier_time) < args.sessions and time.perf_counter() < t0 + train_at + 60:
                await asyncio.sleep(0.1)
            await asyncio.sleep(max(0.0, max(barrier_time) + 1 - time.perf_counter()))
            # the training may outlast the 3 s a student waits here; the student moves on
            if student.stats.first_press is None:
                student.stats.first_press = time.perf_counter()
            await student.run(label="press Train", press=TRAIN_BUTTON, wait=3.0)
            await student.run(page="")
            continue
        move = student.a_move()
        if move is not None:
            await student.run(change=move)
    if train_at is not None:  # at the end: the shared result
        await student.run(page=TRAIN_PAGE)
    await student.close()


# -- the server ----------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict, log) -> subprocess.Popen:
    """The app as `make run` serves it."""
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(url: str, timeout: float = 120) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return time.perf_counter() - start
        time.sleep(0.2)
    raise SystemExit(f"the server at {url} did not answer /_stcore/health within {timeout:.0f} s")


class Monitor:
    """CPU seconds and peak RSS of the server processes (and their children), sampled twice a second."""

    def __init__(self, pids: list):
        self.procs = [psutil.Process(p) for p in pids]
        self.peak_rss = 0
        self.cpu_start = self.cpu()

    def family(self):
        for proc in self.procs:
            with contextlib.suppress(psutil.Error):
                yield proc
                yield from proc.children(recursive=True)

    def cpu(self) -> float:
        total = 0.0
        for proc in self.family():
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        return total

    def rss(self) -> int:
        total = 0
        for proc in self.family():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    async def watch(self) -> None:
        while True:
            self.peak_rss = max(self.peak_rss, self.rss())
            await asyncio.sleep(0.5)


def model_files(folder: Path | None) -> set:
    return {str(p.relative_to(folder)) for p in folder.rglob("*.pt")} if folder and folder.exists() else set()


# -- main ----------------------------------------------------------------------------------------------------------


def ms(values: list) -> str:
    """p50 / p95 in milliseconds."""
    return f"{pct(values, 0.5) * 1000:,.0f} / {pct(values, 0.95) * 1000:,.0f} ms"


def pct(values: list, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


async def quiet(monitor: Monitor, timeout: float = 90.0) -> None:
    """Wait until the server spends under 5% of a core for a whole second (or timeout s)."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        before = monitor.cpu()
        await asyncio.sleep(1.0)
        if monitor.cpu() - before < 0.05:
            return


async def measure(args, urls: list, monitor: Monitor | None) -> tuple:
    rng = random.Random(args.seed)
    stats = Stats()
    students = []
    for i in range(args.sessions):
        network = HEAVY if i < args.heavy else NETWORKS[i % len(NETWORKS)]
        students.append(Student(i, urls[i % len(urls)], network, stats, random.Random(rng.random())))
        students[-1].verbose = args.verbose
    if monitor:  # the server's warm-up (ui/warm.py) finishes first: its CPU is not the students' reruns
        await quiet(monitor)
    watcher = asyncio.create_task(monitor.watch()) if monitor else None
    cpu0 = monitor.cpu() if monitor else 0.0
    t0 = time.perf_counter()
    barrier: list = []
    train_at = args.train_at if args.scenario == "class" else None
    await asyncio.gather(*(student_life(s, args, t0, train_at, barrier) for s in students), return_exceptions=False)
    elapsed = time.perf_counter() - t0
    cpu = (monitor.cpu() - cpu0) if monitor else float("nan")
    if watcher:
        watcher.cancel()
    return stats, elapsed, cpu


def report(args, stats: Stats, elapsed: float, cpu: float, monitor, trainings, start_seconds) -> None:
    load = os.getloadavg()
    print(
        f"\nload_class: scenario {args.scenario}, {args.sessions} sessions ({args.heavy} heavy), "
        f"{len(args.url) or args.replicas} server(s), {elapsed:.0f} s, load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f} (after), {os.cpu_count()} cores"
    )
    all_latencies = [x for v in stats.latencies.values() for x in v]
    rows = [
        ("sessions", f"{args.sessions}"),
        ("reruns answered", f"{stats.reruns} ({stats.reruns / elapsed:.1f}/s)"),
        ("errors", f"{len(stats.errors)}"),
    ]
    rows.append(
        (
            "rerun p50 / p95, all pages",
            f"{pct(all_latencies, 0.5) * 1000:,.0f} / {pct(all_latencies, 0.95) * 1000:,.0f} ms",
        )
    )
    for page, values in sorted(stats.latencies.items()):
        rows.append(
            (
                f"  {page} ({len(values)} reruns)",
                f"{pct(values, 0.5) * 1000:,.0f} / {pct(values, 0.95) * 1000:,.0f} ms (max {max(values) * 1000:,.0f})",
            )
        )
    if stats.first_totals:
        rows.append(
            (
                "first totals after connecting p50 / max",
                f"{pct(stats.first_totals, 0.5):.2f} / {max(stats.first_totals):.2f} s",
            )
        )
    if start_seconds is not None:
        rows.append(("server start to /_stcore/health", f"{start_seconds:.1f} s"))
    if monitor:
        rows.append(
            (
                "server CPU per rerun",
                f"{cpu / max(1, stats.reruns) * 1000:,.0f} ms "
                f"({cpu:.0f} CPU s in {elapsed:.0f} s: {cpu / elapsed:.2f} cores busy)",
            )
        )
        rows.append(("peak server RSS", f"{monitor.peak_rss / 2**20:,.0f} MB"))
    if trainings is not None:
        rows.append(("trainings run (model files written)", f"{len(trainings)}"))
    if args.scenario == "class":
        rows.append(("layer-removal results shown", f"{stats.results_seen}"))
        if stats.during_training:  # the class-server goal: Explore while the shared training runs
            rows.append(
                (
                    f"explore after the first press ({len(stats.during_training)} reruns)",
                    f"{ms(stats.during_training)} (max {max(stats.during_training) * 1000:,.0f})",
                )
            )
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    for error in stats.errors[:10]:
        print(f"  error: {error}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60, help="how long every student keeps moving (after ramp)")
    parser.add_argument("--ramp", type=float, default=5, help="students arrive over this many seconds")
    parser.add_argument("--scenario", choices=("explore", "class"), default="explore")
    parser.add_argument(
        "--page", choices=OTHER_PAGES, help="explore: every student moves the sidebar's controls on this page instead"
    )
    parser.add_argument("--train-at", type=float, default=20, help="class: seconds after the start everyone trains")
    parser.add_argument("--heavy", type=int, default=0, help="sessions on ResNet-1202 at 256 instead")
    parser.add_argument("--url", action="append", default=[], help="an already running server (repeat for replicas)")
    parser.add_argument("--replicas", type=int, default=1, help="servers to start when no --url is given")
    parser.add_argument("--cache-dir", type=Path, help="the servers' EXPLORER_CACHE_DIR (default: a fresh one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="print every rerun (student, move, latency, totals)")
    args = parser.parse_args(argv)

    servers, temp, log = [], None, None
    urls, cache_dir, start_seconds = list(args.url), args.cache_dir, None
    try:
        if not urls:
            if cache_dir is None:
                temp = tempfile.mkdtemp(prefix="load-class-cache-")
                cache_dir = Path(temp)
            env = dict(os.environ, EXPLORER_CACHE_DIR=str(cache_dir))
            log = open(tempfile.gettempdir() + f"/load_class-{os.getpid()}.log", "w")
            for _ in range(args.replicas):
                port = _free_port()
                t = time.perf_counter()
                servers.append(start_server(port, env, log))
                urls.append(f"http://127.0.0.1:{port}")
            start_seconds = max(wait_healthy(u) for u in urls) if urls else None
            for u in urls:  # as `make run` does: run the app once as soon as the server answers (ui/first_run.py)
                warm = [sys.executable, "-m", "ui.first_run", u.rsplit(":", 1)[1]]
                subprocess.run(warm, cwd=ROOT, env=env, check=False, timeout=180)
            start_seconds = time.perf_counter() - t if start_seconds is not None else None
            print(f"started {len(servers)} server(s): {', '.join(urls)} (log {log.name}, cache {cache_dir})")
        monitor = Monitor([s.pid for s in servers]) if servers else None
        before = model_files(cache_dir)
        stats, elapsed, cpu = asyncio.run(measure(args, urls, monitor))
        trainings = sorted(model_files(cache_dir) - before) if cache_dir else None
        report(args, stats, elapsed, cpu, monitor, trainings, start_seconds)
        return 1 if stats.errors else 0
    finally:
        for proc in servers:
            proc.terminate()
        for proc in servers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        if log:
            log.close()
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
