"""Measured latency beside the counts: each layer's median time at batch 1 with real weights, the network's
median and spread, the peak activation memory, and the machine they were measured on.

Multiply-adds are not speed (ShuffleNet V2, Ma et al. 2018; MnasNet, Tan et al. 2019): this module measures
what the counts predict, on the machine the app runs on, and says when two figures cannot be told apart.

How it is timed, and why. Every figure is the time.perf_counter interval around one call (the whole network, or
one layer inside it), repeated; the median is the figure and the quartiles (25th to 75th percentile) its spread.
torch.utils.benchmark.Timer.blocked_autorange was measured beside it on resnet20 at 3x32x32 (one thread, load
average 1.6): the same median (2.36 against 2.29 ms) but 222 forwards in 0.54 s against 30 in 0.07 s, and its
spread is that of block means of 10 calls (0.07 ms), narrower than the calls' own (0.10 ms): it would call two
networks distinguishable that single images are not. Timing one call at a time is therefore both cheaper and
more honest about the spread a single image meets. Per layer, each leaf module's forward is wrapped on the
instance (as explorer.analysis.trace does) and a TorchFunctionMode times the tensor operations written in a
forward (the residual add, DenseNet's concatenation) outside any layer; timing a layer inside the network rather
than alone keeps its real context (the caches its predecessor left), and one forward gives every layer's time.
The wrapped run costs more than a plain one (the Python around each call): the whole network's figure comes from
plain runs, and the layers' shares are of the wrapped run's total, whose rest ("between layers": Python and
anything not timed) is reported too. CUDA runs are synchronised around each timed call.

Peak activation memory is measured by torch.profiler (profile_memory=True): the running sum of the bytes each
operator allocates and frees during one forward, at its highest. It is what an inference forward holds at once,
not the total of all outputs that the analysis computes (what training keeps for the backward pass).

Bounded: estimate() predicts the cost from the multiply-adds before anything runs, measure() refuses what would
exceed the cap and stops repeating when the cap is reached; results are cached in memory per (configuration,
input, threads, device), and one measurement runs at a time in the process (the thread count is process-wide).
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import statistics
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.profiler import ProfilerActivity, profile

from ..analysis.analyzer import analyze_config
from ..build import real_model
from ..errors import LimitError
from ..registry import configure

# The cost estimate's assumed throughput. Measured here: mobilenet_v1 (569M multiply-adds) in 28 ms on one thread
# (about 20G/s), resnet20 (41M) in 2.3 ms (18G/s); 5G/s per thread leaves room for a busy machine and for the
# layers multiply-adds do not count (normalisation, activations, pooling), so the estimate errs on the high side.
ASSUMED_RATE = 5e9
OVERHEAD_S = 20e-6  # per layer call, the Python around it
CAP_S = 30.0  # the most one request may spend measuring
MAX_THREADS = 8
MIN_RUNS = 3  # at fewer repeats there are no quartiles to speak of
MAX_RUNS = 30
WARMUP = 2  # the first calls allocate and pick kernels (oneDNN primitives)
MAX_ACTIVATION_MB = 2048
_LOCK = threading.Lock()  # one measurement at a time: torch's thread count is a process-wide setting
_CACHE: OrderedDict = OrderedDict()
CACHE_SIZE = 32
_NO_TORCH_FUNCTION = torch._C.DisableTorchFunction


# -- figures ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """A measured time in milliseconds: the median of `runs` calls and their 25th and 75th percentiles."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, seconds: list[float]) -> Figure:
        ms = sorted(s * 1000 for s in seconds)
        if len(ms) < 2:
            return cls(ms[0], ms[0], ms[0], len(ms))
        q = statistics.quantiles(ms, n=4, method="inclusive")
        return cls(statistics.median(ms), q[0], q[2], len(ms))

    @property
    def spread(self) -> float:
        return self.high - self.low

    def overlaps(self, other: Figure) -> bool:
        return self.low <= other.high and other.low <= self.high

    def text(self) -> str:
        return f"{self.median:,.3f} ms (quartiles {self.low:,.3f}-{self.high:,.3f}, {self.runs} runs)"


