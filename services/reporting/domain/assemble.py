"""Builds an edition's content (content.py) from measurement's answers:
the framework, and report reads (`GET /progress/report`) at the edition's
pins and, when there is a previous edition of its kind, at the previous
edition's valid date as known then and as known now.

Pure: the same answers give the same content. Figures are rounded here,
once (content.py says how), so that every rendering shows the same digits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.reporting.domain.colours import colour_of, colour_rule
from services.reporting.domain.content import (
    FIGURE_DECIMALS,
    SCHEMA,
    Assumption,
    Benchmark,
    Cell,
    CellValue,
    ColourCounts,
    EditionPins,
    Figure,
    Programme,
    ReportContent,
    Restatement,
    RestatementReason,
    SeriesPoint,
    Target,
    Trend,
    figure,
    fraction,
)

Answer = Mapping[str, Any]


@dataclass(frozen=True)
class Readings:
    """What measurement answered for one edition.

    now: the report read at (as_of, position); previous: at the previous
    edition's (as_of, position); restated: at the previous edition's as_of
    as known at this edition's position. Both None for a first edition."""

    framework: Answer
    now: Answer
    previous: Answer | None = None
    restated: Answer | None = None


def programme(framework: Answer) -> Programme:
    document = framework["framework"]
    theory = framework.get("theory_of_change") or {}
    return {
        "code": document["code"],
        "title": document["title"],
        "period": {"start": str(document["period"]["start"]), "end": str(document["period"]["end"])},
        "theory_of_change": {
            "intervention": theory.get("intervention"),
            "current_situation": theory.get("current_situation"),
            "future_situation": theory.get("future_situation"),
        },
    }


def _target(target: Answer | None) -> Target | None:
    if target is None:
        return None
    return {"date": str(target["date"]), "value": figure(target["value"]), "label": target.get("label")}


def _cells(entry: Answer) -> list[Cell]:
    return [
        {
            "country": value["country"],
            "sector": value.get("sector"),
            "value": figure(value["value"]),
            "valid_date": str(value["valid_date"]),
            "known_at": int(value["known_at"]),
        }
        for value in sorted(entry["countries"], key=lambda value: str(value["country"]))
    ]


def _direction(change: float, ascending: bool) -> str:
    if change == 0:
        return "unchanged"
    return "better" if (change > 0) == ascending else "worse"


def trend(entry: Answer, previous: Answer | None, pin: Answer | None) -> Trend:
    """The combined figure's change since the previous edition (as that edition stated it)."""
    combined = figure(entry["combined"])
    before: Figure = None if previous is None else figure(previous["combined"])
    change: int | float | None = None
    direction: Any = None
    if isinstance(combined, int | float) and isinstance(before, int | float):
        change = combined - before if isinstance(combined - before, int) else round(combined - before, FIGURE_DECIMALS)
        more_is_better = entry["ascending"] or entry["combination"] == "count_meeting_threshold"
        direction = _direction(float(change), more_is_better)
    return {
        "previous_as_of": None if pin is None else str(pin["as_of"]),
        "previous_position": None if pin is None else int(pin["position"]),
        "previous_combined": before,
        "change": change,
        "direction": direction,
    }


def _series(entry: Answer) -> list[SeriesPoint]:
    return [
        {
            "date": str(point["date"]),
            "combined": figure(point["combined"]),
            "expected": figure(point["expected"]),
            "status": point["status"],
        }
        for point in entry.get("series", [])
    ]


def benchmark(entry: Answer, selected: Iterable[str], previous: Answer | None, pin: Answer | None) -> Benchmark:
    cells = _cells(entry)
    reporting = {cell["country"] for cell in cells}
    return {
        "code": entry["benchmark"],
        "title": entry["title"],
        "measure": entry["measure"],
        "unit": entry.get("unit_label"),
        "ascending": bool(entry["ascending"]),
        "combination": entry["combination"],
        "baseline": {"date": str(entry["baseline"]["date"]), "value": figure(entry["baseline"]["value"])},
        "targets": [t for t in (_target(target) for target in entry["targets"]) if t is not None],
        "target_in_force": _target(entry.get("target")),
        "combined": figure(entry["combined"]),
        "expected": figure(entry["expected"]),
        "progress": fraction(entry["progress"]),
        "status": entry["status"],
        "colour": colour_of(entry["status"]),
        "position": int(entry["position"]),
        "cells": cells,
        "coverage": {
            "countries_selected": int(entry["countries_selected"]),
            "countries_reporting": int(entry["countries_reporting"]),
            "countries_missing": sorted(set(selected) - reporting),
            "freshest": None if entry.get("freshest") is None else str(entry["freshest"]),
        },
        "trend": trend(entry, previous, pin),
        "series": _series(entry),
    }


