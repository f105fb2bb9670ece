"""The web server's analysis processes (explorer/live/analyst.py): the same analyses and errors as computed here."""

import base64
import dataclasses
import io
import math
import os
import pickle
import signal
import time

import pytest

import explorer
from explorer.analysis import analyzer
from explorer.errors import ShapeError, SpecError
from explorer.labs.export import to_pytorch
from explorer.live import analyst

pytestmark = pytest.mark.subprocess


def _started(n: int = 1) -> analyst.Analysts:
    """A pool of n analysis processes, once they are ready."""
    found = analyst.Analysts(n)
    found.start()
    deadline = time.monotonic() + 120
    while not found.pids and time.monotonic() < deadline:
        time.sleep(0.1)
    assert found.pids, "the analysis process did not start"
    return found


@pytest.fixture(scope="module")
def pool():
    found = _started()
    yield found
    found.close()


@pytest.fixture
def served(pool):
    """The engine computing new analyses in the pool, as the web server does; an empty cache before and after."""
    explorer.analyze.cache_clear()
    analyzer.compute_with(pool.call)
    yield pool
    analyzer.compute_with(None)
    explorer.analyze.cache_clear()


def _fields(row) -> dict:
    return {k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in dataclasses.asdict(row).items()}


@pytest.mark.parametrize(
    "name, shape, knobs",
    [
        ("vgg16", (3, 224, 224), {}),
        ("densenet121", None, {"growth_rate": 24}),
        ("resnet110", (3, 48, 48), {}),
        ("custom", (3, 32, 32), {"spec": "conv3-16\nmaxpool\nconv3-32\nFC-10"}),
    ],
)
def test_an_analysis_from_the_process_is_the_analysis_computed_here(served, name, shape, knobs):
    before = served.remote_calls
    there = explorer.analyze(name, shape, **knobs)
    assert served.remote_calls == before + 1  # it was computed in the analysis process
    assert os.getpid() not in served.pids
    analyzer.compute_with(None)
    explorer.analyze.cache_clear()
    here = explorer.analyze(name, shape, **knobs)
    assert there.to_dict() == here.to_dict()
    assert [_fields(r) for r in there.rows] == [_fields(r) for r in here.rows]
    assert there.totals == here.totals and there.scopes == here.scopes


def test_the_answer_is_kept_here_for_every_later_asker(served):
    first = explorer.analyze("resnet50", None)
    calls = served.remote_calls
    assert explorer.analyze("resnet50", None) is first
    assert served.remote_calls == calls


def test_an_engine_error_comes_back_as_the_same_error_and_sentence(served):
    with pytest.raises(ShapeError) as there:
        explorer.analyze("vgg16", (3, 8, 8))
    analyzer.compute_with(None)
    with pytest.raises(ShapeError) as here:
        explorer.analyze("vgg16", (3, 8, 8))
    assert str(there.value) == str(here.value) and there.value.layer == here.value.layer
    with pytest.raises(SpecError) as spec:  # a notation error keeps its line and column
        served.call(explorer.analyze, "custom", (3, 32, 32), spec="conv3-16\nconv3-")
    assert (spec.value.line, spec.value.column) == (2, 7)
    assert str(spec.value).startswith("line 2, column 7: ")


def test_the_code_export_from_the_process_is_the_code_written_here(served):
    there = served.call(to_pytorch, "resnet20", (3, 32, 32))
    assert there == to_pytorch("resnet20", (3, 32, 32))
    assert "class " in there.code or "nn.Sequential" in there.code


def test_a_killed_analysis_process_costs_one_answer_computed_here_and_is_replaced():
    pool = _started()
    (pid,) = pool.pids
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    analysis = pool.call(analyzer.analyze_config, explorer.configure("resnet20", None), "resnet20")
    assert analysis.totals.params == explorer.analyze("resnet20").totals.params
    assert pool.local_calls == 1 and pool.remote_calls == 0
    deadline = time.monotonic() + 120
    while (not pool.pids or pid in pool.pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pool.pids and pid not in pool.pids  # a new process
    pool.call(explorer.analyze, "resnet32")
    assert pool.remote_calls == 1
    pool.close()


def test_no_process_configured_computes_here():
    pool = analyst.Analysts(0)
    pool.start()
    assert pool.call(explorer.analyze, "resnet20").totals.params == explorer.analyze("resnet20").totals.params
    assert (pool.local_calls, pool.remote_calls, pool.pids) == (1, 0, set())


def test_the_process_runs_only_the_engines_functions():
    request = base64.b64encode(pickle.dumps((os.getcwd, (), {}))) + b"\n"
    answers = io.BytesIO()
    analyst.serve(io.BytesIO(request), answers)
    ready, answer = [pickle.loads(base64.b64decode(line)) for line in answers.getvalue().splitlines()]
    assert ready[0] == "ready"
    assert answer[0] == "error" and "is not the engine's" in str(answer[1])
