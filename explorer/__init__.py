"""Architecture Explorer's core: families, analysis, graphs and experiments. Never imports streamlit or plotly.

The one API for pages, the CLI and the tests:

    explorer.analyze("vgg16", (3, 224, 224))   # rows and totals of a family or preset, built on the meta device
    explorer.build("resnet20", (3, 32, 32))     # the same network with real weights
    explorer.configure("resnet", depth=57)      # raises KnobError: one sentence naming the cause and the fix
"""

from . import families  # noqa: F401  (importing the package registers every family)
from .analysis import Analysis, LayerRow, Totals, analyze, build
from .errors import ExperimentError, ExplorerError, KnobError, LimitError, ShapeError, SpecError, UnknownNameError
from .registry import Config, Family, Knob, Preset, all_families, all_presets, configure, get_family, lookup

__all__ = [
    "Analysis",
    "LayerRow",
    "Totals",
    "analyze",
    "build",
    "configure",
    "all_families",
    "all_presets",
    "get_family",
    "lookup",
    "Config",
    "Family",
    "Knob",
    "Preset",
    "ExplorerError",
    "KnobError",
    "ShapeError",
    "SpecError",
    "LimitError",
    "UnknownNameError",
    "ExperimentError",
]
