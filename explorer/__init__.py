"""Architecture Explorer's core: families, analysis, graphs and experiments. Never imports streamlit."""
from .analysis import Analysis, LayerRow, Totals, analyze
from .errors import (ExperimentError, ExplorerError, KnobError, LimitError, ShapeError, SpecError,
                     UnknownNameError)
from .models import build
from .registry import Config, Family, Knob, Preset, configure, all_families, get_family, lookup, all_presets

__all__ = [
    "Analysis", "LayerRow", "Totals", "analyze", "build", "configure", "all_families", "all_presets", "get_family",
    "lookup", "Config", "Family", "Knob", "Preset", "ExplorerError", "KnobError", "ShapeError", "SpecError",
    "LimitError", "UnknownNameError", "ExperimentError",
]
