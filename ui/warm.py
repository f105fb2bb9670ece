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
from explorer.analysis.compare import compare, default_selection

# What the other pages import, imported with the app rather than on the first student's first visit of each page
# (measured: ui.experiments brings the job queue's redis client, 73 ms; the charts and experiment modules another
# 20-40 ms per page).
from explorer.experiments import (  # noqa: F401
    distill,
    layer_removal,
    path_gradients,
    prune,
    quantize,
    transfer_cut,
    truncate,
)
from explorer.families.vgg import CONFIGS
from explorer.labs.arithmetic import LayerSetup
from explorer.live import analyst
from ui import charts, experiments, graphs, labs, lecture, measured  # noqa: F401 (charts and graphs are used)

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
        for config in CONFIGS:  # Compare's first view: VGG A-E at the sidebar's default input and at 224
            for shape in ((3, 32, 32), (3, 224, 224)):
                explorer.analyze("vgg", shape, config=config)
        compare(tuple(default_selection()))  # and the presets across families
        charts.sliding_window(LayerSetup(), 0)  # Layer arithmetic's first view: its default layer, first window
        charts.receptive_field(explorer.analyze(*LECTURE_NETWORKS[0]))  # and the sidebar's default network
        _done.set()


def in_background() -> threading.Thread:
    analyst.serve_analyses()  # new analyses from now on in the analysis processes (they start meanwhile)
    thread = threading.Thread(target=up, name="warm-up", daemon=True)
    thread.start()
    return thread
