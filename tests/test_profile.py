"""The rerun profile (EXPLORER_PROFILE=1) and the per-analysis memo behind the shared graph and table."""

import gc
import threading

from explorer import analyze, graph
from explorer.analysis import analyze_config, analyzer, cache_clear, rows
from explorer.registry import configure
from ui import profile, warm


def test_a_rerun_line_names_each_section_with_its_parts(monkeypatch):
    monkeypatch.setattr(profile, "ENABLED", True)
    profile.start()
    with profile.section("sidebar"):
        pass
    with profile.section("graph"):
        with profile.section("dot"):
            pass
        with profile.section("svg"):
            pass
    text = profile.line("explore")
    assert text.startswith("rerun explore ") and " ms | sidebar " in text
    assert text.split(" | ")[1].startswith("sidebar ") and "graph " in text and "(dot " in text and ", svg " in text
    assert profile.line("explore") is None  # a line is reported once


def test_off_the_profile_records_nothing(monkeypatch):
    monkeypatch.setattr(profile, "ENABLED", False)
    profile.start()
    with profile.section("sidebar"):
        pass
    assert profile.line("explore") is None


def test_graph_layouts_and_dot_are_kept_once_per_analysis():
    a = analyze("resnet20")
    assert graph.layout(a, 2, True) is graph.layout(a, 2, True)
    assert graph.to_dot(a, 2, True) is graph.to_dot(a, 2, True)
    assert graph.layout(a, 2, False) is not graph.layout(a, 2, True)

    # what is kept is what would be computed afresh
    def nodes(lay):
        return [(n.id, n.label, n.repeat) for n in lay.nodes]

    assert nodes(graph.layout_of(a, 2, True)) == nodes(graph.layout(a, 2))
    assert graph.to_dot(a, 2, True, row_heat={0: 1.0}) != graph.to_dot(a, 2, True)  # colours are never kept


def test_the_memo_goes_with_its_analysis():
    a = analyze_config(configure("resnet20", (3, 32, 32)))
    graph.to_dot(a)
    key = id(a)
    assert key in rows._MEMOS
    del a
    cache_clear()  # the analysis cache let go of it: so does the memo (bounded by that cache)
    gc.collect()
    assert key not in rows._MEMOS


def test_the_analysis_cache_is_bounded_in_entries_and_rows(monkeypatch):
    cache_clear()
    monkeypatch.setattr(analyzer, "CACHE_ROWS", 500)
    monkeypatch.setattr(analyzer, "CACHE_SIZE", 3)
    kept = [analyze("resnet20", (3, side, side)) for side in (32, 40, 48, 56)]
    assert len(analyzer._CACHE) == 3 and analyze("resnet20", (3, 56, 56)) is kept[-1]  # the oldest went
    assert analyzer._CACHE_ROWS[0] == sum(len(a.rows) for a in analyzer._CACHE.values()) <= 500
    big = analyze("densenet121")  # 431 rows: the others make room
    assert analyzer._CACHE_ROWS[0] <= 500 and next(reversed(analyzer._CACHE.values())) is big
    cache_clear()
    assert analyzer._CACHE_ROWS[0] == 0


def test_sessions_asking_for_the_same_network_at_once_share_one_analysis(monkeypatch):
    warm.up()  # an AppTest earlier in this process may have started the server's warm-up, which analyses DenseNet too
    cache_clear()
    calls, start = [], threading.Barrier(4)
    real = analyzer._analyze

    def counted(config, name):
        if name == "densenet121":  # another test's AppTest thread may still analyse its own network here
            calls.append(name)
        return real(config, name)

    monkeypatch.setattr(analyzer, "_analyze", counted)
    results = []

    def student():
        start.wait()
        results.append(analyze("densenet121"))

    threads = [threading.Thread(target=student) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["densenet121"] and len(results) == 4 and all(r is results[0] for r in results)
    assert not [key for key in analyzer._COMPUTING if key[0].preset == "densenet121"]  # the first asker's lock is gone
