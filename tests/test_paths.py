"""Unravelled residual paths: exact counts, the lecture's expressions, the graph, and `python -m explorer paths`."""

import json
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.cli import main
from explorer.errors import KnobError
from explorer.families import resnet_paths as paths
from explorer.reference import VEIT_2016
from ui import graphs

ROOT = Path(__file__).resolve().parent.parent
# The lecture's slides, "Unravelling Residual Neural Networks" and "robustness to layer removal"
LECTURE_Y3 = "y_3 = f_3(f_2(f_1(y_0) + y_0) + f_1(y_0) + y_0) + f_2(f_1(y_0) + y_0) + f_1(y_0) + y_0"
LECTURE_Y3_WITHOUT_F2 = "y_3 = f_3(f_1(y_0) + y_0) + f_1(y_0) + y_0"


def pascal_row(n: int) -> list[int]:
    """Row n of Pascal's triangle by additions only: an independent check of the binomial counts."""
    row = [1]
    for _ in range(n):
        row = [a + b for a, b in zip([0] + row, row + [0])]
    return row


@given(st.integers(1, paths.MAX_BLOCKS))
def test_distribution_is_the_exact_binomial_and_sums_to_2_to_the_n(n):
    counts = paths.length_distribution(n)
    assert all(type(c) is int for c in counts)
    assert sum(counts) == paths.path_count(n) == 2**n
    assert counts == pascal_row(n)


@given(st.integers(1, 60), st.data())
def test_removing_blocks_leaves_the_paths_that_skip_them(n, data):
    removed = data.draw(st.sets(st.integers(1, n), max_size=n))
    left = paths.length_distribution(n, removed)
    assert sum(left) == 2 ** (n - len(removed))
    assert left[: n - len(removed) + 1] == pascal_row(n - len(removed))


def test_resnet_110_matches_veit_et_al():
    s = paths.summary(VEIT_2016["resnet110_blocks"])
    assert s["paths"] == 2**54 == 18_014_398_509_481_984
    assert f"{s['paths']:.1e}" == f"{VEIT_2016['resnet110_paths']:.1e}"  # "about 1.8e16"
    assert s["mean"] == VEIT_2016["resnet110_mean"]
    assert round(s["std"], 2) == VEIT_2016["resnet110_std"]
    share = paths.share_between(54, VEIT_2016["effective_low"], VEIT_2016["effective_high"])
    assert isinstance(share, Fraction) and round(float(share), 4) == VEIT_2016["effective_path_share"]
    assert paths.scientific(s["paths"]) == "1.80 × 10¹⁶"


def test_shares_are_exact_fractions():
    assert paths.share_between(3, 1, 2) == Fraction(6, 8)
    assert paths.share_between(3, 2, 1) == Fraction(6, 8)  # either order
    assert paths.share_between(1000, 0, 1000) == 1


def test_the_expression_for_three_blocks_is_the_lecture_s():
    assert paths.unravelled(3) == LECTURE_Y3
    assert paths.unravelled(3, removed={2}) == LECTURE_Y3_WITHOUT_F2
    assert paths.unravelled(1) == "y_1 = f_1(y_0) + y_0"
    assert paths.plain_expression(3) == "y_3 = f_3(f_2(f_1(y_0)))"
    assert "\\cancel{f_2}" in paths.plain_expression(3, {2})


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_every_path_ends_in_one_y0(n):
    assert paths.unravelled(n).count("y_0") == 2**n
    for i in range(1, n + 1):
        assert paths.unravelled(n, {i}).count("y_0") == 2 ** (n - 1)
        assert f"f_{i}(" not in paths.unravelled(n, {i})
    latex = paths.unravelled_latex(n)
    assert latex.count("y_0") == 2**n and ("aligned" in latex) == (n == 4)


def test_limits_and_bad_blocks_are_one_sentence():
    with pytest.raises(KnobError, match="between 1 and 4"):
        paths.unravelled(5)
    with pytest.raises(KnobError, match="between 1 and 5"):
        graphs.unravelled_dot(6)
    with pytest.raises(KnobError, match="no block 4"):
        paths.unravelled(3, {4})
    for bad in (0, -2, 1001, "x", 2.5):
        with pytest.raises(KnobError):
            paths.summary(bad)


def _edges_into_sum(dot):
    return re.findall(r"^\s*(\S+) -> sum( \[[^\]]*\])?$", dot, re.MULTILINE)


@pytest.mark.parametrize("n", [1, 3, 5])
def test_the_graph_draws_every_path(n):
    dot = graphs.unravelled_dot(n)
    branch_nodes = re.findall(r"^\s*(f[\d_]+) \[label=", dot, re.MULTILINE)
    assert len(branch_nodes) == 2**n - 1
    assert len(_edges_into_sum(dot)) == 2**n
    assert f"{2**n} of {2**n} paths" in dot


def test_removing_a_block_greys_out_half_of_the_paths_and_breaks_the_plain_one():
    dot = graphs.unravelled_dot(4, {2})
    edges = _edges_into_sum(dot)
    dashed = [e for e in edges if "dashed" in e[1]]
    assert len(edges) == 16 and len(dashed) == 8 and "8 of 16 paths" in dot
    plain = graphs.plain_dot(4, {2})
    assert "✕" in plain and "0 of 1 path" in plain and "1 of 1 path" in graphs.plain_dot(4)


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_cli_paths_json_has_exact_integers():
    out = run("paths", "54", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert set(d) == {"blocks", "paths", "distribution", "mean", "std"}
    assert d["blocks"] == 54 and d["paths"] == 2**54 and d["distribution"] == pascal_row(54)
    assert d["mean"] == 27 and abs(d["std"] - 3.674) < 1e-3
    big = json.loads(run("paths", "1000", "--json").stdout)
    assert big["paths"] == 2**1000 and sum(big["distribution"]) == 2**1000


def test_cli_paths_text_and_errors(capsys):

    assert main(["paths", "3"]) == 0
    out = capsys.readouterr().out
    assert "2^3 = 8 paths" in out and "length 1: 3 paths (37.5%)" in out
    for bad in ("0", "abc", "1001"):
        assert main(["paths", bad]) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and "residual blocks" in err
