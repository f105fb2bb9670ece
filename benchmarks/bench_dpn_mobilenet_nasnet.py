"""Analysis time of the DPN, MobileNet and NASNet presets at their default input, from scratch.

Each preset is analysed once to warm up (imports, first-call costs), then N times with
explorer.analysis.cache_clear() before each run, so that every run builds and traces the model.
Prints the median and the slowest run. Run: .venv/bin/python benchmarks/bench_dpn_mobilenet_nasnet.py
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer import all_presets, analyze  # noqa: E402
from explorer.analysis import cache_clear  # noqa: E402

FAMILIES = ("dpn", "mobilenet_v1", "mobilenet_v2", "nasnet")
RUNS = 5


def main() -> None:
    presets = [p for p in all_presets().values() if p.family in FAMILIES]
    print(f"{'preset':22} {'input':>11} {'rows':>5} {'median s':>9} {'max s':>7}")
    for preset in presets:
        analysis = analyze(preset.name)  # warm-up
        times = []
        for _ in range(RUNS):
            cache_clear()
            start = time.perf_counter()
            analyze(preset.name)
            times.append(time.perf_counter() - start)
        shape = "x".join(map(str, analysis.input_shape))
        print(f"{preset.name:22} {shape:>11} {len(analysis.rows):5d} {statistics.median(times):9.3f} {max(times):7.3f}")


if __name__ == "__main__":
    main()
