"""torch.fx traces in one thread (Export as PyTorch, int8, truncation) while other threads run their networks."""

import threading

import torch
from torch import fx

import explorer
from explorer.build import fx_traced_here, fx_tracing_here
from explorer.labs.export import to_pytorch


def test_a_trace_in_one_thread_leaves_the_other_threads_networks_alone():
    """Without the scoping, every forward pass in another thread failed while one thread traced."""
    model = explorer.build("resnet20").eval()
    x = torch.rand(2, 3, 32, 32)
    expected = model(x)
    errors, results, stop = [], [], threading.Event()

    def student():
        try:
            while not stop.is_set():
                results.append(torch.equal(model(x), expected))
                explorer.analysis.cache_clear()
                explorer.analyze("fractalnet20")  # checks its input side unless *it* is being traced
        except Exception as e:  # noqa: BLE001  (any failure is the finding)
            errors.append(e)

    others = [threading.Thread(target=student) for _ in range(2)]
    for t in others:
        t.start()
    try:
        for name in ("resnet56", "fractalnet20", "densenet40_k12"):
            assert "class" in to_pytorch(name).code  # torch.fx-traced modules
    finally:
        stop.set()
        for t in others:
            t.join()
    assert not errors, errors
    assert results and all(results)
    assert fx.Tracer.__dict__["call_module"].__name__ == "call_module"  # PyTorch as it was


def test_fx_tracing_here_is_per_thread():
    seen = {}

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen[threading.current_thread().name] = fx_tracing_here()
            return x + 1

    with fx_traced_here():
        fx.symbolic_trace(Probe())
    assert seen == {"MainThread": True}
    Probe()(torch.zeros(1))
    assert seen["MainThread"] is False


def test_two_traces_at_once_leave_pytorch_as_it_was():
    """Two sessions exporting code at the same moment: each trace saved and restored nn.Module.__call__ around
    itself, and the last to end put the other's wrapper back for good: every later forward failed."""
    call = torch.nn.Module.__call__
    errors, start = [], threading.Barrier(3)

    def export(name):
        try:
            model = explorer.build(name).eval()
            start.wait()
            for _ in range(15):
                with fx_traced_here():
                    fx.symbolic_trace(model)
        except Exception as e:  # noqa: BLE001  (any failure is the finding)
            errors.append(e)

    threads = [threading.Thread(target=export, args=(n,)) for n in ("resnet20", "resnet32", "resnet44")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert torch.nn.Module.__call__ is call
    model = explorer.build("resnet20").eval()
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 10)
    explorer.analysis.cache_clear()
    assert explorer.analyze("resnet20").totals.params > 0
