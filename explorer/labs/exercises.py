"""Pen-and-paper exercises: a small network and an input, generated from a seed; answers checked against PyTorch.

Seed 0 is the lecture's own "Try yourself" (32x32x3, conv 6@5x5, pool 2/2, conv 16@5x5, pool 2/2). Any other
seed draws a network at a difficulty level, so a teacher can give the whole class one exercise by its link.
An exercise is written in the custom notation (explorer/spec.py) and its answers are what explorer.analyze
measures on the real PyTorch layers: nothing here computes an answer by itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..analysis import formulas
from ..analysis.analyzer import analyze
from ..errors import AnswerError, KnobError
from ..registry import shorten

MAX_SEED = 999_999
ORDERS = {"HWC": "H × W × C (the lecture, Keras)", "CHW": "C × H × W (PyTorch)"}


@dataclass(frozen=True)
class Level:
    title: str
    summary: str


LEVELS = {
    1: Level(
        "The lecture's layers", "Convolutions with stride 1 and no padding, 2×2 max pools with stride 2, square inputs."
    ),
    2: Level(
        "Padding and stride", "Convolutions with padding P and stride S, pools of 2 or 3; every division is exact."
    ),
    3: Level(
        "1×1 convolutions and dense layers", "Padding and stride, a 1×1 convolution, then Flatten and dense layers."
    ),
    4: Level(
        "Non-square inputs and rounding",
        "Height ≠ width, strides that do not divide (PyTorch floors), "
        "average pools, depthwise convolutions, dense layers.",
    ),
}

# The lecture, Module 1, "Try yourself": the first conv is worked on the slides, the rest is the exercise.
LECTURE = ((3, 32, 32), ("conv", 6, 5, 1, 0), ("maxpool", 2, 2), ("conv", 16, 5, 1, 0), ("maxpool", 2, 2))


@dataclass(frozen=True)
class Exercise:
    seed: int
    level: int
    input_shape: tuple  # (C, H, W)
    layers: tuple  # ("conv", K, F, S, P), ("dwconv", F, S, P), ("maxpool"|"avgpool", F, S), ("flatten",), ("dense", n)

    @property
    def spec(self) -> str:
        """The network in the custom notation: what explorer.analyze('custom', spec=...) builds."""
        return "\n".join(_spec_line(layer) for layer in self.layers)

    @property
    def title(self) -> str:
        return "The lecture's exercise" if self.seed == 0 else f"Exercise {self.seed} ({LEVELS[self.level].title})"

    def descriptions(self) -> list[str]:
        return [describe(layer) for layer in self.layers]

    def analysis(self):
        result = analyze("custom", self.input_shape, spec=self.spec)
        assert len(result.rows) == len(self.layers), "one row per exercise layer"
        return result


def exercise(seed: int = 0, level: int = 1) -> Exercise:
    """Seed 0: the lecture's exercise. Any other seed: a network drawn at the level (the same one every time)."""
    seed, level = _checked(seed, level)
    if seed == 0:
        return Exercise(0, level, LECTURE[0], LECTURE[1:])
    rng = random.Random(f"exercise-{level}-{seed}")
    for _ in range(200):  # draws that collapse the input are thrown away
        drawn = _draw(rng, level)
        if drawn is not None:
            return Exercise(seed, level, *drawn)
    raise AssertionError(f"no exercise found for seed {seed}, level {level}")  # never reached: tested for all