def order(a: Figure, b: Figure) -> int:
    """-1 if a is faster, 1 if b is, 0 when their spreads overlap: "indistinguishable here", never a rank."""
    if a.overlaps(b):
        return 0
    return -1 if a.median < b.median else 1


@dataclass(frozen=True)
class Machine:
    cpu: str
    threads: int
    cores: int
    torch: str
    device: str

    def text(self) -> str:
        return (
            f"{self.cpu}, {self.threads} thread{'s' if self.threads != 1 else ''} of {self.cores} cores, "
            f"PyTorch {self.torch}, {self.device}"
        )


@functools.cache
def cpu_model() -> str:
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def machine(threads: int, device: str = "cpu") -> Machine:
    name = torch.cuda.get_device_name() if device.startswith("cuda") else cpu_model()
    return Machine(name, threads, os.cpu_count() or 1, torch.__version__, device)


LAYER_KINDS = (
    "1x1 conv",
    "depthwise conv",
    "3x3 conv",
    "other conv",
    "pooling",
    "element-wise",
    "fully connected",
    "other",
)


def layer_kind(row) -> str:
    """The plot's categories: which kind of layer a row is (MobileNet's 1x1 against depthwise, and so on)."""
    if row.kind == "conv":
        channels = row.input_shape[0] if row.input_shape else None
        if row.groups and row.groups > 1 and row.groups == channels:
            return "depthwise conv"
        kernel = row.kernel or ()
        if all(k == 1 for k in kernel):
            return "1x1 conv"
        return "3x3 conv" if all(k == 3 for k in kernel) else "other conv"
    if row.kind == "linear":
        return "fully connected"
    if row.kind == "pool":
        return "pooling"
    if row.kind in ("act", "norm") or (row.kind == "merge" and row.type != "(C) concat"):
        return "element-wise"
    return "other"


@dataclass(frozen=True)
class LayerTime:
    row: int  # the analysis row's index
    name: str
    kind: str  # one of LAYER_KINDS
    mult_adds: int
    time: Figure
    share: float  # of the sum of every layer's median and the median between layers (the shares sum to 1)
    mult_add_share: float

    @property
    def rate(self) -> float | None:
        """Achieved multiply-adds per second (None for layers without multiply-adds)."""
        return self.mult_adds / (self.time.median / 1000) if self.mult_adds and self.time.median > 0 else None