def _by_code(answer: Answer | None) -> dict[str, Answer]:
    return {} if answer is None else {entry["benchmark"]: entry for entry in answer["benchmarks"]}


def assumptions(framework: Answer, readings: Readings, pin: Answer | None) -> list[Assumption]:
    previous = _by_code(readings.previous)
    selected = readings.now["countries_selected"]
    grouped: dict[str, list[Benchmark]] = {}
    for entry in sorted(readings.now["benchmarks"], key=lambda entry: str(entry["benchmark"])):
        item = benchmark(entry, selected, previous.get(entry["benchmark"]), pin)
        grouped.setdefault(entry["assumption"], []).append(item)
    found: list[Assumption] = []
    for assumption in framework["critical_assumptions"]:
        benchmarks = grouped.get(assumption["code"], [])
        counts: ColourCounts = {"green": 0, "amber": 0, "red": 0, "grey": 0}
        for item in benchmarks:
            counts[item["colour"]] += 1
        found.append(
            {
                "code": assumption["code"],
                "text": assumption["text"],
                "benchmarks": benchmarks,
                "summary": {"benchmarks": len(benchmarks), "by_colour": counts},
            }
        )
    return found


def _cell_values(entry: Answer | None) -> dict[str, CellValue]:
    if entry is None:
        return {}
    return {
        cell["country"]: {"value": cell["value"], "valid_date": cell["valid_date"], "known_at": cell["known_at"]}
        for cell in _cells(entry)
    }


DEFINITION = ("measure", "ascending", "combination", "baseline", "targets", "levels", "threshold", "retired")


def _redefined(before: Answer | None, after: Answer | None) -> bool:
    if before is None or after is None:
        return True
    return any(before.get(name) != after.get(name) for name in DEFINITION)


def restatement_reason(before: CellValue | None, after: CellValue | None, scope_changed: bool) -> RestatementReason:
    """Why a cell's value at an earlier valid date is not what the previous
    edition said (content.py, Restatement)."""
    if scope_changed:
        return "scope_change"
    if before is None or (after is not None and after["valid_date"] > before["valid_date"]):
        return "new_observation"
    if after is None or after["valid_date"] < before["valid_date"]:
        return "retraction"
    return "correction"


def restatements(readings: Readings) -> list[Restatement]:
    """Every cell whose value at the previous edition's valid date, as known
    now, differs from what the previous edition read."""
    if readings.previous is None or readings.restated is None:
        return []
    as_of = str(readings.previous["as_of"])
    before_all, after_all = _by_code(readings.previous), _by_code(readings.restated)
    moved = set(readings.previous["countries_selected"]) ^ set(readings.restated["countries_selected"])
    found: list[Restatement] = []
    for code in sorted(set(before_all) | set(after_all)):
        redefined = _redefined(before_all.get(code), after_all.get(code))
        before_cells, after_cells = _cell_values(before_all.get(code)), _cell_values(after_all.get(code))
        for country in sorted(set(before_cells) | set(after_cells)):
            before, after = before_cells.get(country), after_cells.get(country)
            if before == after:
                continue
            reason = restatement_reason(before, after, redefined or country in moved)
            found.append(
                {
                    "benchmark": code,
                    "country": country,
                    "as_of": as_of,
                    "before": before,
                    "after": after,
                    "reason": reason,
                }
            )
    return found


def content(pins: EditionPins, readings: Readings) -> ReportContent:
    framework = readings.framework
    previous_pin: Answer | None = dict(pins["previous"]) if pins["previous"] is not None else None
    return {
        "schema": SCHEMA,
        "edition": pins,
        "programme": programme(framework),
        "colour_rule": colour_rule(
            {
                "on_track_tolerance": float(readings.now["status_rule"]["on_track_tolerance"]),
                "at_risk_tolerance": float(readings.now["status_rule"]["at_risk_tolerance"]),
            }
        ),
        "assumptions": assumptions(framework, readings, previous_pin),
        "restatements": restatements(readings),
        "workplan": None,
    }
