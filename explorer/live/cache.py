"""The disk cache every visitor shares: trained weights and experiment results, keyed by their settings.

    model, info, from_cache = cached_model("layer-removal/residual", settings, build, fit)
    result, from_cache = cached_json("edge-quantize", settings, compute)

Files live under $EXPLORER_CACHE_DIR (default .cache/explorer in the repository). Every key hashes the
settings, CODE_VERSION and the torch version; writes are atomic renames, reads of weights use
torch.load(weights_only=True).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .training import device

# Part of every cache key: bump it when a change to the training or model code changes results,
# so that nobody is served weights or figures computed by older code.
CODE_VERSION = 2
CACHE_ENV = "EXPLORER_CACHE_DIR"
REPO = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """$EXPLORER_CACHE_DIR, else .cache/explorer in the repository (gitignored)."""
    return Path(os.environ.get(CACHE_ENV) or REPO / ".cache" / "explorer")


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, tuples as lists (so equal settings hash equally)."""

    def plain(v):
        if isinstance(v, Mapping):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, (set, frozenset)):
            return sorted(plain(x) for x in v)
        if isinstance(v, Path):
            return str(v)
        if hasattr(v, "__dataclass_fields__"):
            return plain(asdict(v))
        if isinstance(v, (np.integer, np.floating)):
            return v.item()
        return v

    return json.dumps(plain(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def cache_key(kind: str, settings: Mapping) -> str:
    """A hash of every setting, the code version and the torch version."""
    text = canonical_json(
        {"kind": kind, "settings": settings, "code": CODE_VERSION, "torch": torch.__version__.split("+")[0]}
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _paths(kind: str, settings: Mapping) -> tuple[Path, Path]:
    folder = cache_dir() / kind.replace("/", os.sep)
    key = cache_key(kind, settings)
    return folder / f"{key}.json", folder / f"{key}.pt"


def _write_atomic(path: Path, write: Callable[[Any], None]) -> None:
    """Write to a temporary file in the same folder, then rename it over the target.

    A rename within one file system is atomic, so a reader (another student, another process)
    sees either no file or a complete one, never a half-written one; two writers of the same key
    write the same content and the last rename wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            write(f)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load_json(kind: str, settings: Mapping) -> dict | None:
    """The cached result for these settings, or None (also when the file is unreadable)."""
    json_path, _ = _paths(kind, settings)
    try:
        return json.loads(json_path.read_text())["result"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_json(kind: str, settings: Mapping, result: dict) -> None:
    json_path, _ = _paths(kind, settings)
    text = json.dumps(
        {"kind": kind, "settings": json.loads(canonical_json(settings)), "code": CODE_VERSION, "result": result},
        indent=1,
    )
    _write_atomic(json_path, lambda f: f.write(text.encode()))


def cached_json(kind: str, settings: Mapping, compute: Callable[[], dict]) -> tuple[dict, bool]:
    """(result, from_cache): the stored result for these settings, or compute() stored for next time."""
    result = load_json(kind, settings)
    if result is not None:
        return result, True
    result = compute()
    save_json(kind, settings, result)
    return result, False


def cached_model(
    kind: str, settings: Mapping, build: Callable[[], nn.Module], fit: Callable[[nn.Module], dict]
) -> tuple[nn.Module, dict, bool]:
    """(model, info, from_cache): trained weights for these settings from disk, or build() + fit() and store.

    The weights are a state_dict written with torch.save and read with torch.load(weights_only=True),
    which refuses anything but tensors and plain containers. info is fit()'s JSON-able summary
    (history, accuracy). The .json file is written last and marks a complete entry. build() must seed
    itself (seed_everything) when the initial weights matter.
    """
    json_path, state_path = _paths(kind, settings)
    model = build()
    info = load_json(kind, settings)
    if info is not None:
        try:
            state = torch.load(state_path, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
            model.to(device()).eval()
            return model, info, True
        except Exception:  # a missing, truncated or stale file: train again and overwrite it
            model = build()
    model.to(device())
    info = fit(model)
    model.eval()
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    _write_atomic(state_path, lambda f: torch.save(state, f))
    save_json(kind, settings, info)
    return model, info, False


def is_cached(kind: str, settings: Mapping) -> bool:
    """True when a result (and, for models, weights) is stored for these settings."""
    json_path, _ = _paths(kind, settings)
    return json_path.is_file()  # written last: it marks a complete entry