@dataclass(frozen=True)
class Measurement:
    name: str
    input_shape: tuple
    machine: Machine
    mult_adds: int
    whole: Figure  # the network alone, no timing inside
    timed_whole: Figure  # the network with every layer timed: the layers' shares are of this
    between: Figure  # timed_whole minus the timed layers, per run
    layers: tuple  # LayerTime, in row order
    peak_activation_bytes: int | None
    seconds: float  # what the measurement cost
    load: tuple = ()  # os.getloadavg() when it began: other processes' share of the machine
    cuda: Figure | None = None  # the whole network on the GPU, when there is one

    @property
    def layer_sum(self) -> float:
        """Milliseconds: every layer's median plus the median between layers.

        On a quiet machine this is the timed run's median; on a busy one it is less, because another process
        interrupts a few different layers in each run and a median leaves each layer's interruptions out.
        """
        return sum(t.time.median for t in self.layers) + self.between.median

    def coherence(self) -> str:
        gap = self.timed_whole.median - self.layer_sum
        if self.timed_whole.low <= self.layer_sum <= self.timed_whole.high:
            return (
                f"The layers' medians add up to {self.layer_sum:,.2f} ms, within the timed run's spread "
                f"({self.timed_whole.low:,.2f}-{self.timed_whole.high:,.2f} ms)."
            )
        return (
            f"The layers' medians add up to {self.layer_sum:,.2f} ms, {gap:,.2f} ms less than the timed run's median "
            f"{self.timed_whole.median:,.2f} ms: other processes interrupted a few layers in each run (load average "
            f"{self.load[0] if self.load else float('nan'):.1f}), which the medians leave out."
        )

    @property
    def rate(self) -> float:
        return self.mult_adds / (self.whole.median / 1000)

    def kind_shares(self) -> dict[str, tuple[float, float]]:
        """{kind: (share of the multiply-adds, share of the time)} over the kinds present."""
        out: dict[str, list[float]] = {}
        for layer in self.layers:
            pair = out.setdefault(layer.kind, [0.0, 0.0])
            pair[0] += layer.mult_add_share
            pair[1] += layer.share
        return {k: (v[0], v[1]) for k, v in out.items() if k in LAYER_KINDS}

    def by_row(self) -> dict[int, LayerTime]:
        return {layer.row: layer for layer in self.layers}

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "machine": asdict(self.machine),
            "mult_adds": self.mult_adds,
            "whole_ms": asdict(self.whole),
            "timed_whole_ms": asdict(self.timed_whole),
            "between_layers_ms": asdict(self.between),
            "mult_adds_per_second": self.rate,
            "peak_activation_bytes": self.peak_activation_bytes,
            "cuda_ms": asdict(self.cuda) if self.cuda else None,
            "seconds": self.seconds,
            "load_average": list(self.load),
            "layer_sum_ms": self.layer_sum,
            "layers": [
                {
                    "row": t.row,
                    "name": t.name,
                    "kind": t.kind,
                    "mult_adds": t.mult_adds,
                    "ms": asdict(t.time),
                    "share": t.share,
                    "mult_add_share": t.mult_add_share,
                    "mult_adds_per_second": t.rate,
                }
                for t in self.layers
            ],
        }


# -- the cost, before anything runs -------------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    forward_s: float  # one forward, estimated from the multiply-adds
    minimum_s: float  # the fewest runs a measurement needs
    runs: int  # repeats of each of the plain and the timed run that fit in the cap
    cap_s: float

    @property
    def fits(self) -> bool:
        return self.minimum_s <= self.cap_s

    @property
    def total_s(self) -> float:
        return self.forward_s * (WARMUP + 1 + 2 * self.runs)

    def text(self) -> str:
        return (
            f"about {self.total_s:,.1f} s ({self.runs} repeats of a forward estimated at "
            f"{self.forward_s * 1000:,.1f} ms from the multiply-adds at an assumed {ASSUMED_RATE / 1e9:g}G a second)"
        )


def estimate(analysis, threads: int = 1, cap_s: float = CAP_S) -> Estimate:
    forward = analysis.totals.mult_adds / (ASSUMED_RATE * max(1, threads) ** 0.5) + OVERHEAD_S * len(analysis.rows)
    minimum = forward * (WARMUP + 1 + 2 * MIN_RUNS)  # warm-up, the memory run, the plain and timed repeats
    runs = int((cap_s / max(forward, 1e-9) - WARMUP - 1) / 2)
    return Estimate(forward, minimum, max(MIN_RUNS, min(MAX_RUNS, runs)), cap_s)


def check_request(analysis, threads: int, cap_s: float) -> Estimate:
    if not 1 <= threads <= MAX_THREADS:
        raise LimitError(f"Measure with 1 to {MAX_THREADS} threads; got {threads}.")
    if analysis.totals.activation_mb > MAX_ACTIVATION_MB:
        raise LimitError(
            f"This network's activations take {analysis.totals.activation_mb:,.0f} MB for one image, more than the "
            f"{MAX_ACTIVATION_MB:,} MB a measurement may use; choose a smaller input."
        )
    cost = estimate(analysis, threads, cap_s)
    if not cost.fits:
        raise LimitError(
            f"Measuring this network would take about {cost.minimum_s:,.0f} s at the fewest repeats "
            f"({analysis.totals.mult_adds / 1e9:,.1f}G multiply-adds a forward), beyond the {cap_s:g} s a request "
            "may spend; choose a smaller input or network."
        )
    return cost


