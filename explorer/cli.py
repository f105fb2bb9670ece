"""python -m explorer: the same engine as the app, in a terminal. Every sub-command is declared in
build_parser() below.

    python -m explorer list [--json]
    python -m explorer summary vgg16 --input 3x224x224 [--set num_classes=10 ...] [--json]
    python -m explorer summary --spec "conv3-64, maxpool, FC-10" --input 3x32x32 [--json]
    python -m explorer summary package.module:factory --input 3x224x224 [--json]   (your own nn.Module)
    python -m explorer export resnet20 [-o resnet20.py]
    python -m explorer paths 54 [--json]
    python -m explorer experiment list | layer-removal [--set depth=14 ...] [--json]
    python -m explorer measure mobilenet_v1 [--input 3x224x224] [--threads 1] [--json]
    python -m explorer prepare [--quiet]     every experiment of the lecture path, cached for class

Bad input prints one sentence on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from torch import nn

from . import lecture
from .analysis import analyze
from .analysis.report import to_text
from .errors import ExplorerError, KnobError
from .experiments import all_experiments, get_experiment, run_experiment
from .families.resnet_paths import MAX_BLOCKS, scientific
from .families.resnet_paths import summary as paths_summary
from .labs.export import to_pytorch, write
from .live import latency
from .registry import all_families, parse_input_shape


def _knob_range(k) -> str:
    """A knob's values as `list` and `experiment list` print them."""
    if k.choices:
        return f"one of {', '.join(map(str, k.choices))}"
    if k.kind == "bool":
        return "true or false"
    if k.low is not None and k.high is not None:
        return f"{k.low:g}..{k.high:g}"
    if k.low is not None:  # bounded by something else (the transfer cut: the chosen network)
        return f"at least {k.low:g}"
    return k.kind


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
        print(
            json.dumps(
                {
                    name: {
                        "title": f.title,
                        "presets": {
                            p.name: {
                                "title": p.title,
                                "knobs": {k: list(v) if isinstance(v, tuple) else v for k, v in p.knobs.items()},
                            }
                            for p in f.presets.values()
                        },
                        "knobs": [
                            {
                                "name": k.name,
                                "kind": k.kind,
                                "default": list(k.default) if isinstance(k.default, tuple) else k.default,
                                "low": k.low,
                                "high": k.high,
                                "choices": list(k.choices),
                                "optional": k.optional,
                                "help": k.help,
                            }
                            for k in f.knobs
                        ],
                    }
                    for name, f in fams.items()
                },
                indent=2,
            )
        )
        return 0
    for name, f in fams.items():
        print(f"{name}: {f.title}")
        for k in f.knobs:
            rng = _knob_range(k)
            auto = f" (auto: {k.auto})" if k.optional else ""
            default = k.format(k.default)
            if k.kind == "text":  # a whole network: its lines on one line, comments left out
                rng = f"at most {k.max_len:,} characters (or summary --spec TEXT)"
                default = ", ".join(
                    line.strip() for line in default.splitlines() if line.strip() and not line.lstrip().startswith("#")
                )
            print(f"    --set {k.name}=  {k.kind}, {rng}, default {default}{auto}. {k.help}")
        if f.presets:
            print("  presets: " + ", ".join(f.presets))
        print()
    return 0


def network_arguments(args) -> tuple:
    """NAME or --spec (a custom network), --input and --set: (name, input shape, knobs) for explorer.analyze."""
    shape = parse_input_shape(args.input) if args.input else None
    knobs = parse_sets(args.set)
    spec = getattr(args, "spec", None)
    if spec is not None:
        if args.name not in (None, "custom"):
            raise KnobError(f"--spec describes its own network: leave out the name '{args.name}'.")
        return "custom", shape, {**knobs, "spec": spec}
    if args.name is None:
        raise KnobError(
            "Name a family or preset (see 'python -m explorer list'), or give a custom network "
            'with --spec "conv3-64, maxpool, FC-10".'
        )
    return args.name, shape, knobs


