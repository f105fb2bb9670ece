"""Where a rerun's time goes: with EXPLORER_PROFILE=1 every rerun logs one line to the server's stderr.

    rerun explore 412 ms | sidebar 38 · analysis 2 · totals 9 · graph 301 (dot 12, layout 270) · table 55

Pages and ui/ wrap their parts in `with section("graph"):`; nested sections are shown inside their parent.
Streamlit runs each session's script in its own thread, so the sections of one rerun are kept per thread.
Off (the default), section() costs one attribute lookup.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time

ENABLED = os.environ.get("EXPLORER_PROFILE", "").strip() not in ("", "0")
_local = threading.local()


def start() -> None:
    """A rerun begins."""
    if ENABLED:
        _local.t0 = time.perf_counter()
        _local.parts = []  # (depth, name, ms), in order of completion
        _local.depth = 0


@contextlib.contextmanager
def section(name: str):
    if not ENABLED or not hasattr(_local, "parts"):
        yield
        return
    _local.depth += 1
    t = time.perf_counter()
    try:
        yield
    finally:
        _local.depth -= 1
        _local.parts.append((_local.depth, name, (time.perf_counter() - t) * 1000))


def line(page: str) -> str | None:
    """The rerun's line (and forget it), or None when profiling is off or nothing started."""
    if not ENABLED or not hasattr(_local, "parts"):
        return None
    total = (time.perf_counter() - _local.t0) * 1000
    parts, children = [], []
    for depth, name, ms in _local.parts:  # a parent completes after its children
        if depth == 0:
            inner = f" ({', '.join(children)})" if children else ""
            parts.append(f"{name} {ms:.0f}{inner}")
            children = []
        else:
            children.append(f"{name} {ms:.0f}")
    del _local.parts
    return f"rerun {page} {total:.0f} ms | " + " · ".join(parts)


def report(page: str) -> None:
    text = line(page)
    if text is not None:
        print(text, file=sys.stderr, flush=True)