# -- timing -------------------------------------------------------------------------------------------
@contextlib.contextmanager
def torch_threads(threads: int):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], object], device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


@torch.inference_mode()
def time_models(
    models: dict[str, nn.Module], x: torch.Tensor, repeats: int, warmup: int = WARMUP
) -> dict[str, list[float]]:
    """Seconds of each call of each model on x, the models taking turns within each repetition.

    Taking turns, a burst of load from another process slows them all alike instead of one of them.
    The edge experiments' variants and the whole network's figure are timed by this one function.
    """
    times: dict[str, list[float]] = {name: [] for name in models}
    for model in models.values():
        model.eval()
        device = x.device
        for _ in range(warmup):
            model(x)
        _sync(device)
    for _ in range(repeats):
        for name, model in models.items():
            times[name].append(time_call(functools.partial(model, x), x.device))
    return times


class _LayerClock(TorchFunctionMode):
    """Times every leaf module call and every tensor operation written in a forward, keyed as the trace names them.

    Keys are (name, call): the module's name and its call count, or scope.op for an operation outside any layer,
    counted per name, which is how explorer.analysis.trace names the analysis rows. Only operations whose inputs
    came from the network's input count (as in the trace), so the counts agree.
    """

    def __init__(self, model: nn.Module, device: torch.device):
        super().__init__()
        self.device = device
        self.model = model
        self.counts: dict[str, int] = {}
        self.times: dict[tuple, float] = {}
        self.scope: list[str] = []
        # id -> weak reference: holding the outputs themselves kept every activation alive, so the allocator
        # could reuse nothing; that made the timed mobilenet_v1_050 run 86 ms against 37 ms plain (measured)
        self.produced: dict[int, weakref.ref] = {}
        self.wrapped: list[nn.Module] = []

    def _key(self, name: str) -> tuple:
        count = self.counts.get(name, 0) + 1
        self.counts[name] = count
        return name, count

    def _produce(self, out) -> None:
        for t in out if isinstance(out, (list, tuple)) else (out,):
            if isinstance(t, torch.Tensor):
                self.produced[id(t)] = weakref.ref(t)

    def _from_input(self, values) -> bool:
        stack = list(values)
        while stack:
            v = stack.pop()
            if isinstance(v, torch.Tensor):
                ref = self.produced.get(id(v))
                if ref is not None and ref() is v:
                    return True
            elif isinstance(v, (list, tuple)):
                stack.extend(v)
        return False

    def __torch_function__(self, func, types_, args=(), kwargs=None):
        kwargs = kwargs or {}
        _sync(self.device)
        start = time.perf_counter()
        out = func(*args, **kwargs)
        _sync(self.device)
        elapsed = time.perf_counter() - start
        if (
            isinstance(out, torch.Tensor)
            or (isinstance(out, (tuple, list)) and out and all(isinstance(t, torch.Tensor) for t in out))
        ) and self._from_input(list(args) + list(kwargs.values())):
            op = getattr(func, "__name__", str(func))
            op = _MERGE_NAMES.get(op, op.strip("_"))
            scope = self.scope[-1] if self.scope else ""
            self.times[self._key(f"{scope}.{op}" if scope else op)] = elapsed
            self._produce(out)
        return out

    def _wrap_leaf(self, module: nn.Module, name: str) -> None:
        forward = module.forward

        def timed(*args, **kwargs):
            _sync(self.device)
            start = time.perf_counter()
            with _NO_TORCH_FUNCTION():
                out = forward(*args, **kwargs)
            _sync(self.device)
            self.times[self._key(name)] = time.perf_counter() - start
            self._produce(out)
            return out

        module.__dict__["forward"] = timed

    def _wrap_scope(self, module: nn.Module, name: str) -> None:
        forward = module.forward

        def scoped(*args, **kwargs):
            self.scope.append(name)
            try:
                return forward(*args, **kwargs)
            finally:
                self.scope.pop()

        module.__dict__["forward"] = scoped

    @contextlib.contextmanager
    def installed(self):
        for name, module in self.model.named_modules():
            if all(child is None for child in module._modules.values()):
                self._wrap_leaf(module, name)
            elif module is not self.model:
                self._wrap_scope(module, name)
            self.wrapped.append(module)
        try:
            yield self
        finally:
            for module in self.wrapped:
                module.__dict__.pop("forward", None)

    def run(self, x: torch.Tensor) -> tuple[dict, float]:
        """One timed forward: ({(name, call): seconds}, the whole forward's seconds)."""
        self.counts, self.times = {}, {}
        self.produced = {id(x): weakref.ref(x)}
        _sync(self.device)
        start = time.perf_counter()
        with self:
            self.model(x)
        _sync(self.device)
        total = time.perf_counter() - start
        self.produced = {}
        return self.times, total


