"""The rq backend against a real Redis server and a real `rq worker` process (Debian's redis-server)."""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from explorer.errors import ExplorerError, LimitError
from explorer.experiments import cached_outcome
from explorer.live import cache as disk
from explorer.live import jobs
from explorer.live import settings as operator

ROOT = Path(__file__).resolve().parent.parent
TINY = {"depth": 8, "width": 4, "epochs": 1, "draws": 1}
pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs Debian's redis-server (.ci/run)")


@pytest.fixture
def redis_url():
    """A Redis server of this test's own, on a Unix socket: a TCP port picked as free can be taken by the
    Redis of a test running at the same time in another worker, and that one's rq worker then took our jobs."""
    folder = tempfile.mkdtemp(prefix="redis-")  # short: a socket path is limited to about 100 characters
    sock = os.path.join(folder, "redis.sock")
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    for _ in range(200):
        if os.path.exists(sock):
            break
        assert server.poll() is None, "redis-server did not start"
        time.sleep(0.05)
    yield f"unix://{sock}?db=0"
    server.terminate()
    server.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def shared_cache(tmp_path, monkeypatch):
    folder = tmp_path / "shared-cache"
    monkeypatch.setenv(disk.CACHE_ENV, str(folder))
    monkeypatch.delenv(operator.BUDGET_ENV, raising=False)
    return folder


def _worker(url: str, cache: Path) -> subprocess.Popen:
    """A separate worker process, as the operator starts one: `rq worker --url URL explorer`."""
    env = {**os.environ, disk.CACHE_ENV: str(cache), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", "from rq.cli import main; main()", "worker", "--url", url, jobs.QUEUE]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop(worker: subprocess.Popen) -> str:
    """SIGTERM is rq's warm shutdown (it finishes its job first); on a loaded machine it once took over 30 s
    with the queue already empty, so a worker still there after 30 s is killed. Returns its stderr."""
    worker.terminate()
    try:
        return worker.communicate(timeout=30)[1].decode(errors="replace")
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.communicate(timeout=30)[1].decode(errors="replace")


def test_two_replicas_share_one_queue_one_run_and_one_cache(redis_url, shared_cache):
    replica_a, replica_b = jobs.RQJobs(redis_url), jobs.RQJobs(redis_url)  # two app processes
    other = {**TINY, "seed": 1}
    keys, barrier = [], threading.Barrier(4)

    def student(replica, values):
        barrier.wait()
        keys.append((values["seed"] if "seed" in values else 0, replica.submit("layer-removal", values)))

    threads = [threading.Thread(target=student, args=(r, TINY)) for r in (replica_a, replica_b, replica_a)]
    threads.append(threading.Thread(target=student, args=(replica_b, other)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first = {k for seed, k in keys if seed == 0}
    assert len(first) == 1 and replica_a.queue.count == 2  # three students, one job; the other settings queue too
    (key,) = first
    (second,) = {k for seed, k in keys if seed == 1}
    # no worker yet: both wait, in order, with an estimated wait behind the first
    a, b = replica_a.status(key), replica_b.status(second)
    assert (a.state, b.state) == ("queued", "queued")
    assert {a.position, b.position} == {1, 2}
    later = b if b.position == 2 else a
    assert later.wait > 0 and a.workers == 0 and "no trainer is running" in later.describe()
    assert "position 2 in the queue" in jobs.Status(key, "queued", position=2, wait=later.wait).describe()

    worker = _worker(redis_url, shared_cache)
    try:
        asked = ((replica_a, key), (replica_b, key), (replica_b, second))
        done = [replica.wait(k, timeout=600) for replica, k in asked]
    finally:
        stderr = _stop(worker)
    assert [s.state for s in done] == ["done"] * 3, (done, stderr[-2000:])
    assert done[0].outcome.result == done[1].outcome.result  # both replicas see the one result
    assert int(replica_a.redis.get(jobs.COMPUTED)) == 2  # two distinct settings, each computed once
    assert cached_outcome("layer-removal", TINY) is not None  # the worker wrote the cache the app reads
    # the shared cache answers the next request of any replica without queueing
    replica_b.submit("layer-removal", TINY)
    assert replica_b.queue.count == 0 and int(replica_a.redis.get(jobs.COMPUTED)) == 2


def test_the_budget_holds_on_the_queue_too(redis_url, shared_cache):
    replica = jobs.RQJobs(redis_url)
    with pytest.raises(LimitError, match="lower epochs"):
        replica.submit("layer-removal", {"depth": 56, "epochs": 30})
    assert replica.queue.count == 0


def test_an_unreachable_redis_is_one_sentence():
    with pytest.raises(ExplorerError, match="does not answer.*EXPLORER_REDIS_URL"):
        jobs.RQJobs("redis://127.0.0.1:1/0")  # port 1: nothing listens there


def test_the_default_backend_is_in_process_without_redis(monkeypatch):
    monkeypatch.delenv(operator.BACKEND_ENV, raising=False)
    assert isinstance(jobs.backend(), jobs.LocalJobs)
