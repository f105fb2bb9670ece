"""Warm the server before the first student: PyTorch's one-time costs and the lecture's networks, analysed and drawn.

The first analysis in a process pays PyTorch's first-call costs, and each network's first visit its analysis,
graph layout and `dot` drawing. app.py starts up() in a thread once per process, on the server's first run,
which `make run` makes itself as soon as the server answers (ui/first_run.py). (Starting it through st.App's
lifespan was measured: served by st.App, an input change reached the screen in 389 ms p50 against about
150 ms on Streamlit's default server.)
"""

from __future__ import annotations

import threading

import explorer
from explorer import graph
from ui import graphs

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
    """Analyse the lecture's networks and draw their default graphs, into the caches every session reads
    (once per process)."""
    with _lock:
        if _done.is_set():
            return
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
