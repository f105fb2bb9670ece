"""The experiment registry: each live experiment declares its knobs once, as a family does.

An Experiment is a run function plus the declaration of its knobs (explorer.registry.Knob), so the
CLI's --set, the page's widgets (ui.experiments.knob_widgets) and the tests all read one declaration.

    register(Experiment("layer-removal", "Deleting blocks", summary, knobs=(Knob(...), ...),
                        run=run, report=report))
    outcome = run_experiment("layer-removal", {"depth": 14}, progress=print)
    outcome.result["residual"]["full_accuracy"], outcome.from_cache

run(settings, progress, data_dir) -> dict receives validated knob values and returns plain JSON data;
run_experiment caches that dict on disk keyed by the settings (explorer.live.cache.cached_json).

cost(settings) -> float estimates the core-seconds of a run before it starts, scaled from a measured run
(scaled() below). A run beyond the operator's budget ($EXPLORER_BUDGET) is refused with a sentence naming
the knob to lower (check_budget); the CLI, the pages and the settings in a link all pass through it.
"""

from __future__ import annotations

import difflib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..errors import KnobError, LimitError, UnknownNameError
from ..live import settings as operator
from ..live.cache import cache_key, cached_json, load_json
from ..live.data import fingerprint
from ..live.training import ProgressFn
from ..registry import Knob

RunFn = Callable[[dict, "ProgressFn | None", "str | None"], dict]


@dataclass(frozen=True)
class Experiment:
    """A live experiment: its knobs, what it computes (run) and how the terminal prints it (report)."""

    name: str  # the CLI's name: python -m explorer experiment <name>
    title: str
    summary: str
    knobs: tuple[Knob, ...]
    run: RunFn
    report: Callable[[dict], str]
    paper: str = ""
    dataset_knob: str | None = "dataset"  # the knob naming the data, whose CIFAR-10 folder joins the cache key
    validate: Callable[[dict], None] | None = None  # checks combinations of knobs; raises KnobError
    cost: Callable[[dict], float] | None = None  # estimated core-seconds of a run with these settings

    def __post_init__(self):
        names = [k.name for k in self.knobs]
        assert len(set(names)) == len(names), f"{self.name}: knob declared twice"

    @property
    def knob_names(self) -> list[str]:
        return [k.name for k in self.knobs]

    def knob(self, name: str) -> Knob:
        for k in self.knobs:
            if k.name == name:
                return k
        raise KnobError(f"The {self.name} experiment has no knob '{name}'; its knobs are {', '.join(self.knob_names)}.")

    def defaults(self) -> dict:
        return {k.name: k.default for k in self.knobs}

    def check(self, values: dict | None = None) -> dict:
        """Every knob coerced and validated (strings from the CLI or the URL included), defaults filled in."""
        settings = self.defaults()
        for name, value in (values or {}).items():
            settings[name] = self.knob(name).coerce(value)
        if self.validate:
            self.validate(settings)
        return settings

    def cache_settings(self, settings: dict, data_dir: str | None) -> dict:
        """What the cached result depends on: the settings and, for CIFAR-10, which folder it came from."""
        if self.dataset_knob and settings.get(self.dataset_knob) == "cifar10":
            return {**settings, "data": fingerprint("cifar10", data_dir)}
        return dict(settings)

    def estimate(self, settings: dict) -> float:
        """Estimated core-seconds of a run with these (checked) settings; 0 when the experiment declares no cost."""
        return float(self.cost(settings)) if self.cost else 0.0

    def job_key(self, settings: dict, data_dir: str | None) -> str:
        """One name for identical work, whoever asks: the cache key of its result."""
        return cache_key(f"experiments/{self.name}", self.cache_settings(settings, data_dir))


def scaled(settings: Mapping, reference: Mapping, powers: Mapping[str, float]) -> float:
    """How much more a run costs than the reference run: the product of (value / reference value) ** power.

    A knob at None (derived) counts as its reference value; a zero counts as a tenth of it (work remains).
    """
    ratio = 1.0
    for name, power in powers.items():
        value, base = settings.get(name), reference[name]
        if value is None:
            continue
        ratio *= (max(float(value), 0.1 * base) / base) ** power
    return ratio


