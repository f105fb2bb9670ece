"""python -m explorer: the same analysis as the app, in a terminal.

    python -m explorer list
    python -m explorer summary vgg16 --input 3x224x224 [--set num_classes=10 ...] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys

from .errors import ExplorerError, KnobError
from .registry import all_families, parse_input_shape

# Modules that add their own sub-commands: each has add_commands(subparsers) -> None.
EXTENSIONS: list[str] = ["explorer.paths", "explorer.experiments.cli"]


def parse_sets(pairs: list[str] | None) -> dict:
    """['depth=56', 'stem=cifar'] -> {'depth': '56', 'stem': 'cifar'} (values are coerced by each knob)."""
    knobs = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise KnobError(f"--set takes KNOB=VALUE, e.g. --set depth=56; got '{pair}'.")
        knobs[name.strip()] = value.strip()
    return knobs


def cmd_list(args) -> int:
    fams = all_families()
    if args.json:
        print(json.dumps({name: {
            "title": f.title,
            "presets": {p.name: {"title": p.title, "knobs": {k: list(v) if isinstance(v, tuple) else v
                                                             for k, v in p.knobs.items()}}
                        for p in f.presets.values()},
            "knobs": [{"name": k.name, "kind": k.kind, "default": list(k.default) if isinstance(k.default, tuple)
                       else k.default, "low": k.low, "high": k.high, "choices": list(k.choices),
                       "optional": k.optional, "help": k.help} for k in f.knobs],
        } for name, f in fams.items()}, indent=2))
        return 0
    for name, f in fams.items():
        print(f"{name}: {f.title}")
        for k in f.knobs:
            rng = f"one of {', '.join(map(str, k.choices))}" if k.choices else \
                f"{k.low:g}..{k.high:g}" if k.low is not None and k.high is not None else \
                "true or false" if k.kind == "bool" else k.kind
            auto = f" (auto: {k.auto})" if k.optional else ""
            print(f"    --set {k.name}=  {k.kind}, {rng}, default {k.format(k.default)}{auto}. {k.help}")
        if f.presets:
            print("  presets: " + ", ".join(f.presets))
        print()
    return 0


def cmd_summary(args) -> int:
    from .analysis import analyze
    from .report import to_text

    shape = parse_input_shape(args.input) if args.input else None
    result = analyze(args.name, shape, **parse_sets(args.set))
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(to_text(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m explorer", description="Architecture Explorer from the terminal.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="families, presets and knobs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("summary", help="shape, parameter and multiply-add table of a network")
    p.add_argument("name", help="a family or preset (see 'list')")
    p.add_argument("--set", action="append", metavar="KNOB=VALUE", help="override a knob (repeatable)")
    p.add_argument("--input", metavar="CxHxW", help="input shape, e.g. 3x32x32 (default: the family's)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_summary)
    import importlib

    for module in EXTENSIONS:
        importlib.import_module(module).add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ExplorerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `python -m explorer summary resnet1202 | head`
        return 0
