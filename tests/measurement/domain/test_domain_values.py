from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import FieldPath, FieldProblem, InvalidCommandError
from services.measurement.domain.values import (
    MAX_COUNT,
    MAX_TEXT_VALUE_LENGTH,
    Measure,
    Period,
    check_value,
    quarter_of,
    rank,
)

LEVELS = ["none", "partial", "full"]
PATH = ("targets", 2, "value")


def refusal_paths(measure: Measure, value: object, levels: list[str] = LEVELS) -> list[FieldPath]:
    with pytest.raises(InvalidCommandError) as caught:
        check_value(measure, levels, value, PATH)
    return [problem.path for problem in caught.value.problems]


# --- unit -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 250_000])
def test_unit_accepts_zero_and_whole_numbers(value):
    assert check_value(Measure.UNIT, [], value) == value


def test_unit_turns_a_whole_float_into_an_int():
    checked = check_value(Measure.UNIT, [], 3.0)

    assert checked == 3
    assert type(checked) is int


@pytest.mark.parametrize("value", [-1, -1.0], ids=["negative int", "negative float"])
def test_unit_refuses_a_negative_count(value):
    assert refusal_paths(Measure.UNIT, value) == [PATH]


@pytest.mark.parametrize("value", [2.5, 0.1, math.nan, math.inf])
def test_unit_refuses_a_number_that_is_not_whole(value):
    assert refusal_paths(Measure.UNIT, value) == [PATH]


@pytest.mark.parametrize("value", [True, False])
def test_unit_refuses_a_bool(value):
    assert refusal_paths(Measure.UNIT, value) == [PATH]


@pytest.mark.parametrize("value", ["3", "", None, [3]])
def test_unit_refuses_a_value_that_is_not_a_number(value):
    assert refusal_paths(Measure.UNIT, value) == [PATH]


@given(st.integers(min_value=0, max_value=MAX_COUNT))
def test_unit_accepts_any_count_up_to_its_bound_and_returns_it_as_an_int(count):
    checked = check_value(Measure.UNIT, [], count)

    assert checked == count
    assert type(checked) is int


@given(st.integers(min_value=MAX_COUNT + 1) | st.floats(min_value=MAX_COUNT + 1))
def test_unit_refuses_a_count_beyond_its_bound(count):
    assert refusal_paths(Measure.UNIT, count) == [PATH]


# --- percentage -------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 0.0, 42, 99.99, 100, 100.0])
def test_percentage_accepts_0_to_100_inclusive(value):
    assert check_value(Measure.PERCENTAGE, [], value) == value


def test_percentage_is_returned_as_a_float():
    checked = check_value(Measure.PERCENTAGE, [], 50)

    assert checked == 50.0
    assert type(checked) is float


@pytest.mark.parametrize("value", [100.01, -0.1, 101, -1])
def test_percentage_refuses_a_number_outside_0_to_100(value):
    assert refusal_paths(Measure.PERCENTAGE, value) == [PATH]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_percentage_refuses_a_number_that_is_not_finite(value):
    assert refusal_paths(Measure.PERCENTAGE, value) == [PATH]


@pytest.mark.parametrize("value", [True, False])
def test_percentage_refuses_a_bool(value):
    assert refusal_paths(Measure.PERCENTAGE, value) == [PATH]


@pytest.mark.parametrize("value", ["50", "50%", None])
def test_percentage_refuses_a_value_that_is_not_a_number(value):
    assert refusal_paths(Measure.PERCENTAGE, value) == [PATH]


@given(st.floats(min_value=0, max_value=100))
def test_percentage_accepts_any_float_from_0_to_100(value):
    assert check_value(Measure.PERCENTAGE, [], value) == value


# --- ordinal and nominal ----------------------------------------------------------


@pytest.mark.parametrize("measure", [Measure.ORDINAL, Measure.NOMINAL])
@pytest.mark.parametrize("value", LEVELS)
def test_levelled_measures_accept_each_of_their_levels(measure, value):
    assert check_value(measure, LEVELS, value) == value


@pytest.mark.parametrize("measure", [Measure.ORDINAL, Measure.NOMINAL])
@pytest.mark.parametrize("value", ["complete", "Full", "", 1, None], ids=repr)
def test_levelled_measures_refuse_a_value_that_is_not_one_of_the_levels(measure, value):
    assert refusal_paths(measure, value) == [PATH]


def test_levelled_measure_refusal_lists_the_levels():
    with pytest.raises(InvalidCommandError) as caught:
        check_value(Measure.ORDINAL, LEVELS, "complete")

    assert all(repr(level) in caught.value.detail for level in LEVELS)


# --- qualitative ------------------------------------------------------------------


def test_qualitative_accepts_a_non_empty_text():
    text = "Tripartite dialogue on supply chains launched."

    assert check_value(Measure.QUALITATIVE, [], text) == text


def test_qualitative_accepts_a_text_of_the_maximum_length():
    text = "x" * MAX_TEXT_VALUE_LENGTH

    assert check_value(Measure.QUALITATIVE, [], text) == text


def test_qualitative_refuses_a_text_over_the_maximum_length():
    assert refusal_paths(Measure.QUALITATIVE, "x" * (MAX_TEXT_VALUE_LENGTH + 1)) == [PATH]


