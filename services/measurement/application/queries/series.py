"""Dates of a time series: the end of each period from one period to another."""

from __future__ import annotations

import calendar
from datetime import date
from enum import StrEnum

from services.common.errors import FieldProblem, InvalidCommandError
from services.measurement.domain.values import Period

MAX_POINTS = 400


class Step(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


_MONTHS = {Step.MONTH: 1, Step.QUARTER: 3, Step.YEAR: 12}


def _query_period(text: str, name: str) -> Period:
    try:
        return Period.parse(text, (name,))
    except InvalidCommandError as error:
        raise InvalidCommandError(
            error.detail, [FieldProblem(p.path, p.detail, "query") for p in error.problems]
        ) from None


def series_dates(start: str, end: str, step: Step) -> list[date]:
    """Month ends, every `step`, from the end of `start` to the end of `end`."""
    first = _query_period(start, "start").end
    last = _query_period(end, "end").end
    if last < first:
        raise InvalidCommandError.at(("end",), f"The series ends ({end}) before it starts ({start}).", "query")
    dates: list[date] = []
    year, month = first.year, first.month
    while (day := date(year, month, calendar.monthrange(year, month)[1])) <= last:
        dates.append(day)
        if len(dates) > MAX_POINTS:
            raise InvalidCommandError.at(
                ("step",),
                f"That series has more than {MAX_POINTS} points; use a larger step or a shorter range.",
                "query",
            )
        month += _MONTHS[step]
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        if year > last.year:
            break
    return dates