def user_module(target: str) -> nn.Module:
    """package.module:factory -> factory(), the user's own code (the terminal only: the web app never imports it)."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr or not all(part.isidentifier() for part in module_name.split(".") + [attr]):
        raise KnobError(f"A model of your own is named package.module:factory, e.g. mymodels:make_net; got '{target}'.")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise KnobError(
            f"Cannot import '{module_name}' ({e}); run from the folder that holds it or add it to PYTHONPATH."
        ) from None
    except Exception as e:  # the user's module failed while importing: name it, no traceback
        raise KnobError(
            f"Importing '{module_name}' raised {type(e).__name__}: {str(e)[:200]}; fix that module."
        ) from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise KnobError(f"'{module_name}' has no function or class '{attr}'; name the one that builds your network.")
    try:
        model = factory()
    except Exception as e:
        raise KnobError(
            f"{target}() raised {type(e).__name__}: {str(e)[:200]}; it must build the network with no arguments."
        ) from None
    if not isinstance(model, nn.Module):
        raise KnobError(f"{target}() returned a {type(model).__name__}, not a torch.nn.Module.")
    return model


def cmd_summary(args) -> int:
    if args.name is not None and ":" in args.name:
        if args.set or getattr(args, "spec", None) is not None:
            raise KnobError("--set and --spec configure the explorer's families; leave them out for your own model.")
        if not args.input:
            raise KnobError(f"Give your model's input shape, e.g. summary {args.name} --input 3x224x224.")
        result = analyze(user_module(args.name), parse_input_shape(args.input))
    else:
        name, shape, knobs = network_arguments(args)
        result = analyze(name, shape, **knobs)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(to_text(result))
    return 0


def cmd_export(args) -> int:
    name, shape, knobs = network_arguments(args)
    export = to_pytorch(name, shape, **knobs)
    if args.output is not None:
        write(export, args.output)
    else:
        print(export.code, end="")
    return 0


def cmd_paths(args) -> int:
    result = paths_summary(args.blocks)
    if args.json:
        print(json.dumps(result))
        return 0
    n, total = result["blocks"], result["paths"]
    about = f" (about {scientific(total)})" if total >= 10**6 else ""
    print(f"{n} residual blocks: 2^{n} = {total:,} paths{about}")
    print(f"path length ~ Binomial({n}, 1/2): mean {result['mean']:g}, standard deviation {result['std']:.4g}")
    width = len(f"{max(result['distribution']):,}")
    for k, count in enumerate(result["distribution"]):
        noun = "paths" if count != 1 else "path "
        print(
            f"  length {k:>{len(str(n))}}: {count:>{width},} {noun} ({100 * count / total:.3g}%)"
            if n <= 60
            else f"  length {k}: {count} {noun.strip()}"
        )
    return 0


def _print_progress(progress) -> None:
    """One line per finished epoch, on stderr (stdout stays clean for --json)."""
    if progress.step == progress.steps:
        print(f"  {progress.text()}", file=sys.stderr, flush=True)


def cmd_experiment(args) -> int:
    if args.name == "list":
        for exp in all_experiments().values():
            print(f"{exp.name}: {exp.title}")
            for k in exp.knobs:  # as `python -m explorer list` prints a family's knobs
                values = _knob_range(k)
                print(f"    --set {k.name}=  {k.kind}, {values}, default {k.format(k.default)}. {k.help}")
            print()
        return 0
    progress = _print_progress if sys.stderr.isatty() and not args.quiet else None
    outcome = run_experiment(args.name, parse_sets(args.set), progress, args.data_dir)
    if args.json:
        print(json.dumps(outcome.result, indent=1))
    else:
        print(get_experiment(args.name).report(outcome.result))
        print(f"({'loaded from the cache' if outcome.from_cache else 'computed'} in {outcome.seconds:.1f} s)")
    return 0


def cmd_measure(args) -> int:
    name, shape, knobs = network_arguments(args)
    analysis = analyze(name, shape, **knobs)
    cost = latency.check_request(analysis, args.threads, args.cap)
    if not args.json:
        print(f"Measuring {analysis.title or analysis.name}: {cost.text()}.", file=sys.stderr, flush=True)
    m = latency.measure(name, shape, threads=args.threads, cap_s=args.cap, **knobs)
    if args.json:
        print(json.dumps(m.to_dict(), indent=1))
        return 0
    print(f"{analysis.title or analysis.name} at {'x'.join(map(str, m.input_shape))}, batch 1, on {m.machine.text()}")
    load = f"load average {m.load[0]:.2f}" if m.load else "load average unknown"
    print(f"whole network: {m.whole.text()}; {m.rate / 1e9:,.2f}G multiply-adds a second ({load})")
    if m.cuda is not None:
        print(f"whole network on {torch_device_name()}: {m.cuda.text()}")
    if m.peak_activation_bytes is not None:
        print(f"peak activation memory (torch.profiler): {m.peak_activation_bytes / 2**20:,.2f} MB")
    print(f"{'layer':44} {'kind':16} {'mult-adds':>14} {'median ms':>10} {'quartiles':>17} {'share':>7} {'G/s':>7}")
    for t in m.layers:
        rate = f"{t.rate / 1e9:7.2f}" if t.rate else f"{'':7}"
        quart = f"{t.time.low:.3f}-{t.time.high:.3f}"
        print(
            f"{t.name[:44]:44} {t.kind:16} {t.mult_adds:>14,} {t.time.median:>10.3f} {quart:>17} {t.share:>7.1%} {rate}"
        )
    print(f"{'between layers':44} {'':16} {'':>14} {m.between.median:>10.3f}")
    print(m.coherence())
    print(latency.claim_sentence(m))
    return 0


def torch_device_name() -> str:
    return latency.machine(1, "cuda").cpu


class UsageError(ExplorerError):
    """A command line argparse refuses: printed as one sentence, not argparse's usage block."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints the usage and exits; the project prints one sentence
        raise UsageError(f"{message[0].upper()}{message[1:]} (see '{self.prog} --help').")


