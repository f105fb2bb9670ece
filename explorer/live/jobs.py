"""Experiment runs shared by the whole server: identical settings train once, a few at a time, in a queue.

    jobs = backend()                                    # $EXPLORER_BACKEND: "local" (default) or "rq"
    key = jobs.submit("layer-removal", values, data_dir)  # KnobError / LimitError at once; attaches if running
    status = jobs.status(key)                           # queued (position, wait), running (progress), done, failed
    status.outcome.result                               # the same Outcome for every session that asked

A job's key is the cache key of its result, so two sessions (or two app replicas) asking for the same
settings name the same job: the second attaches to the first's progress instead of training again.

LocalJobs runs jobs in training processes beside the web server (explorer/live/trainer.py, started when
the first run is asked for), at most $EXPLORER_WORKERS at once (default: the cores), the rest waiting in
order; they run at a lower priority than the pages. LocalJobs(processes=False) runs them in threads of
this process instead (tests with in-process experiments; a training in a thread stalls the pages).

RQJobs puts them on a Redis queue that any number of app replicas share, run by separate
`rq worker` processes (as many as trainings should run at once), all writing one shared cache:

    EXPLORER_BACKEND=rq EXPLORER_REDIS_URL=redis://host:6379/0 make run        # each replica
    EXPLORER_REDIS_URL=... .venv/bin/rq worker --url redis://host:6379/0 explorer   # each worker

Estimated waits come from the experiments' cost estimates (core-seconds, Experiment.cost), corrected by
the progress of the runs ahead.
"""

from __future__ import annotations

import functools
import heapq
import json
import os
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis
from rq import Queue, Worker, get_current_job

from ..errors import ExplorerError
from ..experiments.base import Outcome, cached_outcome, check_budget, get_experiment, run_experiment
from . import settings as operator
from . import training
from .trainer import failure as _failure
from .training import Progress

QUEUE = "explorer"  # the rq queue's name: `rq worker ... explorer`
JOB_TIMEOUT = 3600  # seconds a worker may spend on one job before rq stops it
RESULT_TTL = 3600  # seconds a finished job (and its outcome) stays in Redis; the disk cache keeps it longer
KEEP_FINISHED = 200  # finished local jobs remembered for sessions that attached to them
COMPUTED = "explorer:computed"  # Redis counter: runs that really computed (not loaded from the cache)


@dataclass(frozen=True)
class Status:
    """Where a job is, as a page shows it."""

    key: str
    state: str  # "queued", "running", "done", "failed" or "missing" (unknown to the backend)
    fraction: float = 0.0  # of the run done
    text: str = ""  # the training's own progress line
    position: int = 0  # 1: the next to start (queued jobs only)
    wait: float = 0.0  # estimated seconds until it starts (queued) or finishes (running)
    outcome: Outcome | None = None
    error: str = ""  # one sentence when failed
    workers: int = 1  # trainers serving the queue (rq: worker processes; 0 when none is running)

    def describe(self) -> str:
        """One line for a progress bar."""
        if self.state == "queued" and not self.workers:
            return "Waiting in the queue: no trainer is running; ask the server's operator to start `rq worker`."
        if self.state == "queued":
            ahead = "next in line" if self.position == 1 else f"position {self.position} in the queue"
            return f"Waiting for a free trainer: {ahead}, about {_duration(self.wait)} before it starts."
        if self.state == "running":
            left = f" (about {_duration(self.wait)} left)" if self.wait else ""
            return f"Training the {self.text}{left}" if self.text else f"Starting…{left}"
        return self.error or self.state


def _duration(seconds: float) -> str:
    if seconds < 5:
        return "a few seconds"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def remaining(estimate: float, fraction: float, elapsed: float) -> float:
    """Seconds a running job still needs: from its own pace once it has made progress, else the estimate."""
    if fraction > 0.05 and elapsed > 0:
        return elapsed * (1 - fraction) / fraction
    return max(0.0, estimate - elapsed)


