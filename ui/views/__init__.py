"""Family-specific views ("The idea" tab of the Explore page): one module per family.

A module here defines FAMILY (a registered family name) and render(selection, analysis) -> None,
which draws the view that makes the family's idea visible (the Inception module, drop-path, ...).
Modules are discovered automatically: adding a file is enough.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil


@functools.cache  # the package's files do not change while the app runs: list them once, not on every rerun
def views() -> dict:
    """family name -> render function, for every module in this package."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        family = getattr(module, "FAMILY", None)
        if family:
            found[family] = module.render
    return found
