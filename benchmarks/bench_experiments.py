"""Time the default layer-removal experiment: first run (training both networks) and a cached second visit.

    .venv/bin/python benchmarks/bench_experiments.py [--with-gradients]
    .venv/bin/python benchmarks/bench_experiments.py --all     (every registered experiment at its defaults)

It runs in a fresh temporary cache, so the first run really trains. The figures the README quotes
come from this script; the machine's load is printed with them, since other processes slow training.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from explorer.experiments import all_experiments, get_experiment, run_experiment
from explorer.experiments.layer_removal import load_data, trained_network
from explorer.live import training

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--with-gradients",
        action="store_true",
        help="also time the default path-gradient measurement on the trained network",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="every registered experiment at its defaults, each in an empty cache of its own",
    )
    args = parser.parse_args()
    if args.all:
        return every_experiment()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["EXPLORER_CACHE_DIR"] = folder

        settings = get_experiment("layer-removal").defaults()
        print(
            f"torch {torch.__version__}, {os.cpu_count()} CPUs, {os.environ.get(training.THREADS_ENV) or 1} "
            f"training thread(s), device {training.device()}, load average {os.getloadavg()[0]:.2f}"
        )
        print("default settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
        start = time.perf_counter()
        first = run_experiment("layer-removal")
        first_seconds = time.perf_counter() - start
        r = first.result
        print(
            f"first run (train both networks, delete every block, "
            f"{sum(len(d) for d in r['residual']['random']['draws'])} "
            f"random deletion sets): {first_seconds:.1f} s"
        )
        for net in ("residual", "plain"):
            print(
                f"  {net:8}: training {r[net]['train_seconds']:.1f} s, deletions {r[net]['eval_seconds']:.1f} s, "
                f"full accuracy {r[net]['full_accuracy']:.1%}, median drop {r[net]['median_drop']:.1%}"
            )
        times = []
        for _ in range(5):
            start = time.perf_counter()
            again = run_experiment("layer-removal")
            times.append(time.perf_counter() - start)
            assert again.from_cache
        print(f"cached second visit: {min(times) * 1000:.1f} ms (best of 5; {max(times) * 1000:.1f} ms worst)")

        data = load_data(settings)
        start = time.perf_counter()
        loaded = [trained_network(settings, net, data)[2] for net in ("residual", "plain")]
        assert all(loaded)
        print(
            f"loading both trained networks from disk (torch.load, weights_only=True): "
            f"{(time.perf_counter() - start) * 1000:.0f} ms"
        )
        if args.with_gradients:
            start = time.perf_counter()
            grads = run_experiment("path-gradients")
            print(
                f"path-gradient measurement on the cached network: {time.perf_counter() - start:.1f} s "
                f"({grads.result['samples']} paths per length, {grads.result['blocks'] + 1} lengths)"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


def every_experiment() -> int:
    """First run (an empty cache: every network it needs is trained) and the cached second visit, per experiment."""

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"{'experiment':16} {'first run':>10} {'second visit':>13}")
    for name in all_experiments():
        with tempfile.TemporaryDirectory() as folder:
            os.environ["EXPLORER_CACHE_DIR"] = folder
            start = time.perf_counter()
            run_experiment(name)
            first = time.perf_counter() - start
            start = time.perf_counter()
            again = run_experiment(name)
            second = time.perf_counter() - start
            assert again.from_cache
            print(f"{name:16} {first:>9.1f}s {second * 1000:>11.1f}ms")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