_MERGE_NAMES = {  # as explorer.analysis.trace names the operations
    "add": "add",
    "__add__": "add",
    "__radd__": "add",
    "__iadd__": "add",
    "add_": "add",
    "cat": "cat",
    "concat": "cat",
    "concatenate": "cat",
    "mean": "mean",
    "stack": "stack",
    "mul": "mul",
    "__mul__": "mul",
    "__rmul__": "mul",
    "__imul__": "mul",
    "mul_": "mul",
}


@torch.inference_mode()
def peak_activation_bytes(model: nn.Module, x: torch.Tensor) -> int | None:
    """Measured: the highest running sum of bytes allocated minus freed by the operators of one forward."""
    if x.device.type != "cpu":
        torch.cuda.reset_peak_memory_stats(x.device)
        before = torch.cuda.memory_allocated(x.device)
        model(x)
        return torch.cuda.max_memory_allocated(x.device) - before
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        model(x)
    events = sorted((e for e in prof.events() if e.self_cpu_memory_usage), key=lambda e: e.time_range.start)
    if not events:
        return None
    current = peak = 0
    for e in events:
        current += e.self_cpu_memory_usage
        peak = max(peak, current)
    return peak


# -- the measurement ----------------------------------------------------------------------------------
def measure(
    name: str,
    input_shape=None,
    threads: int = 1,
    device: str = "cpu",
    cap_s: float = CAP_S,
    progress: Callable[[float, str], None] | None = None,
    **knobs,
) -> Measurement:
    """Measure a family or preset (as explorer.analyze takes it); cached per (configuration, input, threads, device).

    Raises LimitError (one sentence) before running when the estimate exceeds cap_s.
    """
    config = configure(name, input_shape, **knobs)
    analysis = analyze_config(config, name)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise LimitError("This machine has no CUDA device; measure on the cpu.")
    cost = check_request(analysis, threads, cap_s)
    key = (config, name, threads, device, cap_s)
    with _LOCK:  # identical requests wait for the first one and share its figures
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        result = _measure(config, analysis, threads, torch.device(device), cost, progress)
        _CACHE[key] = result
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def cached(name: str, input_shape=None, threads: int = 1, device: str = "cpu", cap_s: float = CAP_S, **knobs):
    """The cached measurement for these settings, or None: nothing runs."""
    config = configure(name, input_shape, **knobs)
    return _CACHE.get((config, name, threads, device, cap_s))


def cache_clear() -> None:
    with _LOCK:
        _CACHE.clear()