def _checked(seed, level) -> tuple[int, int]:
    if seed is None or seed == "":  # an emptied box
        raise KnobError(
            f"An exercise is a seed from 0 to {MAX_SEED:,} and a level from 1 to {len(LEVELS)}; the seed is empty: "
            "type one, or press New exercise."
        )
    for value in (seed, level):
        if isinstance(value, float) and not value.is_integer():  # 12.5 is not exercise 12
            raise KnobError(
                f"An exercise is a seed from 0 to {MAX_SEED:,} and a level from 1 to {len(LEVELS)}, whole numbers; "
                f"got seed {shorten(seed)}, level {shorten(level)}."
            )
    try:
        seed, level = int(seed), int(level)
    except (TypeError, ValueError, OverflowError):
        raise KnobError(
            f"An exercise is a seed from 0 to {MAX_SEED:,} and a level from 1 to {len(LEVELS)}; "
            f"got seed {shorten(seed)}, level {shorten(level)}."
        ) from None
    if not 0 <= seed <= MAX_SEED or level not in LEVELS:
        raise KnobError(
            f"An exercise is a seed from 0 to {MAX_SEED:,} and a level from 1 to {len(LEVELS)}; "
            f"got seed {seed}, level {level}."
        )
    return seed, level


def random_seed(rng: random.Random | None = None) -> int:
    return (rng or random.Random()).randint(1, MAX_SEED)


# -- drawing a network ---------------------------------------------------------------------------


def _draw(rng: random.Random, level: int):
    channels = rng.choice((1, 3))
    if level == 1:
        side = rng.choice((28, 32, 36, 40, 44, 48, 52, 56, 64))
        h = w = side
        plan = ["conv", "maxpool", "conv", "maxpool"]
    elif level == 2:
        h = w = rng.choice((24, 28, 32, 40, 48, 56, 64, 96))
        plan = rng.choice(
            (
                ["conv", "pool", "conv", "pool"],
                ["conv", "conv", "pool", "conv"],
                ["conv", "pool", "conv", "conv", "pool"],
            )
        )
    elif level == 3:
        h = w = rng.choice((28, 32, 40, 48, 64))
        plan = ["conv", "pool", "conv1", "conv", "pool", "flatten", "dense"] + (["dense"] if rng.random() < 0.6 else [])
    else:
        h, w = rng.sample((24, 28, 30, 32, 36, 40, 45, 48, 50, 64), 2)
        plan = [
            "conv",
            rng.choice(("maxpool", "avgpool")),
            "dwconv",
            "conv1",
            rng.choice(("maxpool", "avgpool")),
            "flatten",
            "dense",
        ]
    layers, shape = [], (channels, h, w)
    exact = level < 4
    for step in plan:
        layer = _draw_layer(rng, step, shape, level, exact)
        if layer is None:
            return None
        shape = _apply(layer, shape)
        if len(shape) == 3 and min(shape[1:]) < 1:
            return None
        layers.append(layer)
    if level == 4 and all(_divides(layer, s) for layer, s in _with_inputs(layers, (channels, h, w))):
        return None  # level 4 is about rounding: at least one division must not be exact
    return (channels, h, w), tuple(layers)