def start_delay(running: list[float], ahead: list[float], workers: int) -> float:
    """Seconds until a job starts, given the remaining time of the running jobs and the estimates ahead of it.

    Each of the `workers` takes the next job when it is free (list scheduling, the queue's own order).
    """
    slots = sorted(running)[:workers] + [0.0] * max(0, workers - len(running))
    heapq.heapify(slots)
    for estimate in ahead:
        heapq.heappush(slots, heapq.heappop(slots) + estimate)
    return slots[0]


def _prepare(name: str, values: dict | None, data_dir: str | None):
    """The experiment, its checked settings and the job key; bad knobs raise at once (one sentence)."""
    experiment = get_experiment(name)
    settings = experiment.check(values)
    return experiment, settings, experiment.job_key(settings, data_dir)


# -- one process: threads -------------------------------------------------------------------------
@dataclass
class _Job:
    key: str
    name: str
    settings: dict
    data_dir: str | None
    estimate: float
    state: str = "queued"
    fraction: float = 0.0
    text: str = ""
    started: float = 0.0
    outcome: Outcome | None = None
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)


class LocalJobs:
    """Jobs on this machine: one run per key, at most `workers` at once, the rest queued in order.

    processes=True (the server's backend): each run in a training process (trainer.py); False: in a thread.
    """

    def __init__(self, workers: int | None = None, processes: bool = False):
        self.workers = workers or operator.workers()
        self.processes = processes
        self.computed = 0  # runs that really computed (not loaded from the cache)
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._queue: list[str] = []  # keys waiting, in submission order
        self._pool = None if processes else ThreadPoolExecutor(self.workers, thread_name_prefix="explorer-job")
        self._waiting: queue.Queue[_Job] = queue.Queue()  # processes: the jobs the trainers take in order
        self._trainers: list[threading.Thread] = []
        self.trainer_pids: set[int] = set()  # the training processes alive now

    def submit(self, name: str, values: dict | None = None, data_dir: str | None = None) -> str:
        """The key of the job computing these settings: an existing one (attached), a cached result, or a new run."""
        experiment, settings, key = _prepare(name, values, data_dir)
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state in ("queued", "running"):
                return key  # the same settings are already on their way: attach
        stored = cached_outcome(name, settings, data_dir)
        if stored is not None:
            with self._lock:
                self._remember(_Job(key, name, settings, data_dir, 0.0, "done", 1.0, outcome=stored))
            return key
        estimate = check_budget(experiment, settings, operator.budget())  # refused before it queues
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state in ("queued", "running"):
                return key  # another session submitted it while we read the cache
            job = _Job(key, name, settings, data_dir, estimate)
            self._remember(job)
            self._queue.append(key)
            if self.processes:
                self._waiting.put(job)
                while len(self._trainers) < self.workers:  # started with the first run, kept for the next
                    trainer = threading.Thread(target=self._train, name="explorer-trainer", daemon=True)
                    self._trainers.append(trainer)
                    trainer.start()
        if not self.processes:
            self._pool.submit(self._run, job)
        return key

    def _remember(self, job: _Job) -> None:
        self._jobs.pop(job.key, None)
        self._jobs[job.key] = job
        finished = [k for k, j in self._jobs.items() if j.state in ("done", "failed")]
        for k in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[k]

    def _start(self, job: _Job) -> None:
        with self._lock:
            self._queue.remove(job.key)
            job.state, job.started = "running", time.monotonic()

    def _run(self, job: _Job) -> None:
        """One run in a thread of this process (processes=False)."""
        self._start(job)

        def progress(p: Progress) -> None:
            job.fraction, job.text = min(1.0, p.overall), p.text()

        try:
            self._finish(job, run_experiment(job.name, job.settings, progress, job.data_dir, budget=None), "")
        except Exception as e:  # every session attached to it reads the sentence; the server keeps running
            self._finish(job, None, _failure(e))

    def _finish(self, job: _Job, outcome: Outcome | None, error: str) -> None:
        """The run ended: its outcome, or the sentence every session attached to it reads."""
        if outcome is not None:
            job.outcome, job.state, job.fraction = outcome, "done", 1.0
            self.computed += not outcome.from_cache
        else:
            job.error, job.state = error, "failed"
        job.done.set()

    def _train(self) -> None:
        """One trainer: takes the next job, hands it to its training process, follows its answer lines."""
        process = None
        while True:
            job = self._waiting.get()
            self._start(job)
            if process is None or process.poll() is not None:
                process = _trainer_process()
                self.trainer_pids.add(process.pid)
            order = {"key": job.key, "name": job.name, "settings": job.settings, "data_dir": job.data_dir}
            order["environment"] = {k: v for k, v in os.environ.items() if k.startswith("EXPLORER_")}
            try:
                process.stdin.write(json.dumps(order) + "\n")
                process.stdin.flush()
                answer = self._follow(job, process.stdout)
            except (OSError, ValueError):
                answer = None
            if answer is None:  # the process died under the run (killed, out of memory?): a new one next time
                process.kill()
                self.trainer_pids.discard(process.pid)
                process = None
                answer = {"error": "The training process stopped; press the button to try again.", "trained": 0}
            training.TRAIN_CALLS += answer.get("trained", 0)  # trainings this server ran, wherever they ran
            outcome = Outcome(**answer["outcome"]) if "outcome" in answer else None
            self._finish(job, outcome, answer.get("error", ""))

    @staticmethod
    def _follow(job: _Job, answers) -> dict | None:
        """Progress lines into the job until its last line (returned); None when the process ended first."""
        for line in answers:
            message = json.loads(line)
            if message.get("key") != job.key:
                continue
            if "outcome" in message or "error" in message:
                return message
            if "fraction" in message:
                job.fraction, job.text = message["fraction"], message["text"]
        return None

    def status(self, key: str) -> Status:
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                return Status(key, "missing")
            now = time.monotonic()
            if job.state == "queued":
                running = [
                    remaining(j.estimate, j.fraction, now - j.started)
                    for j in self._jobs.values()
                    if j.state == "running"
                ]
                place = self._queue.index(key)
                ahead = [self._jobs[k].estimate for k in self._queue[:place]]
                wait = start_delay(running, ahead, self.workers)
                return Status(key, "queued", position=place + 1, wait=wait)
            if job.state == "running":
                wait = remaining(job.estimate, job.fraction, now - job.started)
                return Status(key, "running", job.fraction, job.text, wait=wait)
            return Status(key, job.state, job.fraction, job.text, outcome=job.outcome, error=job.error)

    def wait(self, key: str, timeout: float | None = None) -> Status:
        """Block until the job ends (for the CLI and tests); the status then."""
        with self._lock:
            job = self._jobs.get(key)
        if job is not None:
            job.done.wait(timeout)
        return self.status(key)


