"""Assertions shared by several test files (AppTest, browser and core tests)."""

import base64
import html
import os
import subprocess
import sys
from pathlib import Path

import torch

from explorer import analyze, configure
from explorer.build import meta_model as build_meta
from explorer.live import cache as disk

ROOT = Path(__file__).resolve().parent.parent


def no_exceptions(at) -> None:
    """No traceback reached the page."""
    assert not at.exception, [e.value for e in at.exception]


def drawings(at) -> list[str]:
    """Every graph on the page as text: first the layer graphs the server drew (ui.graphs.draw: Graphviz's SVG
    as a data: URL image, entities decoded so that labels read as on screen), then each st.graphviz_chart's DOT."""
    svgs = []
    for image in at.get("image"):
        for img in image.proto.imgs:
            head, _, data = img.url.partition(",")
            if head == "data:image/svg+xml;base64":
                svgs.append(html.unescape(base64.b64decode(data).decode()))
    return svgs + [c.proto.spec for c in at.get("graphviz_chart")]


def metric(at, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric '{label}' among {[m.label for m in at.metric]}")


def assert_fast_trace_agrees(name: str, **knobs) -> None:
    """explorer.trace returns empty tensors for shape-preserving layers and handles padding, channel slices and
    shared hidden states: every leaf layer's output shape, call by call, must be what a plain meta forward gives."""
    a = analyze(name, **knobs)
    model = build_meta(configure(name, a.input_shape, **knobs)).eval()
    seen = {}

    def record(layer):
        def hook(module, inputs, output):  # returns None: the output is left alone
            seen.setdefault(layer, []).append(tuple(output.shape[1:]))

        return hook

    for n, m in model.named_modules():
        if not list(m.children()):
            m.register_forward_hook(record(n))
    with torch.no_grad():
        model(torch.empty(1, *a.input_shape, device="meta"))
    ours = {}
    for r in a.rows:
        if r.kind not in ("merge", "op", "reshape", "unused") or r.type == "Flatten":
            ours.setdefault(r.name, []).append(r.output_shape)
    assert ours == seen, name


def set_args(settings: dict) -> list[str]:
    """The CLI's `--set K=V` arguments for an experiment's settings."""
    return [a for k, v in settings.items() for a in ("--set", f"{k}={v}")]


def run_cli(*args, cache, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m explorer ARGS` in a subprocess, reading and writing the disk cache in `cache`."""

    env = {**os.environ, disk.CACHE_ENV: str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout
    )