def _draw_layer(rng, step, shape, level, exact):
    c, h, w = shape if len(shape) == 3 else (shape[0], 0, 0)
    kernels = (4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64)
    if step == "flatten":
        return ("flatten",)
    if step == "dense":  # narrower than what comes in, as classifiers are
        options = [n for n in (10, 32, 64, 84, 100, 120, 128, 256) if n < shape[0]]
        return ("dense", rng.choice(options)) if options else None
    if step == "conv1":
        return ("conv", rng.choice(kernels), 1, 1, 0)
    if step in ("conv", "dwconv"):
        if level == 1:
            options = [(F, 1, 0) for F in (3, 5) if (h - F + 1) % 2 == 0 and h - F + 1 >= 4]
        else:
            options = [
                (F, S, P)
                for F in (1, 3, 5, 7)
                for S in ((1, 2) if level < 4 else (1, 2, 3))
                for P in range(0, F // 2 + 2)
                if h + 2 * P >= F
                and w + 2 * P >= F
                and (not exact or ((h - F + 2 * P) % S == 0 and (w - F + 2 * P) % S == 0))
                and (F > 1 or P == 0)
            ]
        if not options:
            return None
        F, S, P = rng.choice(options)
        return ("conv", rng.choice(kernels), F, S, P) if step == "conv" else ("dwconv", F, S, P)
    kind = "maxpool" if step in ("pool", "maxpool") else step
    options = (
        [(2, 2)]
        if level == 1
        else [
            (F, S)
            for F, S in ((2, 2), (3, 2), (3, 3), (4, 4))
            if h >= F and w >= F and (not exact or ((h - F) % S == 0 and (w - F) % S == 0))
        ]
    )
    if not options:
        return None
    F, S = rng.choice(options)
    return (kind, F, S)


def _apply(layer, shape):
    kind = layer[0]
    if kind == "flatten":
        return (shape[0] * shape[1] * shape[2],)
    if kind == "dense":
        return (layer[1],)
    c, h, w = shape
    if kind == "conv":
        _, K, F, S, P = layer
        return (K, formulas.conv_output_side(h, F, S, P), formulas.conv_output_side(w, F, S, P))
    if kind == "dwconv":
        _, F, S, P = layer
        return (c, formulas.conv_output_side(h, F, S, P), formulas.conv_output_side(w, F, S, P))
    _, F, S = layer
    return (c, formulas.pool_output_side(h, F, S), formulas.pool_output_side(w, F, S))


def _with_inputs(layers, shape):
    for layer in layers:
        yield layer, shape
        shape = _apply(layer, shape)


def _divides(layer, shape) -> bool:
    if layer[0] in ("flatten", "dense"):
        return True
    F, S, P = (
        (layer[2], layer[3], layer[4])
        if layer[0] == "conv"
        else (layer[1], layer[2], layer[3])
        if layer[0] == "dwconv"
        else (layer[1], layer[2], 0)
    )
    return all((side - F + 2 * P) % S == 0 for side in shape[1:])


def _spec_line(layer) -> str:
    kind = layer[0]
    if kind == "conv":
        _, K, F, S, P = layer
        return f"Conv2D({K}, {F}, strides={S}, padding={P})"
    if kind == "dwconv":
        _, F, S, P = layer
        return f"DepthwiseConv2D({F}, strides={S}, padding={P})"
    if kind in ("maxpool", "avgpool"):
        _, F, S = layer
        return f"{'MaxPooling2D' if kind == 'maxpool' else 'AveragePooling2D'}({F}, strides={S})"
    if kind == "flatten":
        return "Flatten()"
    return f"Dense({layer[1]})"


def describe(layer) -> str:
    """The layer in the lecture's words."""
    kind = layer[0]
    pad = lambda P: "no padding" if P == 0 else f"padding {P}"
    if kind == "conv":
        _, K, F, S, P = layer
        return f"Convolution: {K} kernels, receptive field {F}×{F}, stride {S}, {pad(P)}"
    if kind == "dwconv":
        _, F, S, P = layer
        return f"Depthwise convolution: one {F}×{F} kernel per input channel, stride {S}, {pad(P)}"
    if kind in ("maxpool", "avgpool"):
        _, F, S = layer
        return f"{'Max' if kind == 'maxpool' else 'Average'} pooling: receptive field {F}×{F}, stride {S}"
    if kind == "flatten":
        return "Flatten"
    return f"Dense (fully connected): {layer[1]} units"


# -- answers ------------------------------------------------------------------------------------

_DIGITS = "0123456789"  # str.isdigit() also accepts '²' and other scripts' digits, which int() refuses
_SEPARATORS = "x×X*,;"
MAX_DIGITS = 15


def _numbers(text: str, thousands: bool):
    """(value, column) of each whole number in text; AnswerError at the first character that is not one."""
    if not isinstance(text, str):
        raise AnswerError("the answer must be text", 1)
    numbers, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _DIGITS:
            j = i
            while j < n and (text[j] in _DIGITS or (thousands and text[j] in ",_' " and _group_follows(text, j))):
                j += 1
            if thousands and j < n and text[j] in ",_'":
                raise AnswerError(f"digits are grouped by three after '{text[j]}', as in 2{text[j]}416", j + 1, text[j])
            digits = "".join(d for d in text[i:j] if d in _DIGITS)
            if len(digits) > MAX_DIGITS:
                raise AnswerError(f"{digits[:MAX_DIGITS]}... is far too large to be the answer", i + 1, digits)
            numbers.append((int(digits), i + 1))
            if j < n and text[j] == "." and j + 1 < n and text[j + 1] in _DIGITS:
                raise AnswerError("write a whole number, without a decimal point", j + 1, ".")
            i = j
        elif ch == "-" and i + 1 < n and text[i + 1] in _DIGITS:
            raise AnswerError("a size or a count cannot be negative", i + 1, ch)
        elif ch.isspace() or ch in "()[]" or (not thousands and ch in _SEPARATORS):
            i += 1
        else:
            shown = ch if ch.isprintable() else repr(ch)
            raise AnswerError(f"expected a whole number, found '{shown}'", i + 1, shown)
    return numbers


def _group_follows(text: str, j: int) -> bool:
    """A thousands separator at j: exactly three digits follow it (2,416 but not 24,16)."""
    group = text[j + 1 : j + 4]
    return len(group) == 3 and all(d in _DIGITS for d in group) and (j + 4 == len(text) or text[j + 4] not in _DIGITS)


def parse_shape(text: str, order: str = "HWC") -> tuple:
    """'28x28x6' (H x W x C), '6, 28, 28' (C x H x W) or '120' (a vector) -> (C, H, W) or (units,)."""
    numbers = _numbers(text, thousands=False)
    if not numbers:
        raise AnswerError("write the output shape, e.g. 28x28x6, or one number after Flatten and Dense", 1)
    if len(numbers) not in (1, 3):
        column = numbers[3][1] if len(numbers) > 3 else len(text) + 1
        raise AnswerError(
            f"a shape has 3 numbers ({'H × W × C' if order == 'HWC' else 'C × H × W'}) or 1 "
            f"(a vector), found {len(numbers)}",
            column,
        )
    values = tuple(v for v, _ in numbers)
    if len(values) == 3 and order == "HWC":
        return (values[2], values[0], values[1])
    return values


def parse_count(text: str) -> int:
    """'2416', '2,416', '2 416' or '2_416' -> 2416."""
    numbers = _numbers(text, thousands=True)
    if not numbers:
        raise AnswerError("write the number of parameters, e.g. 456 (0 for a layer without any)", 1)
    if len(numbers) > 1:
        raise AnswerError("write one number: the parameters of this layer", numbers[1][1])
    return numbers[0][0]


def shape_answer(shape: tuple, order: str = "HWC") -> str:
    if len(shape) == 3 and order == "HWC":
        return f"{shape[1]}×{shape[2]}×{shape[0]}"
    return "×".join(str(s) for s in shape)


@dataclass(frozen=True)
class Verdict:
    right: bool
    given: object
    expected: object


def check_shape(row, text: str, order: str = "HWC") -> Verdict:
    given = parse_shape(text, order)
    return Verdict(given == tuple(row.output_shape), given, tuple(row.output_shape))


def check_params(row, text: str) -> Verdict:
    given = parse_count(text)
    return Verdict(given == row.params, given, row.params)


# -- the session's score ------------------------------------------------------------------------


@dataclass
class Scorecard:
    """Answers of this session (kept in the browser session only): right, wrong, and shown before answering."""

    marks: dict = field(default_factory=dict)  # answer key -> True (right) / False (wrong)
    revealed: set = field(default_factory=set)

    def record(self, key: str, right: bool) -> None:
        if key not in self.revealed:
            self.marks[key] = right

    def reveal(self, key: str) -> None:
        if not self.marks.get(key):
            self.revealed.add(key)
            self.marks.pop(key, None)

    @property
    def right(self) -> int:
        return sum(1 for ok in self.marks.values() if ok)

    @property
    def answered(self) -> int:
        return len(self.marks)

    def summary(self) -> str:
        if not self.marks and not self.revealed:
            return "No answers yet this session."
        shown = f"; {len(self.revealed)} shown before being answered" if self.revealed else ""
        return f"{self.right} of {self.answered} answers right this session{shown}."
