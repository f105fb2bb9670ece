"""How fast is explorer.analyze, against the naive baseline and torchinfo, measured in the same run.

    .venv/bin/python benchmarks/bench_analyze.py          (or: make bench)

Prints each ratio the README quotes. Timings are medians of several runs after a warm-up; ratios,
not seconds, are what carry over from one machine to another.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torchinfo  # noqa: E402

import explorer  # noqa: E402
from explorer.analysis.analyzer import _CACHE, cache_clear  # noqa: E402
from explorer.build import meta_model as build_meta  # noqa: E402

torch.set_num_threads(2)


def median_time(fn, repeat=5, setup=None) -> float:
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def vgg16_naive() -> None:
    model = explorer.build("vgg16", (3, 224, 224))  # real weights: 528 MB
    torchinfo.summary(model, input_data=torch.randn(1, 3, 224, 224), verbose=0)


def peak_rss_mb(code: str) -> float:
    """VmHWM of a fresh interpreter (ru_maxrss would include this process's RSS, inherited through fork)."""
    script = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); {code}; "
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return int(out) / 1024


def main() -> None:
    explorer.analyze("resnet20")  # imports, registries, first-call costs
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")

    # 1. VGG-16 at 224: the naive way (real weights, torchinfo on a real tensor) against analyze
    naive = median_time(vgg16_naive, repeat=3)
    vgg_cold = median_time(lambda: explorer.analyze("vgg16", (3, 224, 224)), setup=cache_clear, repeat=7)
    print("VGG-16 at 3x224x224")
    print(f"  naive: build with real weights + torchinfo.summary on a real tensor   {fmt(naive)}")
    print(f"  explorer.analyze, nothing cached (build on meta + trace + rows)      {fmt(vgg_cold)}")
    print(f"  ratio: {naive / vgg_cold:,.0f}x faster (target: at least 50x)\n")

    # 2. ResNet-1202: torchinfo.summary on the meta device (model already built) against analyze
    config = explorer.configure("resnet1202")
    meta_model = build_meta(config)
    tinfo = median_time(
        lambda: torchinfo.summary(meta_model, input_size=(1, 3, 32, 32), device="meta", verbose=0), repeat=3
    )
    rows = explorer.analyze("resnet1202").totals.rows
    built = median_time(lambda: explorer.analyze("resnet1202"), setup=_CACHE.clear, repeat=5)
    cold = median_time(lambda: explorer.analyze("resnet1202"), setup=cache_clear, repeat=5)
    repeat = median_time(lambda: explorer.analyze("resnet1202"), repeat=20)
    print(f"ResNet-1202 at 3x32x32 ({rows:,} layer calls)")
    print(
        f"  torchinfo.summary on the meta device, model built beforehand          {fmt(tinfo)} "
        f"({tinfo / rows * 1000:.2f} ms per row)"
    )
    print(f"  explorer.analyze, model built beforehand (warm: e.g. the input slider moved) {fmt(built)}")
    print(f"  explorer.analyze, nothing cached (includes building 3,611 modules)   {fmt(cold)}")
    print(f"  explorer.analyze, the same call again (result cache)                 {fmt(repeat)}")
    print(f"  ratio, warm: {tinfo / built:,.1f}x faster than torchinfo (target: at least 8x)")
    print(f"  ratio, nothing cached: {tinfo / cold:,.1f}x\n")

    # 3. Peak memory of analysing VGG-16 at 224, in a fresh process
    base = peak_rss_mb("import explorer")
    peak = peak_rss_mb("import explorer; explorer.analyze('vgg16', (3, 224, 224))")
    print("Peak RSS of a fresh process (target: under 400 MB)")
    print(f"  import explorer (torch included)                 {base:,.0f} MB")
    print(f"  + analyze('vgg16', (3, 224, 224))                {peak:,.0f} MB (its weights would be 528 MB)\n")

    # 4. Every preset at its default input, nothing cached
    print("Every preset at its default input, nothing cached (median of 3)")
    for name in sorted(explorer.all_presets()):
        t = median_time(lambda name=name: explorer.analyze(name), setup=cache_clear, repeat=3)
        a = explorer.analyze(name)
        print(f"  {name:22s} {'x'.join(map(str, a.input_shape)):>10s} {a.totals.rows:6,} rows  {fmt(t):>10s}")


if __name__ == "__main__":
    main()
