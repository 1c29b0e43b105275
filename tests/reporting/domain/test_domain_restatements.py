"""Restatements (domain/assemble.py), on their own: why a cell's value at
the previous edition's valid date is not what that edition said, from
measurement's report answers at the previous edition's pins and at its
valid date as known now. No I/O."""

from __future__ import annotations

from typing import Any

import pytest

from services.reporting.domain.assemble import Readings, restatement_reason, restatements
from services.reporting.domain.content import CellValue

AS_OF = "2019-10-31"


def value(amount: Any, valid_date: str = "2019-06-30", known_at: int = 10) -> CellValue:
    return {"value": amount, "valid_date": valid_date, "known_at": known_at}


@pytest.mark.parametrize(
    ("before", "after", "scope_changed", "reason"),
    [
        (None, value(14), False, "new_observation"),  # nothing was in force
        (value(14, "2019-03-31"), value(15, "2019-06-30"), False, "new_observation"),  # a later valid date, late
        (value(14), value(15, known_at=20), False, "correction"),  # the same valid date, another value
        (value(14), None, False, "retraction"),  # nothing is in force any more
        (value(14, "2019-06-30"), value(12, "2019-03-31"), False, "retraction"),  # an earlier value uncovered
        (value(14), value(15, known_at=20), True, "scope_change"),
        (None, value(14), True, "scope_change"),
        (value(14), None, True, "scope_change"),
    ],
)
def test_the_reason_of_each_restatement(
    before: CellValue | None, after: CellValue | None, scope_changed: bool, reason: str
) -> None:
    assert restatement_reason(before, after, scope_changed) == reason


@pytest.mark.parametrize(
    ("first_recorded", "reason"),
    [
        ((10, 10), "correction"),  # one observation, a new version of it
        ((10, 25), "new_observation"),  # another observation for the same valid date, recorded since
        ((25, 10), "retraction"),  # the one in force retracted, uncovering one recorded before it
    ],
)
def test_the_observation_tells_a_correction_from_another_observation_for_the_same_valid_date(
    first_recorded: tuple[int, int], reason: str
) -> None:
    assert restatement_reason(value(14, known_at=25), value(15, known_at=30), False, first_recorded) == reason


def cell(
    country: str,
    amount: Any,
    valid_date: str = "2019-06-30",
    known_at: int = 10,
    first_recorded: int | None = None,
    sector: str | None = None,
) -> dict[str, Any]:
    return {
        "country": country,
        "sector": sector,
        "value": amount,
        "valid_date": valid_date,
        "known_at": known_at,
        "first_recorded": known_at if first_recorded is None else first_recorded,
    }


def entry(code: str, cells: list[dict[str, Any]], **definition: Any) -> dict[str, Any]:
    """A benchmark as measurement's report read gives it (what restatements read of it)."""
    return {
        "benchmark": code,
        "measure": "percentage",
        "ascending": True,
        "combination": "mean",
        "baseline": {"date": "2017-01-01", "value": 10},
        "targets": [{"date": "2019-12-31", "value": 20, "label": None}],
        "levels": [],
        "threshold": None,
        "retired": False,
        "countries": cells,
        **definition,
    }


def answer(*benchmarks: dict[str, Any], selected: tuple[str, ...] = ("BGD", "VNM")) -> dict[str, Any]:
    return {"as_of": AS_OF, "countries_selected": list(selected), "benchmarks": list(benchmarks)}


def readings(previous: dict[str, Any] | None, restated: dict[str, Any] | None) -> Readings:
    return Readings({}, answer(), previous, restated)


def test_a_first_edition_restates_nothing() -> None:
    assert restatements(readings(None, None)) == []


def test_cells_unchanged_since_the_previous_edition_are_not_restated() -> None:
    same = answer(entry("CA2-A", [cell("BGD", 14), cell("VNM", 18.25)]))
    assert restatements(readings(same, same)) == []


def test_each_changed_cell_is_restated_with_before_after_and_why_in_code_then_country_order() -> None:
    before = answer(
        entry("CA2-B", [cell("BGD", 14), cell("VNM", 18)]),
        entry("CA2-A", [cell("VNM", 3, "2019-03-31")]),
    )
    after = answer(
        entry("CA2-B", [cell("BGD", 15, known_at=30, first_recorded=10), cell("VNM", 18)]),
        entry("CA2-A", [cell("BGD", 5, known_at=31), cell("VNM", 4, "2019-09-30", known_at=32)]),
    )
    found = restatements(readings(before, after))
    assert [(r["benchmark"], r["country"], r["reason"]) for r in found] == [
        ("CA2-A", "BGD", "new_observation"),
        ("CA2-A", "VNM", "new_observation"),
        ("CA2-B", "BGD", "correction"),
    ]
    correction = found[2]
    assert correction["as_of"] == AS_OF
    assert correction["before"] == value(14.0) and correction["after"] == value(15.0, known_at=30)


def test_a_redefined_benchmark_or_a_country_selected_or_dropped_is_a_scope_change() -> None:
    before = answer(entry("CA2-A", [cell("BGD", 14)]), entry("CA3-A", [cell("BGD", 1)]), selected=("BGD", "VNM"))
    after = answer(
        entry(
            "CA2-A",
            [cell("BGD", 15, known_at=30, first_recorded=10)],
            targets=[{"date": "2019-12-31", "value": 25, "label": None}],
        ),
        entry("CA3-A", [cell("BGD", 1), cell("ETH", 2, known_at=31)]),
        selected=("BGD", "ETH"),
    )
    found = {(r["benchmark"], r["country"]): r["reason"] for r in restatements(readings(before, after))}
    assert found == {("CA2-A", "BGD"): "scope_change", ("CA3-A", "ETH"): "scope_change"}


def test_a_benchmark_retired_or_defined_since_is_a_scope_change_for_each_of_its_cells() -> None:
    before = answer(entry("CA2-OLD", [cell("BGD", 14)]))
    after = answer(entry("CA2-NEW", [cell("VNM", 3)]))
    found = [(r["benchmark"], r["country"], r["reason"]) for r in restatements(readings(before, after))]
    assert found == [("CA2-NEW", "VNM", "scope_change"), ("CA2-OLD", "BGD", "scope_change")]


def test_each_sector_of_a_country_is_its_own_cell() -> None:
    before = answer(entry("CA2-A", [cell("BGD", 14, sector="garments"), cell("BGD", 20, sector="agri-food")]))
    after = answer(
        entry(
            "CA2-A",
            [cell("BGD", 14, sector="garments"), cell("BGD", 21, known_at=30, first_recorded=29, sector="agri-food")],
        )
    )
    [restated] = restatements(readings(before, after))
    assert (restated["country"], restated["sector"], restated["reason"]) == ("BGD", "agri-food", "new_observation")
