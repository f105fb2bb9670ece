"""The engine against the counting tools people reach for, side by side in one run, one torch thread.

    .venv/bin/pip install -r requirements-bench.txt     (optional peers; never imported by the app or the tests)
    .venv/bin/python benchmarks/bench_peers.py [--repeat 3] [--networks vgg16,resnet50] [--skip-fresh]

For VGG-16, ResNet-50, DenseNet-121, MobileNetV2 (224) and ResNet-1202 (CIFAR, 32) it prints:

(a) the engine from a family's knobs with nothing cached, against the fastest peer's build (explorer.build: real
    weights, the network every peer is handed) + count;
(b) the engine given that same built nn.Module (explorer.analyze(model, shape)), against the fastest peer's count;
    torchinfo on a meta-device copy beside it;
(c) the first analysis in a fresh process, beyond `import torch`, and whether torch._dynamo got imported;
and every tool's parameters and multiply-adds beside the exact ones: sum(p.numel()) and torch.utils.flop_counter
run for real (its FLOPs / 2: the multiply-adds of convolutions and matrix products, the papers' convention).
Medians of --repeat runs; the load average is printed beside them because the machine may be shared.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.util
import io
import os
import statistics
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import explorer  # noqa: E402
from explorer.analysis.analyzer import cache_clear  # noqa: E402
from explorer.build import meta_model  # noqa: E402
from explorer.registry import configure  # noqa: E402

NETWORKS = {
    "vgg16": (3, 224, 224),
    "resnet50": (3, 224, 224),
    "densenet121": (3, 224, 224),
    "mobilenet_v2": (3, 224, 224),
    "resnet1202": (3, 32, 32),
}


def load_peers() -> dict:
    """name -> count(model, shape) -> (params, mult_adds); a peer that is not installed is left out."""
    peers = {}
    with contextlib.suppress(ImportError):
        import torchinfo  # noqa: PLC0415  (optional: the benchmark runs with whichever peers are installed)

        def count_torchinfo(model, shape):
            s = torchinfo.summary(model, input_size=(1, *shape), verbose=0, device="cpu")
            return s.total_params, s.total_mult_adds

        peers["torchinfo"] = count_torchinfo
    with contextlib.suppress(ImportError):
        from ptflops import get_model_complexity_info  # noqa: PLC0415  (optional peer)

        for backend in ("pytorch", "aten"):

            def count_ptflops(model, shape, backend=backend):
                with contextlib.redirect_stdout(io.StringIO()):
                    macs, params = get_model_complexity_info(
                        model, shape, as_strings=False, print_per_layer_stat=False, backend=backend
                    )
                return params, macs

            peers[f"ptflops ({backend})"] = count_ptflops
    with contextlib.suppress(ImportError):
        from fvcore.nn import FlopCountAnalysis, parameter_count  # noqa: PLC0415  (optional peer)

        def count_fvcore(model, shape):
            flops = FlopCountAnalysis(model, torch.randn(1, *shape))
            flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            return parameter_count(model)[""], flops.total()  # fvcore's "flops" are multiply-adds

        peers["fvcore"] = count_fvcore
    with contextlib.suppress(ImportError):
        import thop  # noqa: PLC0415  (optional peer)

        def count_thop(model, shape):
            model = copy.deepcopy(model)  # thop adds total_ops/total_params buffers to every module it counts
            macs, params = thop.profile(model, inputs=(torch.randn(1, *shape),), verbose=False)
            return int(params), int(macs)

        peers["thop"] = count_thop
    spec = importlib.util.find_spec("calflops")
    if spec is not None:
        # calflops' package __init__ imports transformers for its Hugging Face entry point; its PyTorch counter
        # does not need it, so the package is registered bare and only calflops.flops_counter is imported.
        package = types.ModuleType("calflops")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules.setdefault("calflops", package)
        from calflops.flops_counter import calculate_flops  # noqa: PLC0415  (optional peer)

        def count_calflops(model, shape):
            with contextlib.redirect_stdout(io.StringIO()):
                _, macs, params = calculate_flops(
                    model, input_shape=(1, *shape), print_results=False, output_as_string=False
                )
            return int(params), int(macs)

        peers["calflops"] = count_calflops
    return peers


def median_time(fn, repeat: int, setup=None):
    times, result = [], None
    for _ in range(repeat):
        if setup is not None:
            setup()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def exact(model, shape) -> tuple[int, int]:
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, *shape))
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def rel(ours: int, truth: int) -> str:
    if ours == truth:
        return "exact"
    return f"{(ours - truth) / truth:+.1%}"


FRESH = """
import sys, time
sys.path.insert(0, {root!r})
import torch
torch.set_num_threads(1)
t = time.perf_counter()
import explorer
imported = time.perf_counter() - t
explorer.analyze({name!r}, {shape!r})
print(imported, time.perf_counter() - t, "torch._dynamo" in sys.modules)
"""


def fresh_process(name: str, shape: tuple) -> tuple[float, float, bool]:
    out = subprocess.run(
        [sys.executable, "-c", FRESH.format(root=str(ROOT), name=name, shape=shape)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "EXPLORER_CACHE_DIR": os.environ.get("EXPLORER_CACHE_DIR", "/tmp/explorer-bench-cache")},
    ).stdout.split()
    return float(out[0]), float(out[1]), out[2] == "True"


def measure(name: str, shape: tuple, peers: dict, repeat: int, torchinfo_summary=None):
    """One network: prints each tool's time and counts; returns the row of the summary table (or None)."""
    print(f"\n== {name} at {'x'.join(map(str, shape))}")
    explorer.analyze(name, shape)  # warm-up: imports and first-call costs are (c)'s, not (a)'s
    t_knobs, a = median_time(lambda: explorer.analyze(name, shape), repeat, setup=cache_clear)
    t_build, model = median_time(lambda: explorer.build(name, shape).eval(), repeat, setup=cache_clear)
    params, mult_adds = exact(model, shape)
    t_module, m = median_time(lambda: explorer.analyze(model, shape), repeat)
    print(f"exact: {params:,} parameters (sum of numel), {mult_adds:,} multiply-adds (flop_counter / 2)")
    for what, t, r in (("engine from knobs", t_knobs, a), ("engine on the built module", t_module, m)):
        p, macs = r.totals.params, r.totals.mult_adds
        print(f"{what} {ms(t)}: {p:,} {rel(p, params)}, {macs:,} {rel(macs, mult_adds)}")
    print(f"build with real weights (what the peers are handed): {ms(t_build)}")
    counts, exact_peers = {}, []
    for peer, count in peers.items():
        try:
            t, (p, macs) = median_time(lambda count=count: count(model, shape), repeat)
        except Exception as e:  # a peer that fails on a network is reported, not fatal
            print(f"  {peer}: failed ({type(e).__name__}: {str(e)[:80]})")
            continue
        counts[peer] = t
        p, macs = int(p), int(macs)
        if (p, macs) == (params, mult_adds):
            exact_peers.append(peer)
        print(f"  {peer}: {ms(t)}; params {p:,} {rel(p, params)}; mult-adds {macs:,} {rel(macs, mult_adds)}")
    t_meta = None
    if torchinfo_summary is not None:
        meta = meta_model(configure(name, shape)).eval()
        x = torch.empty(1, *shape, device="meta")
        t_meta, _ = median_time(lambda: torchinfo_summary(meta, input_data=x, verbose=0, device="meta"), repeat)
        print(f"  torchinfo on a meta-device copy (beside, for honesty): {ms(t_meta)}")
    if not counts:
        return None
    fastest = min(counts, key=counts.get)
    engine_exact = all((r.totals.params, r.totals.mult_adds) == (params, mult_adds) for r in (a, m))
    counts_cell = f"{params:,} / {mult_adds:,}; engine {'exact' if engine_exact else 'NOT exact'}"
    counts_cell += f"; exact peers: {', '.join(exact_peers) or 'none'}"
    return name, t_knobs, t_module, t_build, fastest, counts[fastest], t_meta, counts_cell


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--networks", default=",".join(NETWORKS))
    parser.add_argument("--skip-fresh", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="print only the README's table (markdown)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    peers = load_peers()
    torchinfo = sys.modules.get("torchinfo")
    print(f"torch {torch.__version__}, 1 thread; peers: {', '.join(peers) or 'none installed'}")
    print(f"load average before: {os.getloadavg()}")
    summary = []
    detail = contextlib.redirect_stdout(io.StringIO()) if args.markdown else contextlib.nullcontext()
    for name in args.networks.split(","):
        with detail:
            row = measure(name, NETWORKS[name], peers, args.repeat, torchinfo.summary if torchinfo else None)
        if row is not None:
            summary.append(row)
    if summary:
        print(f"\nload average after: {os.getloadavg()}")
        print(
            "\n| network | engine, knobs, nothing cached | fastest peer: build + count | (a) | "
            "engine, built module | fastest peer's count | (b) | torchinfo on meta | "
            "exact params / mult-adds (sum of numel, flop_counter / 2) |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for name, t_knobs, t_module, t_build, fastest, t_peer, t_meta, counts_cell in summary:
            meta = ms(t_meta) if t_meta is not None else "-"
            a, b = (t_build + t_peer) / t_knobs, t_peer / t_module
            print(
                f"| {name} | {ms(t_knobs)} | {ms(t_build)} + {ms(t_peer)} ({fastest}) | {a:.1f}x | "
                f"{ms(t_module)} | {ms(t_peer)} | {b:.1f}x{'' if b >= 3 else ' (goal 3x: not met)'} | {meta} | "
                f"{counts_cell} |"
            )
        print("\nGoals: (a) and (b) at least 3x, (c) under 300 ms beyond `import torch`.")
    if not args.skip_fresh:
        print("\n(c) first analysis in a fresh process, beyond `import torch` (import explorer included):")
        for name in ("resnet50", "densenet121", "mobilenet_v2"):
            imported, total, dynamo = fresh_process(name, NETWORKS[name])
            print(f"  {name}: {ms(total)} (import explorer {ms(imported)}); torch._dynamo imported: {dynamo}")


if __name__ == "__main__":
    main()
