"""Analysis processes: the web server's new analyses and code exports computed beside it, not in it.

    python -m explorer.live.analyst        (started by Analysts; one request at a time)

Streamlit runs every session's script in a thread of one process, so an analysis holds Python's lock for
everyone: with thirty students the engine (new configurations: building, tracing, the code export's torch.fx
trace) was 40% of the web process's time, and one student's ResNet-1202 at 256 (about a second a change) raised
the others' median rerun from 278 to 772 ms (benchmarks/load_class.py --heavy 1, py-spy). Here the work runs in
another process, on another core; the web process only waits on a pipe (which releases the lock) and unpickles
the answer (ResNet-1202's analysis: 18 ms against 308 ms to compute it).

Each request is one line: a base64 pickle of (function, args, kwargs), where the function is one of the engine's
own (explorer.*, never anything a user sent); the answer is one line, a base64 pickle of ("ok", value) or
("error", the exception). Pickle is safe here because both ends are this program: no user data is unpickled from
disk or the network. Not multiprocessing: its spawn start re-runs the main module in the child, and under
Streamlit the main module is the app script.

The caches stay in the web process (explorer.analysis.analyzer keeps the answer, so every session and page gets
it from memory); identical requests are still computed once (the analyzer's single flight).
"""

from __future__ import annotations

import base64
import os
import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path

from ..analysis import analyzer
from .settings import analysts


def _encode(value) -> bytes:
    return base64.b64encode(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)) + b"\n"


def _decode(line: bytes):
    # Only ever a line the other end of this process's own pipe wrote (the web server and the analysis process it
    # started); no user's bytes reach it: a user's input arrives as configuration values, never as a pickle.
    return pickle.loads(base64.b64decode(line))


# -- the child ------------------------------------------------------------------------------------------------
def serve(requests=None, answers=None) -> None:
    """The analysis process's loop: a request per line on stdin, an answer per line on stdout."""
    requests = requests or sys.stdin.buffer
    answers = answers or sys.stdout.buffer
    answers.write(_encode(("ready", os.getpid())))
    answers.flush()
    for line in requests:
        function, args, kwargs = _decode(line)
        try:
            if not function.__module__.startswith("explorer."):
                raise ValueError(f"{function.__module__}.{function.__qualname__} is not the engine's")
            answer = ("ok", function(*args, **kwargs))
        except Exception as e:  # the web process raises it again, the same sentence
            answer = ("error", e)
        try:
            line = _encode(answer)
        except Exception as e:  # an answer that cannot be pickled
            line = _encode(("error", RuntimeError(f"{type(e).__name__}: {e}")))
        try:
            answers.write(line)
            answers.flush()
        except BrokenPipeError:  # the web server went away
            return


# -- the web process's side ------------------------------------------------------------------------------------
WAIT_S = 5.0  # the longest a request waits for a free analysis process before the web process computes it


class Analysts:
    """A few analysis processes; call() runs an engine function in an idle one (or here, until one is ready)."""

    def __init__(self, processes: int):
        self.size = processes
        self._idle: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self.started = 0
        self.pids: set = set()
        self.remote_calls = 0  # answered by an analysis process (the tests read these)
        self.local_calls = 0

    def start(self) -> None:
        """Start the processes in the background: each joins the idle ones when it has imported the engine."""
        with self._lock:
            missing, self.started = self.size - self.started, self.size
        for _ in range(missing):
            threading.Thread(target=self._spawn, name="analyst-start", daemon=True).start()

    def _spawn(self) -> None:
        root = str(Path(__file__).resolve().parents[2])  # the folder holding the explorer package
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        process = subprocess.Popen(
            [sys.executable, "-m", "explorer.live.analyst"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=root,
            env={**os.environ, "PYTHONPATH": path},
        )
        try:
            ready = _decode(process.stdout.readline())
        except Exception:
            ready = None
        if not (isinstance(ready, tuple) and ready[0] == "ready"):
            process.kill()
            with self._lock:
                self.started -= 1  # start() may try again later
            return
        self.pids.add(process.pid)
        self._idle.put(process)

    def call(self, function, *args, **kwargs):
        """function(*args, **kwargs), computed in an analysis process, else here (none started yet, or none free
        within WAIT_S). The answer, or the exception the function raised there, raised here again.

        Waiting for a busy process is the point: a heavy request occupies it, not the lock every session's
        rerun needs."""
        process = None
        if self.size and self.pids:
            try:
                process = self._idle.get(timeout=WAIT_S)
            except queue.Empty:
                pass
        if process is None:
            self.local_calls += 1
            return function(*args, **kwargs)
        try:
            process.stdin.write(_encode((function, args, kwargs)))
            process.stdin.flush()
            line = process.stdout.readline()
            status, value = _decode(line)
        except Exception:  # the process died (killed, out of memory): this call here, a new process next
            process.kill()
            self.pids.discard(process.pid)
            with self._lock:
                self.started -= 1
            self.start()
            self.local_calls += 1
            return function(*args, **kwargs)
        self._idle.put(process)
        self.remote_calls += 1
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        while True:
            try:
                process = self._idle.get_nowait()
            except queue.Empty:
                return
            process.kill()
            self.pids.discard(process.pid)


_POOL: list = []
_POOL_LOCK = threading.Lock()


def pool() -> Analysts:
    """The server's analysis processes (EXPLORER_ANALYSTS of them), started on first use."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(Analysts(analysts()))
            _POOL[0].start()
    return _POOL[0]


def serve_analyses() -> Analysts:
    """From now on this process's new analyses are computed by its analysis processes (the web server calls this
    once when it starts; the CLI, the tests and the library analyse in their own process)."""
    found = pool()
    if found.size:
        analyzer.compute_with(found.call)
    return found


if __name__ == "__main__":
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not break the answers
    serve(sys.stdin.buffer, answers)
