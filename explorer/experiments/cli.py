"""python -m explorer experiment NAME [--set KNOB=VALUE ...] [--json] [--data-dir DIR]

Every registered experiment is a NAME; its knobs are --set options, declared once in its module.
`python -m explorer experiment list` prints them.
"""
from __future__ import annotations

import json
import sys


def _print_progress(progress) -> None:
    """One line per finished epoch, on stderr (stdout stays clean for --json)."""
    if progress.step == progress.steps:
        print(f"  {progress.text()}", file=sys.stderr, flush=True)


def cmd_experiment(args) -> int:
    from ..cli import parse_sets
    from .base import all_experiments, run_experiment

    if args.name == "list":
        for exp in all_experiments().values():
            print(f"{exp.name}: {exp.title}")
            for k in exp.knobs:
                choices = f"one of {', '.join(map(str, k.choices))}" if k.choices else f"{k.low:g}..{k.high:g}"
                print(f"    --set {k.name}=  {k.kind}, {choices}, default {k.format(k.default)}. {k.help}")
            print()
        return 0
    progress = _print_progress if sys.stderr.isatty() and not args.quiet else None
    outcome = run_experiment(args.name, parse_sets(args.set), progress, args.data_dir)
    if args.json:
        print(json.dumps(outcome.result, indent=1))
    else:
        from .base import get_experiment

        print(get_experiment(args.name).report(outcome.result))
        print(f"({'loaded from the cache' if outcome.from_cache else 'computed'} in {outcome.seconds:.1f} s)")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("experiment", help="run a live experiment (trains networks; cached on disk)")
    p.add_argument("name", help="an experiment, e.g. layer-removal ('list' shows them all with their knobs)")
    p.add_argument("--set", action="append", metavar="KNOB=VALUE", help="override a knob (repeatable)")
    p.add_argument("--data-dir", metavar="DIR", help="the local CIFAR-10 folder (cifar-10-batches-py), "
                   "for --set dataset=cifar10")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_experiment)