def _trainer_process() -> subprocess.Popen:
    """A training process (explorer/live/trainer.py) that reads jobs on stdin and answers on stdout."""
    root = str(Path(__file__).resolve().parents[2])  # the folder holding the explorer package
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "explorer.live.trainer"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
        cwd=root,
        env={**os.environ, "PYTHONPATH": path},
    )


# -- several processes: Redis and rq --------------------------------------------------------------
def execute(name: str, settings: dict, data_dir: str | None) -> dict:
    """What an rq worker runs: the experiment (from the shared cache when another worker stored it)."""
    job = get_current_job()
    last = [0.0]

    def progress(p: Progress) -> None:
        now = time.monotonic()
        if job is None or (now - last[0] < 0.5 and p.step != p.steps):
            return  # a Redis write twice a second is plenty for a progress bar
        last[0] = now
        job.meta.update(fraction=min(1.0, p.overall), text=p.text(), started=job.meta.get("started") or time.time())
        job.save_meta()

    if job is not None:
        job.meta["started"] = time.time()
        job.save_meta()
    try:
        outcome = run_experiment(name, settings, progress, data_dir, budget=None)
    except Exception as e:
        return {"error": _failure(e)}
    if job is not None and not outcome.from_cache:
        job.connection.incr(COMPUTED)
    return {"settings": outcome.settings, "result": outcome.result, "seconds": outcome.seconds}


