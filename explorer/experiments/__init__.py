"""Live experiments on real trained networks; importing this package registers them in display order.

Each module declares its knobs and calls register(Experiment(...)); see base.py for the contract and
docs/DEVELOPING.md for how to add one (the CLI's `experiment` command and the pages pick it up).
"""
from .base import Experiment, Outcome, all_experiments, cached_outcome, get_experiment, register, run_experiment
from . import layer_removal, path_gradients  # noqa: F401,E402  (display order; add yours here)
from . import transfer_cut, edge  # noqa: F401,E402  transfer learning and edge computing (issue 6)

__all__ = ["Experiment", "Outcome", "all_experiments", "cached_outcome", "get_experiment", "register",
           "run_experiment"]
