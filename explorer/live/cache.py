"""The disk cache every visitor shares: trained weights and experiment results, keyed by their settings.

    model, info, from_cache = cached_model("layer-removal/residual", settings, build, fit)
    result, from_cache = cached_json("edge-quantize", settings, compute)

Files live under $EXPLORER_CACHE_DIR (default .cache/explorer in the repository). Every key hashes the
settings, CODE_VERSION and the torch version; writes are atomic renames, reads of weights use
torch.load(weights_only=True).

The cache is bounded: after every write, the least recently used entries (a hit counts as a use) are
deleted until the folder holds at most $EXPLORER_CACHE_MB megabytes. A stored result is served only when
its file says it is one (its kind, code version, settings and a digest of the result agree); anything else
(hand-edited, truncated, from older code) is recomputed and overwritten. prepare() runs once per process
and folder: it reports a cache location that is a file or not writable in one sentence, and deletes
temporary files a killed writer left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import ExplorerError
from . import settings as operator
from .training import device

# Part of every cache key: bump it when a change to the training or model code changes results,
# so that nobody is served weights or figures computed by older code.
CODE_VERSION = 2
CACHE_ENV = "EXPLORER_CACHE_DIR"
REPO = Path(__file__).resolve().parents[2]


STALE_SECONDS = 600  # a temporary file older than this has no live writer (a write takes well under a second)
_PREPARED: set[Path] = set()
_LOCK = threading.Lock()


def cache_dir() -> Path:
    """$EXPLORER_CACHE_DIR, else .cache/explorer in the repository (gitignored)."""
    return Path(os.environ.get(CACHE_ENV) or REPO / ".cache" / "explorer")


class CacheLocationError(ExplorerError, OSError):
    """The cache folder cannot be used (it is a file, or cannot be written)."""


def check_location(folder: Path | None = None) -> Path:
    """The cache folder, created if needed; CacheLocationError (one sentence) when it is a file or not writable."""
    folder = folder or cache_dir()
    fix = f"set {CACHE_ENV} to a folder this server can write"
    if folder.exists() and not folder.is_dir():
        raise CacheLocationError(f"The cache location '{folder}' is a file, not a folder; {fix}.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".probe.", suffix=".tmp")
        os.close(handle)
        os.unlink(probe)
    except OSError as e:
        raise CacheLocationError(f"The cache location '{folder}' is not writable ({e.strerror}); {fix}.") from None
    return folder


def clean_orphans(folder: Path | None = None, older_than: float = STALE_SECONDS) -> list[Path]:
    """Delete the temporary files of writes that never finished (a process killed mid-write); returns them."""
    folder = folder or cache_dir()
    cutoff = time.time() - older_than
    removed = []
    for path in folder.rglob(".*.tmp"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # another process removed it first
    return removed


def prepare() -> Path:
    """Once per process and cache folder: check the location (one sentence if unusable), remove orphans."""
    folder = cache_dir()
    with _LOCK:
        if folder not in _PREPARED:
            check_location(folder)
            clean_orphans(folder)
            _PREPARED.add(folder)
    return folder


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


def digest(result: Any) -> str:
    return hashlib.sha256(canonical_json(result).encode()).hexdigest()[:24]


def load_json(kind: str, settings: Mapping) -> dict | None:
    """The cached result for these settings, or None when there is none or the file is not a stored result.

    A file counts only when it names this kind, this CODE_VERSION and these settings, and its result is a
    non-empty dict whose digest is the one written beside it: a truncated file, `{"result": {}}` or a file
    from older code is treated as absent (recomputed and overwritten), never served. A hit marks the entry
    as recently used.
    """
    json_path, _ = _paths(kind, settings)
    try:
        document = json.loads(json_path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict):
        return None
    result = document.get("result")
    valid = (
        document.get("kind") == kind
        and document.get("code") == CODE_VERSION
        and document.get("settings") == json.loads(canonical_json(settings))
        and isinstance(result, dict)
        and result
    )
    try:
        valid = valid and document.get("digest") == digest(result)
    except (TypeError, ValueError):
        valid = False
    if not valid:
        return None
    try:
        os.utime(json_path)  # the least-recently-used order reads this time
    except OSError:
        pass
    return result


def save_json(kind: str, settings: Mapping, result: dict) -> None:
    json_path, _ = _paths(kind, settings)
    text = json.dumps(
        {
            "kind": kind,
            "settings": json.loads(canonical_json(settings)),
            "code": CODE_VERSION,
            "digest": digest(result),
            "result": result,
        },
        indent=1,
    )
    _write_atomic(json_path, lambda f: f.write(text.encode()))
    evict(keep=json_path)


def entries(folder: Path | None = None) -> list[tuple[float, int, list[Path]]]:
    """Every stored entry as (last used, bytes, its files), oldest first; an entry is the files of one key."""
    folder = folder or cache_dir()
    groups: dict[Path, list[Path]] = {}
    for path in folder.rglob("*"):
        if path.name.startswith(".") or not path.is_file():
            continue  # temporary files belong to a writer
        groups.setdefault(path.with_suffix(""), []).append(path)
    found = []
    for files in groups.values():
        try:
            stats = [f.stat() for f in files]
        except OSError:
            continue
        found.append((max(s.st_mtime for s in stats), sum(s.st_size for s in stats), files))
    return sorted(found, key=lambda e: e[0])


def evict(keep: Path | None = None, cap_mb: float | None = None) -> list[Path]:
    """Delete least recently used entries until the cache holds at most cap_mb ($EXPLORER_CACHE_MB) megabytes.

    The entry just written (keep) stays even when it alone exceeds the cap. Returns the deleted files.
    """
    cap = (cap_mb if cap_mb is not None else operator.cache_mb()) * 1e6
    with _LOCK:
        found = entries()
        total = sum(size for _, size, _ in found)
        removed = []
        for _, size, files in found:
            if total <= cap:
                break
            if keep is not None and keep.with_suffix("") == files[0].with_suffix(""):
                continue
            for f in files:
                try:
                    f.unlink()
                    removed.append(f)
                except OSError:
                    pass  # another process evicted it first
            total -= size
    return removed


def cached_json(kind: str, settings: Mapping, compute: Callable[[], dict]) -> tuple[dict, bool]:
    """(result, from_cache): the stored result for these settings, or compute() stored for next time."""
    prepare()
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
    prepare()
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
