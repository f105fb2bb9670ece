"""The shared disk cache stays bounded and honest: LRU eviction, no orphans, bad files recomputed, bad locations."""

import json
import os
import time

import pytest
import torch
from torch import nn

from explorer.errors import ExplorerError
from explorer.experiments import run_experiment
from explorer.live import cache as disk
from explorer.live import settings as operator
from helpers import run_cli


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(disk.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _store(name: str, kilobytes: int, age: float) -> None:
    disk.save_json("bounds", {"name": name}, {"payload": "x" * (kilobytes * 1000)})
    path, _ = disk._paths("bounds", {"name": name})
    past = time.time() - age
    os.utime(path, (past, past))


def test_beyond_the_cap_the_least_recently_used_entries_go_first(monkeypatch):
    monkeypatch.setenv(operator.CACHE_MB_ENV, "1000")
    for i, age in enumerate([400, 300, 200, 100]):
        _store(f"e{i}", 100, age)  # e0 is the oldest
    assert disk.load_json("bounds", {"name": "e0"}) is not None  # reading e0 makes it the most recent
    removed = disk.evict(cap_mb=0.25)  # room for two entries of 100 kB
    names = {p.stem for p in removed}
    assert names == {disk.cache_key("bounds", {"name": n}) for n in ("e1", "e2")}
    assert disk.load_json("bounds", {"name": "e0"}) and disk.load_json("bounds", {"name": "e3"})
    assert sum(size for _, size, _ in disk.entries()) <= 0.25e6


def test_every_write_enforces_the_operators_cap(monkeypatch):
    monkeypatch.setenv(operator.CACHE_MB_ENV, "2.5")
    for i in range(5):
        _store(f"w{i}", 1000, 50 - i)
    kept = [f for _, _, files in disk.entries() for f in files]
    assert len(kept) == 2 and disk.load_json("bounds", {"name": "w4"}) is not None  # the newest stays


def test_a_model_entry_is_evicted_with_its_weights(monkeypatch):
    monkeypatch.setenv(operator.CACHE_MB_ENV, "1000")
    disk.cached_model("bounds/net", {"a": 1}, lambda: nn.Linear(200, 200), lambda m: {"ok": 1})
    json_path, state_path = disk._paths("bounds/net", {"a": 1})
    os.utime(json_path, (0, 0))
    os.utime(state_path, (0, 0))
    _store("after", 1, 0)
    disk.evict(cap_mb=0.01)
    assert not json_path.exists() and not state_path.exists()


def test_stale_temporary_files_of_a_killed_writer_are_removed_at_start(own_cache):
    folder = own_cache / "experiments" / "x"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".abc.json.123.tmp", folder / ".def.pt.456.tmp"
    stale.write_text("half a file")
    fresh.write_text("being written by another process")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    disk._PREPARED.discard(own_cache)
    disk.prepare()
    assert not stale.exists() and fresh.exists()
    assert disk.entries() == []  # temporary files never count as entries


def test_an_interrupted_write_leaves_no_result_file_and_the_next_run_computes(own_cache):
    def interrupted(f):
        f.write(b"{half")
        raise KeyboardInterrupt

    path, _ = disk._paths("bounds", {"k": 1})
    with pytest.raises(KeyboardInterrupt):
        disk._write_atomic(path, interrupted)
    assert not path.exists() and not list(own_cache.rglob("*.tmp"))
    result, hit = disk.cached_json("bounds", {"k": 1}, lambda: {"whole": 1})
    assert not hit and disk.load_json("bounds", {"k": 1}) == {"whole": 1}


@pytest.mark.parametrize(
    "content",
    [
        '{"result": {}}',  # valid JSON, not a result
        '{"result": {"residual": 1}}',  # no kind, version or digest
        '{"kind": "experiments/layer-removal", "code": 1, "result": {"residual": {}}}',  # older code
        '{"kind": "experiments/layer-removal", "code": 2, "settings": {}, "di',  # truncated
        "[1, 2, 3]",
        "\x00\xff",
    ],
)
def test_a_cache_file_that_is_not_a_stored_result_is_recomputed(content):
    settings = {"a": 1}
    path, _ = disk._paths("experiments/layer-removal", settings)
    path.parent.mkdir(parents=True)
    path.write_text(content, errors="surrogateescape") if content.isascii() else path.write_bytes(content.encode())
    assert disk.load_json("experiments/layer-removal", settings) is None
    result, hit = disk.cached_json("experiments/layer-removal", settings, lambda: {"fresh": True})
    assert (result, hit) == ({"fresh": True}, False)
    assert disk.load_json("experiments/layer-removal", settings) == {"fresh": True}  # overwritten, served now


def test_an_edited_result_is_not_served(own_cache):
    disk.save_json("bounds", {"n": 1}, {"accuracy": 0.5})
    path, _ = disk._paths("bounds", {"n": 1})
    document = json.loads(path.read_text())
    document["result"]["accuracy"] = 0.99
    path.write_text(json.dumps(document))
    assert disk.load_json("bounds", {"n": 1}) is None


def test_truncated_weights_are_trained_again():
    calls = []

    def fit(model):
        calls.append(1)
        return {"ok": 1}

    disk.cached_model("bounds/w", {"a": 1}, lambda: nn.Linear(3, 3), fit)
    _, state_path = disk._paths("bounds/w", {"a": 1})
    state_path.write_bytes(state_path.read_bytes()[:40])
    _, _, hit = disk.cached_model("bounds/w", {"a": 1}, lambda: nn.Linear(3, 3), fit)
    assert not hit and len(calls) == 2
    torch.load(state_path, weights_only=True)  # rewritten whole


def test_a_cache_location_that_is_a_file_or_read_only_is_one_sentence(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv(disk.CACHE_ENV, str(blocker))
    with pytest.raises(ExplorerError, match="is a file, not a folder; set EXPLORER_CACHE_DIR"):
        run_experiment("layer-removal")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        monkeypatch.setenv(disk.CACHE_ENV, str(locked))
        with pytest.raises(ExplorerError, match="is not writable"):
            disk.check_location()


def test_the_cli_reports_an_unusable_cache_in_one_line_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("experiment", "layer-removal", cache=blocker)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "is a file, not a folder" in result.stderr