# Options that take a value: a value that starts with '-' (--input -3x32x32) is passed on as the value, so its own
# check explains what is wrong, instead of argparse's "expected one argument".
VALUE_OPTIONS = {
    "--input": "--input",
    "--set": "--set",
    "--spec": "--spec",
    "-o": "--output",
    "--output": "--output",
    "--data-dir": "--data-dir",
}


def _join_dashed_values(argv: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg in VALUE_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-") and argv[i + 1] != "--":
            out.append(f"{VALUE_OPTIONS[arg]}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def cmd_prepare(args) -> int:
    """Every experiment of the lecture path at the lecture's settings, so each step loads in class from the cache."""
    last = [-1.0]

    def progress(fraction: float, text: str) -> None:
        if args.quiet or fraction - last[0] < 0.01 and fraction < 1:
            return
        last[0] = fraction
        print(f"[{fraction:6.1%}] {text}", file=sys.stderr, flush=True)

    done = lecture.prepare(progress, args.data_dir)
    print(lecture.prepared_report(done))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m explorer", description="Architecture Explorer from the terminal.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="families, presets and knobs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("summary", help="shape, parameter and multiply-add table of a network")
    p.add_argument("name", nargs="?", help="a family or preset (see 'list'); leave out with --spec")
    p.add_argument(
        "--spec",
        help="a custom network in the VGG paper's notation or Keras's, e.g. "
        '"conv3-64, maxpool, FC-10" (see explorer/notation.py)',
    )
    p.add_argument("--set", action="append", metavar="KNOB=VALUE", help="override a knob (repeatable)")
    p.add_argument("--input", metavar="CxHxW", help="input shape, e.g. 3x32x32 (default: the family's)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("export", help="the network as runnable PyTorch code")
    p.add_argument("name", nargs="?", help="a family or preset (see 'list'); leave out with --spec")
    p.add_argument("--spec", help='a custom network, e.g. "conv3-64, maxpool, FC-10"')
    p.add_argument("--set", action="append", metavar="KNOB=VALUE", help="override a knob (repeatable)")
    p.add_argument("--input", metavar="CxHxW", help="input shape, e.g. 3x32x32")
    p.add_argument("-o", "--output", help="write the code to this file instead of printing it")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("paths", help="paths through an unravelled residual network and their length distribution")
    p.add_argument("blocks", help=f"number of residual blocks N (1..{MAX_BLOCKS}; ResNet-110 has 54)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_paths)

    p = sub.add_parser("experiment", help="run a live experiment (trains networks; cached on disk)")
    p.add_argument("name", help="an experiment, e.g. layer-removal ('list' shows them all with their knobs)")
    p.add_argument("--set", action="append", metavar="KNOB=VALUE", help="override a knob (repeatable)")
    p.add_argument(
        "--data-dir", metavar="DIR", help="the local CIFAR-10 folder (cifar-10-batches-py), for --set dataset=cifar10"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("measure", help="measured latency of each layer and of the network, with the spread")
    p.add_argument("name", nargs="?", help="a family or preset (see 'list'); leave out with --spec")
    p.add_argument("--spec", help='a custom network, e.g. "conv3-64, maxpool, FC-10"')
    p.add_argument("--set", action="append", metavar="KNOB=VALUE", help="override a knob (repeatable)")
    p.add_argument("--input", metavar="CxHxW", help="input shape, e.g. 3x224x224 (default: the family's)")
    p.add_argument("--threads", type=int, default=1, help=f"CPU threads, 1..{latency.MAX_THREADS} (default 1)")
    p.add_argument(
        "--cap", type=float, default=latency.CAP_S, help=f"most seconds to spend (default {latency.CAP_S:g})"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_measure)
    p = sub.add_parser("prepare", help="run every experiment of the lecture path now, so that class loads them at once")
    p.add_argument("--data-dir", metavar="DIR", help="the local CIFAR-10 folder, if an experiment uses it")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_prepare)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(_join_dashed_values(list(sys.argv[1:] if argv is None else argv)))
        return args.func(args)
    except ExplorerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `python -m explorer summary resnet1202 | head`
        return 0
