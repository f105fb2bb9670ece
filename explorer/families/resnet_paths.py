"""ResNet's idea, unravelled (Veit, Wilber and Belongie 2016, Sec. 3), exactly.

y_i = f_i(y_{i-1}) + y_{i-1} unrolls into a sum over every subset of the blocks: a path through N blocks
either enters block i's residual branch f_i or takes its skip, so there are 2^N paths, and the number
of paths through exactly k branches is C(N, k): path lengths follow Binomial(N, 1/2). All counts here
are exact Python integers (ResNet-110 has 54 blocks: 2^54 paths).
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..errors import ExplorerError, KnobError
from ..registry import get_family, shorten, whole

MAX_BLOCKS = 1000  # 2^1000 has 302 digits; ResNet-1202, the deepest published, has 600 blocks
MAX_PAGE_BLOCKS = 600  # the page's slider reaches ResNet-1202
MAX_EXPRESSION_BLOCKS = 4  # y_4 already has 16 terms, as the lecture writes them
MAX_GRAPH_BLOCKS = 5  # 32 paths, 31 branch nodes


def check_blocks(blocks, limit: int = MAX_BLOCKS) -> int:
    try:
        if isinstance(blocks, bool):
            raise TypeError(blocks)
        n = whole(blocks) if isinstance(blocks, str) else int(blocks)  # '５' and 5,000 digits are refused
    except (TypeError, ValueError):
        raise KnobError(f"The number of residual blocks must be a whole number; got {shorten(blocks)}.") from None
    if isinstance(blocks, float) and not float(blocks).is_integer():
        raise KnobError(f"The number of residual blocks must be a whole number; got {blocks!r}.")
    if not 1 <= n <= limit:
        raise KnobError(f"The number of residual blocks must be between 1 and {limit}; got {n}.")
    return n


def residual_blocks(family: str, knobs: dict) -> int | None:
    """N of a configured ResNet (the sum of its stages' blocks), or None for another family or bad knobs."""
    if family != "resnet":
        return None
    try:
        return sum(get_family("resnet").resolve(knobs)["layers"])
    except ExplorerError:
        return None


def check_removed(blocks: int, removed) -> frozenset[int]:
    """Removed blocks are numbered 1..N, as the lecture's f_1 .. f_N."""
    chosen = frozenset(int(i) for i in (removed or ()))
    bad = sorted(i for i in chosen if not 1 <= i <= blocks)
    if bad:
        raise KnobError(f"Blocks are numbered 1 to {blocks}; there is no block {bad[0]} to remove.")
    return chosen


def path_count(blocks: int) -> int:
    """2^N: each block is entered or skipped."""
    return 2 ** check_blocks(blocks)


def length_distribution(blocks: int, removed=()) -> list[int]:
    """Number of paths of each length 0..N; with removed blocks, of the paths that avoid them all.

    A path of length k through N blocks picks k branches: C(N, k). Removing r blocks leaves the paths
    that pick none of them, C(N - r, k) of length k: 2^N paths become 2^(N - r).
    """
    n = check_blocks(blocks)
    left = n - len(check_removed(n, removed))
    return [math.comb(left, k) for k in range(n + 1)]


def mean_length(blocks: int) -> float:
    return check_blocks(blocks) / 2  # Binomial(N, 1/2): N p


def std_length(blocks: int) -> float:
    return math.sqrt(check_blocks(blocks)) / 2  # sqrt(N p (1 - p))


def share_between(blocks: int, low: int, high: int) -> Fraction:
    """The exact share of paths whose length is in [low, high]."""
    n = check_blocks(blocks)
    if low > high:
        low, high = high, low
    low, high = max(0, int(low)), min(n, int(high))
    return Fraction(sum(math.comb(n, k) for k in range(low, high + 1)), 2**n)


SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def scientific(number: int | float, digits: int = 3) -> str:
    """1.80 × 10¹⁶: a large number with `digits` significant digits; exact integers never go through a float."""
    if isinstance(number, float):
        mantissa, exponent = f"{number:.{digits - 1}e}".split("e")
        return f"{mantissa} × 10{str(int(exponent)).translate(SUPERSCRIPT)}"
    text = str(number)
    if len(text) <= digits:
        return text
    leading = round(int(text[: digits + 1]) / 10)  # the first digits + 1 digits, rounded to `digits`
    exponent = len(text) - 1
    if leading >= 10**digits:  # 9995 -> 1000: one more digit
        leading, exponent = leading // 10, exponent + 1
    mantissa = str(leading)
    return f"{mantissa[0]}.{mantissa[1:]} × 10{str(exponent).translate(SUPERSCRIPT)}"


def summary(blocks: int) -> dict:
    """What `python -m explorer paths N --json` prints."""
    n = check_blocks(blocks)
    return {
        "blocks": n,
        "paths": path_count(n),
        "distribution": length_distribution(n),
        "mean": mean_length(n),
        "std": std_length(n),
    }


# -- the unravelled expression --------------------------------------------------------------------------
def _terms(block: int, removed: frozenset[int]) -> list[str]:
    """The terms of y_block: y_i = f_i(y_{i-1}) + y_{i-1}, written out; a removed f_i contributes nothing."""
    if block == 0:
        return ["y_0"]
    below = _terms(block - 1, removed)
    if block in removed:
        return below
    return [f"f_{block}({' + '.join(below)})"] + below


def unravelled(blocks: int, removed=()) -> str:
    """y_N fully unravelled, as the lecture writes it: y_3 = f_3(f_2(f_1(y_0) + y_0) + ...) + ... + y_0."""
    n = check_blocks(blocks, MAX_EXPRESSION_BLOCKS)
    return f"y_{n} = " + " + ".join(_terms(n, check_removed(n, removed)))


def unravelled_latex(blocks: int, removed=()) -> str:
    """LaTeX of the unravelled y_N, one top-level term per line from N = 4 on (it is wide)."""
    n = check_blocks(blocks, MAX_EXPRESSION_BLOCKS)
    terms = _terms(n, check_removed(n, removed))
    if n < 4:
        return f"y_{n} = " + " + ".join(terms)
    body = " \\\\ & + ".join(terms)
    return f"\\begin{{aligned}} y_{n} = {{}} & {body} \\end{{aligned}}"


def plain_expression(blocks: int, removed=()) -> str:
    """The plain network's single path, y_N = f_N(...f_1(y_0)...), with a removed f_i struck out (LaTeX)."""
    n = check_blocks(blocks, MAX_EXPRESSION_BLOCKS)
    gone = check_removed(n, removed)
    inner = "y_0"
    for i in range(1, n + 1):
        inner = f"\\cancel{{f_{i}}}({inner})" if i in gone else f"f_{i}({inner})"
    return f"y_{n} = {inner}"