def check_budget(experiment: Experiment, settings: dict, budget: float | None) -> float:
    """The run's estimated core-seconds; LimitError naming the knob to lower when it exceeds the budget."""
    cost = experiment.estimate(settings)
    if budget is None or cost <= budget:
        return cost
    knob, fits = _knob_to_lower(experiment, settings, budget)
    lower = f"lower {knob.title} (to {knob.format(fits)} or less)" if fits is not None else f"lower {knob.title}"
    raise LimitError(
        f"This run would cost about {cost / 60:.1f} core-minutes, beyond this server's budget of "
        f"{budget / 60:.1f} ({operator.BUDGET_ENV}); {lower}."
    )


def _knob_to_lower(experiment: Experiment, settings: dict, budget: float):
    """The numeric knob whose lowest value saves the most, and its largest value within the budget (or None)."""
    cost = experiment.estimate(settings)
    numeric = [
        k
        for k in experiment.knobs
        if k.kind in ("int", "float") and k.low is not None and settings.get(k.name) is not None
        if settings[k.name] > k.low and experiment.estimate({**settings, k.name: k.low}) < cost
    ]
    raised = [k for k in numeric if k.default is not None and settings[k.name] > k.default]
    candidates = raised or numeric  # first the knobs the user turned up, then any that costs
    if not candidates:
        return experiment.knobs[0], None
    floors = {k.name: experiment.estimate({**settings, k.name: k.low}) for k in candidates}
    knob = min(candidates, key=lambda k: floors[k.name])
    best = (knob, floors[knob.name])
    knob, floor = best
    if floor > budget:
        return knob, None
    low, high = knob.low, settings[knob.name]  # the cost grows with the knob: bisect for the largest that fits
    for _ in range(40):
        middle = (low + high) / 2
        if knob.kind == "int":
            middle = math.floor(middle)
            if middle in (low, high):
                break
        if experiment.estimate({**settings, knob.name: middle}) <= budget:
            low = middle
        else:
            high = middle
    return knob, (int(low) if knob.kind == "int" else round(low, 2))


@dataclass(frozen=True)
class Outcome:
    experiment: str
    settings: dict
    result: dict
    from_cache: bool
    seconds: float  # wall-clock time of this call (loading from the cache included)


_EXPERIMENTS: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    assert experiment.name not in _EXPERIMENTS, experiment.name
    _EXPERIMENTS[experiment.name] = experiment
    return experiment


def all_experiments() -> dict[str, Experiment]:
    return dict(_EXPERIMENTS)  # importing explorer.experiments (any of its modules) registered them all


def get_experiment(name: str) -> Experiment:
    found = all_experiments()
    if name in found:
        return found[name]
    close = difflib.get_close_matches(str(name), list(found), n=2, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else f"choose one of {', '.join(found)}."
    raise UnknownNameError(f"There is no experiment '{name}'; {hint}")


_UNSET = object()


def run_experiment(
    name: str,
    values: dict | None = None,
    progress: ProgressFn | None = None,
    data_dir: str | None = None,
    budget: float | None | object = _UNSET,
) -> Outcome:
    """The experiment's result for these knob values: from the disk cache, or computed live and stored.

    A run that is not cached must fit the budget (core-seconds; default the operator's $EXPLORER_BUDGET,
    None for no limit), else LimitError names the knob to lower. Several sessions asking for the same
    run share one through explorer.live.jobs, which calls this.
    """
    experiment = get_experiment(name)
    settings = experiment.check(values)
    limit = operator.budget() if budget is _UNSET else budget
    start = time.perf_counter()

    def compute() -> dict:
        check_budget(experiment, settings, limit)
        return experiment.run(settings, progress, data_dir)

    result, hit = cached_json(f"experiments/{name}", experiment.cache_settings(settings, data_dir), compute)
    return Outcome(name, settings, result, hit, time.perf_counter() - start)


def cached_outcome(name: str, values: dict | None = None, data_dir: str | None = None) -> Outcome | None:
    """The stored result, without computing anything (None when these settings were never run)."""
    experiment = get_experiment(name)
    settings = experiment.check(values)
    start = time.perf_counter()
    result = load_json(f"experiments/{name}", experiment.cache_settings(settings, data_dir))
    return None if result is None else Outcome(name, settings, result, True, time.perf_counter() - start)
