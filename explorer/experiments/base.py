"""The experiment registry: each live experiment declares its knobs once, as a family does.

An Experiment is a run function plus the declaration of its knobs (explorer.registry.Knob), so the
CLI's --set, the page's widgets (ui.experiments.knob_widgets) and the tests all read one declaration.

    register(Experiment("layer-removal", "Deleting blocks", summary, knobs=(Knob(...), ...),
                        run=run, report=report))
    outcome = run_experiment("layer-removal", {"depth": 14}, progress=print)
    outcome.result["residual"]["full_accuracy"], outcome.from_cache

run(settings, progress, data_dir) -> dict receives validated knob values and returns plain JSON data;
run_experiment caches that dict on disk keyed by the settings (explorer.live.cache.cached_json).
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import KnobError, UnknownNameError
from ..live.cache import cached_json, load_json
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


def run_experiment(
    name: str, values: dict | None = None, progress: ProgressFn | None = None, data_dir: str | None = None
) -> Outcome:
    """The experiment's result for these knob values: from the disk cache, or computed live and stored."""
    experiment = get_experiment(name)
    settings = experiment.check(values)
    start = time.perf_counter()
    result, hit = cached_json(
        f"experiments/{name}",
        experiment.cache_settings(settings, data_dir),
        lambda: experiment.run(settings, progress, data_dir),
    )
    return Outcome(name, settings, result, hit, time.perf_counter() - start)


def cached_outcome(name: str, values: dict | None = None, data_dir: str | None = None) -> Outcome | None:
    """The stored result, without computing anything (None when these settings were never run)."""
    experiment = get_experiment(name)
    settings = experiment.check(values)
    start = time.perf_counter()
    result = load_json(f"experiments/{name}", experiment.cache_settings(settings, data_dir))
    return None if result is None else Outcome(name, settings, result, True, time.perf_counter() - start)
