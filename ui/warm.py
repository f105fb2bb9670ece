"""Warm the server before the first student: PyTorch's one-time costs, the app's imports, the lecture's networks.

The first analysis in a process pays PyTorch's first-call costs and the first page pays pandas', pyarrow's and
plotly's imports (together about 2 s on a 2-core machine). app.py starts up() in a thread once per process,
on the first session. (Starting it with the server through st.App's lifespan was measured: served by st.App,
an input change reached the screen in 389 ms p50 against about 150 ms on Streamlit's default server.)
"""

from __future__ import annotations

import sys
import threading
import time
import urllib.error
import urllib.request

LECTURE_NETWORKS = (
    ("vgg16", (3, 32, 32)),  # the sidebar's default view
    ("vgg16", (3, 224, 224)),
    ("resnet50", None),
    ("densenet121", None),
    ("resnet110", None),
    ("mobilenet_v2", None),
)
_done = threading.Event()
_lock = threading.Lock()


def up() -> None:
    """Import what the pages draw with; analyse the lecture's networks and draw their default graphs, into the
    caches every session reads (once per process)."""
    with _lock:
        if _done.is_set():
            return
        import pandas  # noqa: F401, PLC0415  (imported here, in the warm-up thread, not on the first click)
        import plotly.graph_objects  # noqa: F401, PLC0415
        import pyarrow  # noqa: F401, PLC0415

        import explorer  # noqa: PLC0415
        from explorer import graph  # noqa: PLC0415
        from ui import graphs  # noqa: PLC0415

        for name, shape in LECTURE_NETWORKS:
            analysis = explorer.analyze(name, shape)
            dot = graph.to_dot(analysis, graph.default_depth(analysis))  # the graph Explore opens with
            if graphs.has_dot():
                graphs.to_svg(dot)
        _done.set()


def in_background() -> threading.Thread:
    thread = threading.Thread(target=up, name="warm-up", daemon=True)
    thread.start()
    return thread


def after_start(port: int, timeout_s: float = 120.0) -> bool:
    """Run app.py once as soon as the server on `port` answers, so that the first student finds it warm.

    Streamlit runs a script on the first session only; its script health check (server.scriptHealthCheckEnabled,
    an endpoint that runs the script once in a session of its own and answers 200 or 503) lets `make run` do
    that first run itself: `python -m ui.warm PORT` in the background beside `streamlit run`.
    """
    base = f"http://localhost:{port}/_stcore"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):
                pass
            with urllib.request.urlopen(f"{base}/script-health-check", timeout=timeout_s):
                return True
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    return False


if __name__ == "__main__":
    sys.exit(0 if after_start(int(sys.argv[1])) else 1)
