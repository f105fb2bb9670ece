"""Exercises: seeds, levels, answers checked against PyTorch, and answer fields that never crash."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from explorer.errors import AnswerError, KnobError, SpecError
from explorer.labs import exercises as ex
from explorer.reference import LECTURE_EXERCISE


def test_seed_0_is_the_lectures_exercise_with_the_published_answers():
    exercise = ex.exercise(0)
    assert exercise.input_shape == (3, 32, 32) and exercise.title == "The lecture's exercise"
    rows = exercise.analysis().rows
    assert [(r.name, r.output_shape, r.params) for r in rows] == LECTURE_EXERCISE
    assert exercise.descriptions()[0] == "Convolution: 6 kernels, receptive field 5×5, stride 1, no padding"
    assert ex.exercise(0, 3).layers == exercise.layers  # the lecture's exercise has no level


def test_a_seed_is_the_same_exercise_every_time_and_seeds_differ():
    assert ex.exercise(1234, 2) == ex.exercise(1234, 2)
    assert len({ex.exercise(seed, 2).layers for seed in range(1, 30)}) >= 25


@pytest.mark.parametrize("level", list(ex.LEVELS))
def test_every_level_draws_networks_with_its_ingredients(level):
    for seed in range(1, 120):
        exercise = ex.exercise(seed, level)
        analysis = exercise.analysis()  # one row per layer, shapes measured by PyTorch
        c, h, w = exercise.input_shape
        kinds = [layer[0] for layer in exercise.layers]
        convs = [layer for layer in exercise.layers if layer[0] == "conv"]
        divides = [ex._divides(layer, shape) for layer, shape in ex._with_inputs(exercise.layers, (c, h, w))]
        assert min(min(r.output_shape) for r in analysis.rows) >= 1
        if level == 1:
            assert h == w and kinds == ["conv", "maxpool", "conv", "maxpool"]
            assert all(layer[3:] == (1, 0) for layer in convs) and all(divides)
        if level == 2:
            assert h == w and all(divides) and "dense" not in kinds
        if level == 3:
            assert (
                any(layer[2] == 1 for layer in convs)
                and "dense" in kinds
                and kinds.index("flatten") < kinds.index("dense")
            )
        if level == 4:
            assert h != w and not all(divides) and "dwconv" in kinds and "dense" in kinds
    assert any(
        any(layer[3:] != (1, 0) for layer in ex.exercise(s, 2).layers if layer[0] == "conv") for s in range(1, 20)
    )


def test_answers_in_either_order_and_counts_with_separators():
    rows = ex.exercise(0).analysis().rows
    assert ex.check_shape(rows[0], "28x28x6").right and ex.check_shape(rows[0], "28 × 28 × 6").right
    assert ex.check_shape(rows[0], "(6, 28, 28)", order="CHW").right
    assert not ex.check_shape(rows[0], "6x28x28").right  # read as H x W x C: 6 high, 28 wide, 28 channels
    assert ex.check_params(rows[2], "2,416").right and ex.check_params(rows[2], "2 416").right
    assert ex.check_params(rows[2], "2_416").right and not ex.check_params(rows[2], "2400").right
    assert ex.parse_count("1,000,000") == 1_000_000 and ex.parse_count("62 006") == 62_006
    verdict = ex.check_params(rows[2], "2400")
    assert (verdict.given, verdict.expected) == (2400, 2416)
    assert ex.shape_answer((6, 28, 28)) == "28×28×6" and ex.shape_answer((6, 28, 28), "CHW") == "6×28×28"


@pytest.mark.parametrize(
    "text,column,words",
    [
        ("", 1, "write the output shape"),
        ("   ", 1, "write the output shape"),
        ("-3x4x4", 1, "cannot be negative"),
        ("28x28", 6, "3 numbers"),
        ("28x28x6x1", 9, "3 numbers"),
        ("abc", 1, "found 'a'"),
        ("28x28xsix", 7, "found 's'"),
        ("1" * 40, 1, "far too large"),
        ("2.5x3x3", 2, "decimal point"),
    ],
)
def test_shape_answers_that_are_not_shapes_are_one_sentence_with_a_column(text, column, words):
    with pytest.raises(AnswerError) as err:
        ex.parse_shape(text)
    assert err.value.column == column and words in str(err.value)
    assert str(err.value).startswith(f"column {column}: ")


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "write the number"),
        ("-456", "negative"),
        ("four", "found 'f'"),
        ("4 5 6 7 x", "found 'x'"),
        ("456 12", "one number"),
        ("24,16", "grouped by three"),
        ("1,,2", "grouped by three"),
        ("9" * 100, "far too large"),
        ("4.56", "decimal point"),
    ],
)
def test_count_answers_that_are_not_counts(text, words):
    with pytest.raises(AnswerError, match=words):
        ex.parse_count(text)


@given(st.text(max_size=60))
@example("٣x٣x٣")  # digits of another script: str.isdigit() says yes, int() would say no
@example("²")
@example("9" * 5000)
@example("-0")
@example("1,,2")
def test_answer_fields_never_raise_anything_but_the_projects_error(text):
    for parse in (ex.parse_shape, lambda t: ex.parse_shape(t, "CHW"), ex.parse_count):
        try:
            value = parse(text)
        except AnswerError as e:
            assert isinstance(e, SpecError) and e.column >= 1
        else:
            assert all(isinstance(v, int) and v >= 0 for v in (value if isinstance(value, tuple) else (value,)))


def test_the_score_counts_answers_and_what_was_shown_first():
    card = ex.Scorecard()
    assert card.summary() == "No answers yet this session."
    card.record("a", False)
    card.record("a", True)  # a second try that is right counts as right
    card.record("b", False)
    card.reveal("c")
    card.record("c", True)  # typed after seeing it: not counted
    card.reveal("a")  # already right: stays right
    assert (card.right, card.answered) == (1, 2)
    assert card.summary() == "1 of 2 answers right this session; 1 shown before being answered."


@pytest.mark.parametrize("seed,level", [(-1, 1), (ex.MAX_SEED + 1, 1), (3, 0), (3, 9), ("x", 1), (None, 2)])
def test_bad_seeds_and_levels_are_refused_with_the_ranges(seed, level):
    with pytest.raises(KnobError, match="seed from 0 to 999,999 and a level from 1 to 4"):
        ex.exercise(seed, level)


@pytest.mark.parametrize(("seed", "says"), [(12.5, "whole numbers; got seed 12.5"), (None, "the seed is empty")])
def test_a_fractional_or_missing_seed_is_one_sentence_not_another_exercise(seed, says):
    with pytest.raises(KnobError, match=says):
        ex.exercise(seed, 1)
    assert ex.exercise(12.0, 1).seed == 12  # a whole float from a number box is that seed