class RQJobs:
    """The same interface on a Redis queue: replicas share the queue, the deduplication and (on disk) the cache."""

    def __init__(self, url: str | None = None):
        self.redis = Redis.from_url(url or operator.redis_url())
        self.queue = Queue(QUEUE, connection=self.redis)
        try:
            self.redis.ping()
        except Exception as e:
            raise ExplorerError(
                f"The job queue's Redis at {url or operator.redis_url()} does not answer ({type(e).__name__}); "
                f"start it or set {operator.REDIS_URL_ENV} (or {operator.BACKEND_ENV}=local)."
            ) from None

    @staticmethod
    def job_id(key: str) -> str:
        return f"explorer-{key}"

    def _job(self, key: str):
        return self.queue.fetch_job(self.job_id(key))

    def submit(self, name: str, values: dict | None = None, data_dir: str | None = None) -> str:
        experiment, settings, key = _prepare(name, values, data_dir)
        job = self._job(key)
        if job is not None and job.get_status() in ("queued", "started", "deferred", "scheduled"):
            return key  # attach
        if cached_outcome(name, settings, data_dir) is not None:
            return key  # status() reads the shared cache
        estimate = check_budget(experiment, settings, operator.budget())
        lock = f"explorer:submit:{key}"
        if not self.redis.set(lock, "1", nx=True, ex=30):
            return key  # another replica is enqueueing it this instant
        try:
            job = self._job(key)
            if job is not None and job.get_status() in ("queued", "started", "deferred", "scheduled"):
                return key
            if job is not None:
                job.delete()  # a finished or failed run of these settings: run again (the cache was evicted)
            self.queue.enqueue(
                execute,
                name,
                settings,
                data_dir,
                job_id=self.job_id(key),
                job_timeout=JOB_TIMEOUT,
                result_ttl=RESULT_TTL,
                failure_ttl=RESULT_TTL,
                meta={"estimate": estimate, "name": name},
            )
        finally:
            self.redis.delete(lock)
        return key

    def status(self, key: str) -> Status:
        job = self._job(key)
        if job is None:
            if self.redis.exists(f"explorer:submit:{key}"):
                return Status(key, "queued", position=1)
            return Status(key, "missing")
        state = job.get_status()
        meta = job.get_meta()
        if state in ("queued", "deferred", "scheduled", "created"):
            position = job.get_position() or 0
            ahead = [_meta_remaining(j, running=False) for j in self._fetch(self.queue.get_job_ids()[:position])]
            running = [_meta_remaining(j) for j in self._fetch(self.queue.started_job_registry.get_job_ids())]
            workers = Worker.count(queue=self.queue)
            wait = start_delay(running, ahead, max(1, workers))
            return Status(key, "queued", position=position + 1, wait=wait, workers=workers)
        if state == "started":
            text = str(meta.get("text") or "")
            return Status(key, "running", float(meta.get("fraction") or 0.0), text, wait=_meta_remaining(job))
        if state == "finished":
            value = job.return_value() or {}
            if "error" in value:
                return Status(key, "failed", error=value["error"])
            outcome = Outcome(meta.get("name", ""), value["settings"], value["result"], False, value["seconds"])
            return Status(key, "done", 1.0, outcome=outcome)
        return Status(key, "failed", error="The run stopped on its worker; press the button to try again.")

    def _fetch(self, ids: list[str]) -> list:
        return [j for j in self.queue.job_class.fetch_many(ids, connection=self.redis) if j is not None]

    def wait(self, key: str, timeout: float | None = None) -> Status:
        end = time.monotonic() + (timeout if timeout is not None else JOB_TIMEOUT)
        while True:
            status = self.status(key)
            if status.state in ("done", "failed", "missing") or time.monotonic() > end:
                return status
            time.sleep(0.2)


def _meta_remaining(job, running: bool = True) -> float:
    """Seconds an rq job still needs, from the estimate and progress its worker wrote into job.meta."""
    meta = job.get_meta() if running else (job.meta or {})
    estimate = float(meta.get("estimate") or 0.0)
    if not running:
        return estimate
    started = float(meta.get("started") or time.time())
    return remaining(estimate, float(meta.get("fraction") or 0.0), time.time() - started)


@functools.cache
def _backend(name: str, workers: int, url: str):
    return RQJobs(url) if name == "rq" else LocalJobs(workers, processes=True)


def backend() -> LocalJobs | RQJobs:
    """The server's job backend ($EXPLORER_BACKEND), one per process and setting."""
    name = operator.backend_name()
    return _backend(name, operator.workers(), operator.redis_url() if name == "rq" else "")
