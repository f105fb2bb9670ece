"""The analysis: one traced forward pass on the meta device -> rows and totals, their derivations and views.

trace.py     the forward pass that records every layer call and the dataflow between them
rows.py      LayerRow, Totals, Analysis: plain data read off the modules and the traced shapes
formulas.py  the lecture's pen-and-paper formulas with the numbers plugged in
analyzer.py  analyze() and build(): configuration -> analysis (cached), or -> a real network
report.py    the text table, table records, CSV and number formatting
compare.py   analyses side by side (presets across families; two networks layer by layer)
"""

from .analyzer import analyze, analyze_config, build, cache_clear, smallest_input
from .rows import Analysis, LayerRow, Totals

__all__ = ["Analysis", "LayerRow", "Totals", "analyze", "analyze_config", "build", "cache_clear", "smallest_input"]