def _measure(config, analysis, threads, device, cost: Estimate, progress) -> Measurement:
    began = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    deadline = began + cost.cap_s

    def report(fraction: float, text: str) -> None:
        if progress is not None:
            progress(min(1.0, fraction), text)

    torch.manual_seed(0)
    model = real_model(config).eval()
    x = torch.rand(1, *config.input_shape, generator=torch.Generator().manual_seed(0))
    with torch_threads(threads), torch.inference_mode():
        report(0.0, "warming up")
        whole: list[float] = []
        timed: list[tuple[dict, float]] = []
        for _ in range(WARMUP):
            model(x)
        peak = peak_activation_bytes(model, x)
        clock = _LayerClock(model, torch.device("cpu"))
        # plain and timed runs alternate, so load from other processes falls on both alike
        for i in range(cost.runs):
            if i >= MIN_RUNS and time.perf_counter() > deadline:
                break
            whole.append(time_call(functools.partial(model, x), torch.device("cpu")))
            with clock.installed():
                timed.append(clock.run(x))
            report((i + 1) / cost.runs, f"run {i + 1} of at most {cost.runs}")
        cuda = None
        if torch.cuda.is_available() and time.perf_counter() < deadline:
            gpu = torch.device("cuda")
            cuda = Figure.of(time_models({"gpu": model.to(gpu)}, x.to(gpu), max(MIN_RUNS, len(whole)))["gpu"])
    rows = {(r.name, r.call): r for r in analysis.rows if r.call > 0}
    total_ma = max(1, analysis.totals.mult_adds)
    timed_whole = Figure.of([t for _, t in timed])
    between = Figure.of([total - sum(times.values()) for times, total in timed])
    figures = {}
    for key, row in rows.items():
        samples = [times[key] for times, _ in timed if key in times]
        if samples:
            figures[row.index] = (row, Figure.of(samples))
    layer_sum = sum(f.median for _, f in figures.values()) + between.median
    layers = [
        LayerTime(
            row.index,
            row.label,
            layer_kind(row),
            row.mult_adds,
            figure,
            figure.median / layer_sum if layer_sum > 0 else 0.0,
            row.mult_adds / total_ma,
        )
        for row, figure in sorted(figures.values(), key=lambda rf: rf[0].index)
    ]
    return Measurement(
        analysis.name,
        tuple(config.input_shape),
        machine(threads, "cpu"),
        analysis.totals.mult_adds,
        Figure.of(whole),
        timed_whole,
        between,
        tuple(layers),
        peak,
        time.perf_counter() - began,
        tuple(load),
        cuda,
    )


def rank_flips(entries: dict[str, tuple[int, Figure]]) -> list[tuple[str, str]]:
    """Pairs (a, b) where a has fewer multiply-adds than b but is measurably slower (spreads apart)."""
    names = list(entries)
    flips = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ma_a, ma_b = entries[a][0], entries[b][0]
            if ma_a == ma_b:
                continue
            fewer, more = (a, b) if ma_a < ma_b else (b, a)
            if order(entries[fewer][1], entries[more][1]) == 1:
                flips.append((fewer, more))
    return flips


def claim_sentence(m: Measurement) -> str:
    """What was measured about MobileNet's claim and about depthwise layers, as one or two sentences."""
    shares = m.kind_shares()
    parts = []
    if "1x1 conv" in shares:
        ma, t = shares["1x1 conv"]
        parts.append(
            f"1x1 convolutions are {ma:.1%} of the multiply-adds here (MobileNet's paper: about 95% for its own "
            f"network) and {t:.1%} of the time on this CPU"
        )
    if "depthwise conv" in shares:
        ma, t = shares["depthwise conv"]
        parts.append(f"depthwise layers are {ma:.1%} of the multiply-adds but {t:.1%} of the time")
    if not parts:
        kind, (ma, t) = max(shares.items(), key=lambda kv: kv[1][1]) if shares else ("", (0.0, 0.0))
        if not kind:
            return "No layer was timed."
        parts.append(f"{kind} layers take the most time: {t:.1%} of it, for {ma:.1%} of the multiply-adds")
    untimed = m.between.median / m.layer_sum if m.layer_sum else 0.0
    return (
        "; ".join(parts)[0].upper()
        + "; ".join(parts)[1:]
        + f" ({m.machine.text()}; {untimed:.1%} of the time fell between layers)."
    )
