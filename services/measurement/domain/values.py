"""Value rules shared by benchmarks and observations: measures (the IATI
IndicatorMeasure vocabulary), how values combine across countries, the
disaggregation dimensions of deliverable 8.2, and reporting periods."""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

from services.common.errors import FieldPath, InvalidCommandError

Value = int | float | str


class Measure(StrEnum):
    """IATI IndicatorMeasure codes 1-5, by name."""

    UNIT = "unit"
    PERCENTAGE = "percentage"
    NOMINAL = "nominal"
    ORDINAL = "ordinal"
    QUALITATIVE = "qualitative"

    @property
    def is_numeric(self) -> bool:
        return self in (Measure.UNIT, Measure.PERCENTAGE)

    @property
    def has_levels(self) -> bool:
        return self in (Measure.NOMINAL, Measure.ORDINAL)


class Combination(StrEnum):
    """How the values of the selected countries combine into one figure."""

    SUM = "sum"
    MEAN = "mean"
    COUNT_MEETING_THRESHOLD = "count_meeting_threshold"
    LATEST = "latest"


class Dimension(StrEnum):
    """Disaggregations named by workplan deliverable 8.2."""

    SEX = "sex"
    ETHNICITY = "ethnicity"
    INDIGENOUS_IDENTITY = "indigenous_identity"
    DISABILITY = "disability"


COMBINATIONS_BY_MEASURE: dict[Measure, frozenset[Combination]] = {
    Measure.UNIT: frozenset(Combination),
    Measure.PERCENTAGE: frozenset(Combination),
    Measure.ORDINAL: frozenset({Combination.COUNT_MEETING_THRESHOLD, Combination.LATEST}),
    Measure.NOMINAL: frozenset({Combination.COUNT_MEETING_THRESHOLD, Combination.LATEST}),
    Measure.QUALITATIVE: frozenset({Combination.LATEST}),
}

MAX_TEXT_VALUE_LENGTH = 4000
# Far above any count the programme measures (workers, workplaces, cases),
# and low enough that a sum over every cell stays an exact float.
MAX_COUNT = 10**12


# Python 3.11 looks an enum's member up on its class through EnumType.__getattr__ (some 0.3 us): the
# members check_value compares with, for every value of a batch import's rows, are looked up once.
_UNIT, _PERCENTAGE = Measure.UNIT, Measure.PERCENTAGE


def check_value(measure: Measure, levels: Sequence[str], value: Any, path: FieldPath = ("value",)) -> Value:
    """Returns `value` in its canonical type if it fits `measure`, else raises."""
    if measure is _UNIT:
        return _check_count(value, path)
    if measure is _PERCENTAGE:
        return _check_percentage(value, path)
    if measure.has_levels:
        return _check_level(measure, levels, value, path)
    return _check_text(value, path)


def _check_count(value: Any, path: FieldPath) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidCommandError.at(path, "A 'unit' value is a count: give a whole number of 0 or more.")
    if isinstance(value, float) and not value.is_integer():
        raise InvalidCommandError.at(path, f"A 'unit' value is a count: {value} is not a whole number.")
    if value < 0:
        raise InvalidCommandError.at(path, "A 'unit' value is a count: it cannot be negative.")
    if value > MAX_COUNT:
        raise InvalidCommandError.at(path, f"A 'unit' value is a count of at most {MAX_COUNT:,} (10^12).")
    return int(value)


def _check_percentage(value: Any, path: FieldPath) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidCommandError.at(path, "A 'percentage' value is a number from 0 to 100.")
    # Compared before any conversion to float: an integer like 10**400 has none.
    if not 0 <= value <= 100 or not math.isfinite(value):
        shown = value if isinstance(value, float) or abs(value) < 10**15 else "a number that large"
        raise InvalidCommandError.at(path, f"A 'percentage' value is a number from 0 to 100, not {shown}.")
    return float(value)


def _check_level(measure: Measure, levels: Sequence[str], value: Any, path: FieldPath) -> str:
    if not isinstance(value, str) or value not in levels:
        raise InvalidCommandError.at(
            path,
            f"An '{measure}' value is one of the benchmark's levels: {', '.join(map(repr, levels))}; got {value!r}.",
        )
    return value


def _check_text(value: Any, path: FieldPath) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommandError.at(path, "A 'qualitative' value is a non-empty text.")
    if len(value) > MAX_TEXT_VALUE_LENGTH:
        raise InvalidCommandError.at(path, f"A 'qualitative' value is at most {MAX_TEXT_VALUE_LENGTH} characters.")
    return value


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def read_text_value(measure: Measure, text: str, path: FieldPath = ("value",), *, decimal_comma: bool = False) -> Value:
    """A value written as text (a spreadsheet cell) read as its measure's
    type: a number for a count or a percentage, the text itself otherwise.
    With `decimal_comma` (a semicolon-separated sheet), 18,5 is 18.5."""
    if not measure.is_numeric:
        return text
    cleaned = text.strip()
    if decimal_comma and cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not _NUMBER.fullmatch(cleaned):
        raise InvalidCommandError.at(path, f"A '{measure}' value is a number (e.g. 12 or 12.5), not {text!r}.")
    number = float(cleaned)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def rank(measure: Measure, levels: Sequence[str], value: Value) -> float | None:
    """A number that orders values of an ordered measure, or None when the
    measure has no order (nominal, qualitative)."""
    if measure.is_numeric:
        return float(value)
    if measure is Measure.ORDINAL:
        return float(levels.index(str(value)))
    return None


_PERIOD_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"), "day"),
    (re.compile(r"([0-9]{4})-Q([1-4])"), "quarter"),
    (re.compile(r"([0-9]{4})-([0-9]{2})"), "month"),
    (re.compile(r"([0-9]{4})"), "year"),
)


@dataclass(frozen=True)
class Period:
    """The stretch of time a value holds for. Its valid date (the date from
    which it is the value in force) is the period's last day."""

    label: str
    start: date
    end: date

    @property
    def valid_date(self) -> date:
        return self.end

    def quarters(self) -> set[str]:
        """The quarters (2019-Q2) the period overlaps."""
        first, last = (day.year * 4 + (day.month - 1) // 3 for day in (self.start, self.end))
        return {f"{index // 4:04d}-Q{index % 4 + 1}" for index in range(first, last + 1)}

    @classmethod
    def parse(cls, text: str, path: FieldPath = ("period",)) -> Period:
        period = _parsed_period(text)
        if period is None:
            raise InvalidCommandError.at(
                path,
                f"{text!r} is not a period: give a day (2019-06-30), a month (2019-06), "
                "a quarter (2019-Q2) or a year (2019).",
            )
        return period


@lru_cache(maxsize=4096)
def _parsed_period(text: str) -> Period | None:
    """The period a label names, or None: kept for the labels seen most
    (a batch import parses the same few labels on every row)."""
    for pattern, kind in _PERIOD_PATTERNS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        year = int(match.group(1))
        try:
            if kind == "day":
                day = date(year, int(match.group(2)), int(match.group(3)))
                return Period(text, day, day)
            if kind == "month":
                month = int(match.group(2))
                last = calendar.monthrange(year, month)[1]
                return Period(text, date(year, month, 1), date(year, month, last))
            if kind == "quarter":
                quarter = int(match.group(2))
                first_month = 3 * quarter - 2
                last = calendar.monthrange(year, first_month + 2)[1]
                return Period(text, date(year, first_month, 1), date(year, first_month + 2, last))
            return Period(text, date(year, 1, 1), date(year, 12, 31))
        except ValueError:
            return None
    return None


def quarter_of(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
