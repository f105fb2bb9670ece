"""Measured latency against multiply-adds for the lecture's networks, on this machine, with the rank flips named.

    .venv/bin/python benchmarks/bench_latency.py [--threads 1] [--side 224] [--cap 120] [--markdown]

Each network runs with real weights at batch 1 (explorer.live.latency.measure: the median of single calls and
their quartiles). Two networks are ranked only where their quartiles do not overlap; otherwise the table says
"indistinguishable here". The machine and its load average are printed with the figures: timings on a shared
machine are noisy, so rerun on a quiet one before quoting them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer import analyze  # noqa: E402
from explorer.live import latency  # noqa: E402
from explorer.reference import MNASNET_PHONE_LATENCY  # noqa: E402

NETWORKS = (
    "vgg16",
    "resnet50",
    "densenet121",
    "googlenet",
    "mobilenet_v1",
    "mobilenet_v1_050",
    "mobilenet_v2",
    "squeezenet1_0",
    "nasnet_a_mobile",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--side", type=int, default=224)
    parser.add_argument("--cap", type=float, default=120.0, help="most seconds per network")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (the README's)")
    parser.add_argument("networks", nargs="*", default=list(NETWORKS))
    args = parser.parse_args()
    shape = (3, args.side, args.side)
    start_load = os.getloadavg()
    results = {}
    for name in args.networks:
        a = analyze(name, shape)
        began = time.perf_counter()
        m = latency.measure(name, shape, threads=args.threads, cap_s=args.cap)
        results[name] = (a, m)
        print(f"  {name}: {m.whole.text()} in {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    by_ma = sorted(results, key=lambda n: results[n][0].totals.mult_adds)
    by_time = sorted(results, key=lambda n: results[n][1].whole.median)
    flips = latency.rank_flips({n: (a.totals.mult_adds, m.whole) for n, (a, m) in results.items()})
    machine = next(iter(results.values()))[1].machine
    head = (
        "network",
        "mult-adds",
        "params",
        "median ms",
        "quartiles ms",
        "G mult-adds/s",
        "peak MB",
        "rank MA",
        "rank ms",
    )
    lines = []
    for n in by_ma:
        a, m = results[n]
        peak = f"{m.peak_activation_bytes / 2**20:.1f}" if m.peak_activation_bytes else "-"
        lines.append(
            (
                n,
                f"{a.totals.mult_adds / 1e6:,.0f}M",
                f"{a.totals.params / 1e6:.2f}M",
                f"{m.whole.median:,.1f}",
                f"{m.whole.low:,.1f}-{m.whole.high:,.1f}",
                f"{m.rate / 1e9:.1f}",
                peak,
                str(by_ma.index(n) + 1),
                str(by_time.index(n) + 1),
            )
        )
    print(f"Measured on {machine.text()}, input {'x'.join(map(str, shape))}, batch 1")
    print(f"load average before {start_load[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        for line in lines:
            print("  ".join(v.ljust(w) for v, w in zip(line, widths)))
    print()
    if flips:
        print("Rank flips (fewer multiply-adds, measurably slower: quartiles apart):")
        for a, b in flips:
            print(
                f"  {a} ({results[a][0].totals.mult_adds / 1e6:,.0f}M, {results[a][1].whole.median:,.1f} ms) is slower "
                f"than {b} ({results[b][0].totals.mult_adds / 1e6:,.0f}M, {results[b][1].whole.median:,.1f} ms)"
            )
    else:
        print("No rank flips where the quartiles are apart.")
    close = [
        (a, b)
        for i, a in enumerate(by_ma)
        for b in by_ma[i + 1 :]
        if latency.order(results[a][1].whole, results[b][1].whole) == 0
    ]
    if close:
        print("Indistinguishable here (quartiles overlap): " + ", ".join(f"{a}/{b}" for a, b in close))
    print()
    print(
        "Published (MnasNet, Table 1, Pixel 1 phone): "
        + "; ".join(
            f"{p['model']} {p['mult_adds'] / 1e6:.0f}M, {p['latency_ms']} ms" for p in MNASNET_PHONE_LATENCY.values()
        )
    )
    for n in ("mobilenet_v1", "nasnet_a_mobile"):
        if n in results:
            print(f"  here: {n} {results[n][0].totals.mult_adds / 1e6:,.0f}M, {results[n][1].whole.median:,.1f} ms")
    if "mobilenet_v1" in results:
        print(latency.claim_sentence(results["mobilenet_v1"][1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
