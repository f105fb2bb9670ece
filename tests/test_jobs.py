"""The job layer: identical settings run once, a limit on runs at once with a queue, the budget, the pages."""

import os
import threading

import psutil
import pytest
import torch

from explorer.errors import LimitError
from explorer.experiments import base, get_experiment, run_experiment
from explorer.live import cache as disk
from explorer.live import jobs, training
from explorer.live import settings as operator
from explorer.registry import Knob
from helpers import no_exceptions

TINY = {"depth": 8, "width": 4, "epochs": 1, "draws": 1}
REMOVAL = "app_pages/layer_removal.py"


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(disk.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(operator.BUDGET_ENV, raising=False)


@pytest.fixture
def gated():
    """An experiment whose runs wait for the test to open a gate: runs are counted, nothing is timed."""
    gate, runs, started = threading.Event(), [], threading.Semaphore(0)

    def run(settings, progress, data_dir):
        runs.append(settings["n"])
        started.release()
        assert gate.wait(30)
        if settings["n"] == 0:
            raise ValueError("broken on purpose")
        return {"n": settings["n"], "square": settings["n"] ** 2}

    experiment = base.Experiment(
        "gated-test",
        "Gated",
        "",
        knobs=(Knob("n", "int", 1, "A number.", 0, 100),),
        run=run,
        report=str,
        dataset_knob=None,
        cost=lambda s: 10.0 * max(1, s["n"]),
    )
    base.register(experiment)
    yield gate, runs, started
    gate.set()
    base._EXPERIMENTS.pop("gated-test")


def test_several_sessions_asking_at_once_share_one_run_and_one_result(gated):
    gate, runs, _ = gated
    backend = jobs.LocalJobs(workers=2)
    keys, barrier = [], threading.Barrier(6)

    def student():
        barrier.wait()
        keys.append(backend.submit("gated-test", {"n": 3}))

    threads = [threading.Thread(target=student) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1  # one job, whoever asked
    gate.set()
    statuses = [backend.wait(k, timeout=30) for k in keys]
    assert runs == [3]  # one run for six students
    assert {s.state for s in statuses} == {"done"} and {s.outcome.result["square"] for s in statuses} == {9}
    again = backend.submit("gated-test", {"n": 3})  # later: from the disk cache, no run
    assert backend.status(again).outcome.from_cache and runs == [3]


def test_runs_beyond_the_limit_queue_in_order_with_a_position_and_an_estimated_wait(gated):
    gate, runs, started = gated
    backend = jobs.LocalJobs(workers=1)
    first = backend.submit("gated-test", {"n": 1})
    assert started.acquire(timeout=30)  # the first is training
    second, third = backend.submit("gated-test", {"n": 2}), backend.submit("gated-test", {"n": 3})
    running, waiting, last = backend.status(first), backend.status(second), backend.status(third)
    assert running.state == "running" and waiting.state == last.state == "queued"
    assert (waiting.position, last.position) == (1, 2)
    assert 0 < waiting.wait < last.wait  # the third waits for the second as well (its 20 estimated seconds)
    assert "next in line" in waiting.describe() and "position 2 in the queue" in last.describe()
    assert runs == [1]
    gate.set()
    assert backend.wait(third, timeout=30).state == "done" and runs == [1, 2, 3]


def test_a_failed_run_is_one_sentence_for_everyone_and_can_be_tried_again(gated):
    gate, runs, _ = gated
    gate.set()
    backend = jobs.LocalJobs(workers=1)
    key = backend.submit("gated-test", {"n": 0})
    status = backend.wait(key, timeout=30)
    assert status.state == "failed" and "ValueError: broken on purpose" in status.error
    assert "Traceback" not in status.error
    backend.submit("gated-test", {"n": 0})
    assert backend.wait(key, timeout=30).state == "failed" and runs == [0, 0]  # failures are not cached


def test_the_wait_estimate_schedules_the_queue_on_the_free_workers():
    assert jobs.start_delay([], [], workers=2) == 0
    assert jobs.start_delay([30.0], [], workers=2) == 0  # a worker is free
    assert jobs.start_delay([30.0, 10.0], [], workers=2) == 10
    assert jobs.start_delay([30.0, 10.0], [40.0], workers=2) == 30  # the one ahead took the first free worker
    assert jobs.remaining(100.0, 0.5, 20.0) == pytest.approx(20.0)  # its own pace beats the estimate


def test_beyond_the_budget_a_run_is_refused_naming_the_knob_to_lower(gated, monkeypatch):
    gate, runs, _ = gated
    monkeypatch.setenv(operator.BUDGET_ENV, "50")
    backend = jobs.LocalJobs(workers=1)
    with pytest.raises(LimitError, match=r"lower n \(to 5 or less\)") as refused:
        backend.submit("gated-test", {"n": 7})
    assert "EXPLORER_BUDGET" in str(refused.value) and runs == []
    with pytest.raises(LimitError):
        run_experiment("gated-test", {"n": 7})  # the CLI's path holds to it too
    monkeypatch.setenv(operator.BUDGET_ENV, "0")  # the operator lifts the limit
    gate.set()
    assert run_experiment("gated-test", {"n": 7}).result["square"] == 49


def test_the_knob_named_is_the_one_the_user_turned_up():
    experiment = get_experiment("transfer-cut")
    with pytest.raises(LimitError, match="lower fine-tuning steps"):
        base.check_budget(experiment, experiment.check({"steps": 200}), 120)
    experiment = get_experiment("layer-removal")
    with pytest.raises(LimitError, match=r"lower epochs \(to \d+ or less\)"):
        base.check_budget(experiment, experiment.check({"epochs": 30}), 120)


@pytest.mark.parametrize(
    "name", ["layer-removal", "path-gradients", "transfer-cut", "quantize", "prune", "truncate", "distill"]
)
def test_every_experiment_estimates_its_cost_and_its_defaults_fit_the_default_budget(name):
    experiment = get_experiment(name)
    defaults = experiment.check()
    assert 0 < experiment.estimate(defaults) <= operator.DEFAULT_BUDGET
    bigger = {
        k.name: k.high for k in experiment.knobs if k.kind == "int" and k.high and k.name not in ("seed", "cut", "keep")
    }
    assert experiment.estimate(experiment.check(bigger)) > experiment.estimate(defaults)


def test_every_registered_experiment_declares_a_cost():
    assert all(e.cost is not None for e in base.all_experiments().values())


def test_operator_settings_that_cannot_be_read_are_one_sentence(monkeypatch):
    monkeypatch.setenv(operator.WORKERS_ENV, "two")
    with pytest.raises(operator.SettingError, match="EXPLORER_WORKERS='two' is not a whole number"):
        operator.workers()
    monkeypatch.setenv(operator.BACKEND_ENV, "celery")
    with pytest.raises(operator.SettingError, match="use one of local, rq"):
        operator.backend_name()
    monkeypatch.setenv(operator.CACHE_MB_ENV, "nan")
    with pytest.raises(operator.SettingError):
        operator.cache_mb()


def test_two_sessions_training_the_same_settings_cost_one_training():
    """Real training: two threads ask at once; TRAIN_CALLS counts one run (two networks), not two."""
    backend = jobs.LocalJobs(workers=2)
    before = training.TRAIN_CALLS
    keys, barrier = [], threading.Barrier(2)

    def student():
        barrier.wait()
        keys.append(backend.submit("layer-removal", TINY))

    threads = [threading.Thread(target=student) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = [backend.wait(k, timeout=600) for k in keys]
    assert training.TRAIN_CALLS - before == 2  # the residual network and its plain twin, once
    assert results[0].outcome.result == results[1].outcome.result


def test_a_session_opening_the_page_attaches_to_a_run_another_started(app):
    backend = jobs.backend()
    before = training.TRAIN_CALLS
    key = backend.submit("layer-removal", TINY)  # another student pressed Train
    at = app(page=REMOVAL, state={f"layer-removal.{k}": v for k, v in TINY.items()})  # without pressing
    no_exceptions(at)
    assert backend.status(key).state == "done" and training.TRAIN_CALLS - before == 2
    assert {m.label for m in at.metric} >= {"Residual, full", "Plain, full"}


def test_settings_from_a_link_are_held_to_the_budget(app):
    before = training.TRAIN_CALLS
    at = app(page=REMOVAL, query={"layer-removal.depth": "56", "layer-removal.epochs": "30"})
    at.button(key="layer-removal.run").click().run()
    no_exceptions(at)
    assert len(at.error) == 1 and "beyond this server's budget" in at.error[0].value
    assert "lower epochs" in at.error[0].value and training.TRAIN_CALLS == before
    assert at.slider(key="layer-removal.depth").value == 56  # the link's values stay


def test_an_unusable_cache_location_is_one_sentence_on_the_page(app, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(disk.CACHE_ENV, str(blocker))
    at = app(page=REMOVAL, state={f"layer-removal.{k}": v for k, v in TINY.items()})
    no_exceptions(at)
    assert len(at.error) == 1 and "is a file, not a folder" in at.error[0].value
    assert "EXPLORER_CACHE_DIR" in at.error[0].value


def test_overlapping_trainings_keep_their_thread_count_until_the_last_one_ends(monkeypatch):

    monkeypatch.delenv(training.THREADS_ENV, raising=False)
    before = torch.get_num_threads()
    a_in, a_out, b_checked = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def a():
        with training.compute_threads():
            a_in.set()
            b_checked.wait(10)
        a_out.set()

    thread = threading.Thread(target=a)
    thread.start()
    a_in.wait(10)
    with training.compute_threads():
        b_checked.set()
        a_out.wait(10)  # the first run has ended while this one still trains
        seen.append(torch.get_num_threads())
    thread.join()
    assert seen == [1] and torch.get_num_threads() == before


def test_the_server_trains_in_processes_of_its_own_once_for_everyone_with_the_same_figures(tmp_path, monkeypatch):
    """The default backend: a training process beside the server, not a thread holding the pages' lock."""
    backend = jobs.LocalJobs(workers=1, processes=True)
    before = training.TRAIN_CALLS
    keys = [backend.submit("layer-removal", TINY) for _ in range(3)]  # three students, one run
    done = backend.wait(keys[0], timeout=600)
    assert done.state == "done" and len(set(keys)) == 1 and backend.computed == 1
    assert training.TRAIN_CALLS - before == 2  # counted here although trained there
    (pid,) = backend.trainer_pids
    assert "explorer.live.trainer" in psutil.Process(pid).cmdline() and psutil.Process(pid).ppid() == os.getpid()
    monkeypatch.setenv(disk.CACHE_ENV, str(tmp_path / "in-process"))  # the same run in this process, from scratch
    here = run_experiment("layer-removal", TINY)
    assert not here.from_cache and figures(here.result) == figures(done.outcome.result)


def figures(result: dict) -> dict:
    """A result without its wall-clock times (they differ from run to run)."""
    return {k: figures(v) if isinstance(v, dict) else v for k, v in result.items() if not k.endswith("_seconds")}


def test_a_training_process_that_dies_fails_its_run_in_one_sentence_and_the_next_run_gets_a_new_one():
    backend = jobs.LocalJobs(workers=1, processes=True)
    key = backend.submit("layer-removal", {**TINY, "epochs": 30})
    while backend.status(key).fraction <= 0:  # wait until it really trains, then kill it (out of memory, say)
        assert backend.status(key).state in ("queued", "running")
        threading.Event().wait(0.1)
    (pid,) = backend.trainer_pids
    psutil.Process(pid).kill()
    failed = backend.wait(key, timeout=60)
    assert failed.state == "failed" and failed.error == "The training process stopped; press the button to try again."
    again = backend.wait(backend.submit("layer-removal", TINY), timeout=600)
    assert again.state == "done" and again.outcome.result["residual"]
