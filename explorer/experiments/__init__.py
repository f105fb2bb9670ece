"""Live experiments on real trained networks; importing this package registers them in display order.

Each module declares its knobs and calls register(Experiment(...)); see base.py for the contract and
docs/DEVELOPING.md for how to add one (the CLI's `experiment` command and the pages pick it up).
"""

from .base import Experiment, Outcome, all_experiments, cached_outcome, get_experiment, register, run_experiment

# isort: off
# Registered in import order, which is the lecture's: ResNet, transfer learning, edge computing.
from . import layer_removal, path_gradients, transfer_cut  # noqa: F401
from . import quantize, prune, truncate, distill  # noqa: F401
# isort: on

__all__ = ["Experiment", "Outcome", "all_experiments", "cached_outcome", "get_experiment", "register", "run_experiment"]
