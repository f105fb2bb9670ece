"""A training process of the local job backend: `python -m explorer.live.trainer`, one run at a time.

The web server's LocalJobs starts a few of these beside itself and writes one job per line on their
stdin; each answers on its stdout with JSON lines for that job:

    {"key": k, "started": true}
    {"key": k, "fraction": 0.4, "text": "residual network: epoch 2/5, ..."}      (a few a second)
    {"key": k, "outcome": {...}, "trained": 2}   or   {"key": k, "error": "one sentence", "trained": 0}

A process of its own, not a thread of the server: a training holds Python's lock between its steps, and
with thirty students on Explore and one shared training in a thread, their reruns stalled up to 20 s
(benchmarks/load_class.py --scenario class). It runs at a lower priority (os.nice) so the pages come
first. Not multiprocessing: its spawn start re-runs the main module in the child, and under Streamlit
the main module is the app script itself.
"""

from __future__ import annotations

import json
import os
import sys
import time

from ..errors import ExplorerError
from ..experiments.base import run_experiment
from . import training
from .training import Progress

NICENESS = 10  # trainings yield the cores to the web server's pages
PROGRESS_EVERY = 0.2  # seconds between progress lines


def failure(e: BaseException) -> str:
    """The sentence every session attached to a failed run reads."""
    if isinstance(e, ExplorerError):
        return str(e)
    return f"The run failed ({type(e).__name__}: {str(e)[:200]}); try other settings, or tell the server's operator."


def run_job(job: dict, send) -> None:
    """One job: its operator settings as the web process had them, the run, its answer through send(dict)."""
    for name in [n for n in os.environ if n.startswith("EXPLORER_")]:
        del os.environ[name]
    os.environ.update(job.get("environment") or {})
    key = job["key"]
    send({"key": key, "started": True})
    before, last = training.TRAIN_CALLS, [0.0]

    def progress(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            send({"key": key, "fraction": min(1.0, p.overall), "text": p.text()})

    try:
        outcome = run_experiment(job["name"], job["settings"], progress, job.get("data_dir"), budget=None)
    except Exception as e:  # the process stays up for the next job
        send({"key": key, "error": failure(e), "trained": training.TRAIN_CALLS - before})
        return
    answer = {k: getattr(outcome, k) for k in ("experiment", "settings", "result", "from_cache", "seconds")}
    send({"key": key, "outcome": answer, "trained": training.TRAIN_CALLS - before})


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print goes to the log, not into the answers
    os.nice(NICENESS)

    def send(message: dict) -> None:
        answers.write(json.dumps(message) + "\n")

    try:
        for line in sys.stdin:
            if line.strip():
                run_job(json.loads(line), send)
    except (BrokenPipeError, KeyboardInterrupt):  # the server has gone: so does its trainer
        pass


if __name__ == "__main__":
    main()