@pytest.mark.parametrize("value", ["", "   ", "\n\t"], ids=repr)
def test_qualitative_refuses_an_empty_or_blank_text(value):
    assert refusal_paths(Measure.QUALITATIVE, value) == [PATH]


@pytest.mark.parametrize("value", [3, None, ["text"]], ids=repr)
def test_qualitative_refuses_a_value_that_is_not_text(value):
    assert refusal_paths(Measure.QUALITATIVE, value) == [PATH]


# --- the path of a refusal --------------------------------------------------------


def test_a_refusal_is_at_value_when_no_path_is_given():
    with pytest.raises(InvalidCommandError) as caught:
        check_value(Measure.UNIT, [], -1)

    assert caught.value.problems == [FieldProblem(("value",), caught.value.detail)]


# --- rank -------------------------------------------------------------------------


def test_rank_orders_ordinal_values_by_their_level():
    assert [rank(Measure.ORDINAL, LEVELS, level) for level in LEVELS] == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("measure, value", [(Measure.UNIT, 3), (Measure.PERCENTAGE, 42.5)])
def test_rank_of_a_numeric_value_is_the_value(measure, value):
    assert rank(measure, [], value) == value


@pytest.mark.parametrize("measure, value", [(Measure.NOMINAL, "yes"), (Measure.QUALITATIVE, "text")])
def test_rank_is_none_for_measures_without_order(measure, value):
    assert rank(measure, ["no", "yes"], value) is None


# --- Period.parse -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2019-06-30", date(2019, 6, 30), date(2019, 6, 30)),
        ("2019-06", date(2019, 6, 1), date(2019, 6, 30)),
        ("2019-Q1", date(2019, 1, 1), date(2019, 3, 31)),
        ("2019-Q2", date(2019, 4, 1), date(2019, 6, 30)),
        ("2019-Q3", date(2019, 7, 1), date(2019, 9, 30)),
        ("2019-Q4", date(2019, 10, 1), date(2019, 12, 31)),
        ("2019", date(2019, 1, 1), date(2019, 12, 31)),
    ],
)
def test_period_parses_a_day_month_quarter_or_year(text, start, end):
    period = Period.parse(text)

    assert (period.label, period.start, period.end) == (text, start, end)


def test_period_of_february_in_a_leap_year_ends_on_the_29th():
    assert Period.parse("2020-02").end == date(2020, 2, 29)


def test_period_of_february_in_a_common_year_ends_on_the_28th():
    assert Period.parse("2019-02").end == date(2019, 2, 28)


def test_period_valid_date_is_its_last_day():
    assert Period.parse("2019-Q2").valid_date == date(2019, 6, 30)


@pytest.mark.parametrize(
    "text",
    ["2019-Q5", "2019-Q0", "2019-13", "2019-00", "2019-02-30", "2019-6", "19-Q1", "0000", "2019-q2", "Q2 2019", ""],
    ids=repr,
)
def test_period_refuses_a_text_that_is_not_a_period(text):
    with pytest.raises(InvalidCommandError) as caught:
        Period.parse(text)

    assert [problem.path for problem in caught.value.problems] == [("period",)]


def test_period_refusal_is_at_the_given_path():
    with pytest.raises(InvalidCommandError) as caught:
        Period.parse("2019-13", ("observations", 4, "period"))

    assert [problem.path for problem in caught.value.problems] == [("observations", 4, "period")]


@pytest.mark.parametrize("text", ["2019\n", "2019-Q2\n", "2019-06-30\n"], ids=repr)
def test_period_refuses_a_trailing_newline(text):
    with pytest.raises(InvalidCommandError):
        Period.parse(text)


def test_period_refuses_digits_that_are_not_ascii():
    with pytest.raises(InvalidCommandError):
        Period.parse("\uff12\uff10\uff11\uff19-Q2")


@given(st.dates())
def test_period_of_a_day_starts_and_ends_on_that_day(day):
    period = Period.parse(day.isoformat())

    assert period.start == period.end == day


@given(st.integers(min_value=1000, max_value=9999), st.integers(min_value=1, max_value=4))
def test_period_of_a_quarter_starts_in_that_quarter_and_does_not_end_before_it_starts(year, quarter):
    label = f"{year:04d}-Q{quarter}"

    period = Period.parse(label)

    assert period.start <= period.end
    assert quarter_of(period.start) == label
    assert quarter_of(period.end) == label


@given(st.integers(min_value=1, max_value=9998), st.integers(min_value=1, max_value=12))
def test_period_of_a_month_ends_the_day_before_the_next_month_starts(year, month):
    period = Period.parse(f"{year:04d}-{month:02d}")

    assert period.start == date(year, month, 1)
    assert (period.end + timedelta(days=1)).day == 1


# --- quarter_of -------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, label",
    [
        (date(2019, 1, 1), "2019-Q1"),
        (date(2019, 3, 31), "2019-Q1"),
        (date(2019, 4, 1), "2019-Q2"),
        (date(2019, 9, 30), "2019-Q3"),
        (date(2021, 12, 31), "2021-Q4"),
    ],
)
def test_quarter_of_names_the_quarter_a_day_falls_in(day, label):
    assert quarter_of(day) == label


def test_quarter_of_a_day_is_a_label_period_parse_accepts():
    label = quarter_of(date(999, 1, 1))

    assert Period.parse(label).start == date(999, 1, 1)
