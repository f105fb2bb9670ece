"""The server operator's settings: every environment variable the app reads, in one place.

    EXPLORER_CACHE_DIR       where results and trained weights are stored (default .cache/explorer)
    EXPLORER_CACHE_MB        the cache's size cap in megabytes; least recently used entries go first (default 2000)
    EXPLORER_WORKERS         trainings run at once on this server, the rest wait in a queue (default: the cores)
    EXPLORER_BUDGET          the estimated core-seconds one run may cost; more is refused (default 120; 0: no limit)
    EXPLORER_DATA_ROOT       the folder a CIFAR-10 folder typed by a user must lie in (default: the home folder)
    EXPLORER_CIFAR10_DIR     a CIFAR-10 folder used when the user names none
    EXPLORER_BACKEND         "local" (training processes beside the server; default) or "rq" (Redis queue, rq workers)
    EXPLORER_REDIS_URL       the Redis server of the rq backend (default redis://localhost:6379/0)
    EXPLORER_THREADS         CPU threads of one training (default 1)
    EXPLORER_DEVICE          cpu or cuda (default: cuda when available)

The port is Streamlit's own: `make run PORT=8502` or STREAMLIT_SERVER_PORT. A value that is not understood
raises an ExplorerError naming the variable and what it accepts (never a silent default).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ExplorerError

CACHE_MB_ENV = "EXPLORER_CACHE_MB"
WORKERS_ENV = "EXPLORER_WORKERS"
BUDGET_ENV = "EXPLORER_BUDGET"
DATA_ROOT_ENV = "EXPLORER_DATA_ROOT"
BACKEND_ENV = "EXPLORER_BACKEND"
REDIS_URL_ENV = "EXPLORER_REDIS_URL"
ANALYSTS_ENV = "EXPLORER_ANALYSTS"

DEFAULT_CACHE_MB = 2000.0
DEFAULT_BUDGET = 120.0  # core-seconds: one run within about two core-minutes
BACKENDS = ("local", "rq")


class SettingError(ExplorerError, ValueError):
    """An operator's environment variable that cannot be read."""


def _number(name: str, default: float, minimum: float, integer: bool = False) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = None
    if value is None or value != value or value in (float("inf"), float("-inf")) or value < minimum:
        kind = "a whole number" if integer else "a number"
        raise SettingError(f"{name}={text[:40]!r} is not {kind} of at least {minimum:g}; fix or unset it.")
    return value


def cache_mb() -> float:
    """The disk cache's size cap in megabytes."""
    return _number(CACHE_MB_ENV, DEFAULT_CACHE_MB, 1.0)


def workers() -> int:
    """How many trainings run at once on this server (the rest queue)."""
    return int(_number(WORKERS_ENV, float(os.cpu_count() or 1), 1, integer=True))


def analysts() -> int:
    """How many analysis processes the web server computes new analyses in (0: in the web process itself).
    One beside the web process on two cores; at most two (each holds PyTorch: about 300 MB)."""
    default = min(2, max(1, (os.cpu_count() or 1) - 1))
    return int(_number(ANALYSTS_ENV, float(default), 0, integer=True))


def budget() -> float | None:
    """The estimated core-seconds one run may cost, or None when the operator lifted the limit (0)."""
    value = _number(BUDGET_ENV, DEFAULT_BUDGET, 0.0)
    return value or None


def data_root() -> Path:
    """The folder every user-chosen data folder must lie in (resolved, symbolic links followed)."""
    text = os.environ.get(DATA_ROOT_ENV, "").strip()
    root = Path(text).expanduser() if text else Path.home()
    return root.resolve()


def backend_name() -> str:
    name = os.environ.get(BACKEND_ENV, "").strip().lower() or "local"
    if name not in BACKENDS:
        raise SettingError(f"{BACKEND_ENV}={name[:40]!r} is not a job backend; use one of {', '.join(BACKENDS)}.")
    return name


def redis_url() -> str:
    return os.environ.get(REDIS_URL_ENV, "").strip() or "redis://localhost:6379/0"
