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
    Deliverable,
    EditionPins,
    Figure,
    Milestone,
    Programme,
    ReportContent,
    Restatement,
    RestatementReason,
    SeriesPoint,
    Target,
    Trend,
    Workplan,
    figure,
    fraction,
)

Answer = Mapping[str, Any]


@dataclass(frozen=True)
class Readings:
    """What measurement answered for one edition.

    now: the report read at (as_of, position); previous: at the previous
    edition's (as_of, position); restated: at the previous edition's as_of
    as known at this edition's position. Both None for a first edition.
    workplan: the deliverables and milestones read at (as_of, position), or
    None for a generator before workplans (content.py, Workplan)."""

    framework: Answer
    now: Answer
    previous: Answer | None = None
    restated: Answer | None = None
    workplan: tuple[Answer, Answer] | None = None


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


CellKey = tuple[str, str | None]  # (country, sector): measurement answers per cell


def _cell_values(entry: Answer | None) -> dict[CellKey, tuple[CellValue, int]]:
    """Per cell, its value in force and the position its observation was
    first recorded at, which names the observation (each has its own) and
    which its corrections keep."""
    if entry is None:
        return {}
    found: dict[CellKey, tuple[CellValue, int]] = {}
    for answered in entry["countries"]:
        known_at = int(answered["known_at"])
        first = answered.get("first_recorded")
        value: CellValue = {
            "value": figure(answered["value"]),
            "valid_date": str(answered["valid_date"]),
            "known_at": known_at,
        }
        found[(answered["country"], answered.get("sector"))] = (value, known_at if first is None else int(first))
    return found


DEFINITION = ("measure", "ascending", "combination", "baseline", "targets", "levels", "threshold", "retired")


def _redefined(before: Answer | None, after: Answer | None) -> bool:
    if before is None or after is None:
        return True
    return any(before.get(name) != after.get(name) for name in DEFINITION)


def restatement_reason(
    before: CellValue | None,
    after: CellValue | None,
    scope_changed: bool,
    first_recorded: tuple[int, int] | None = None,
) -> RestatementReason:
    """Why a cell's value at an earlier valid date is not what the previous
    edition said (content.py, Restatement). `first_recorded`: where the
    observations of the value before and after were first recorded; equal,
    they are versions of one observation (a correction), else another
    observation stands (None: taken as one observation)."""
    if scope_changed:
        return "scope_change"
    if before is None or after is None:
        return "new_observation" if before is None else "retraction"
    if after["valid_date"] != before["valid_date"]:
        return "new_observation" if after["valid_date"] > before["valid_date"] else "retraction"
    if first_recorded is None or first_recorded[0] == first_recorded[1]:
        return "correction"
    # Another observation for the same valid date stands: one first recorded
    # later (it takes precedence), or one recorded earlier, uncovered by the
    # retraction of the one before.
    return "new_observation" if first_recorded[1] > first_recorded[0] else "retraction"


def _restated_cells(code: str, readings: Readings, redefined: bool, moved: set[str], as_of: str) -> list[Restatement]:
    before_cells = _cell_values(_by_code(readings.previous).get(code))
    after_cells = _cell_values(_by_code(readings.restated).get(code))
    found: list[Restatement] = []
    for key in sorted(set(before_cells) | set(after_cells), key=lambda key: (key[0], key[1] or "")):
        before, after = before_cells.get(key), after_cells.get(key)
        before_value, after_value = (before or (None, 0))[0], (after or (None, 0))[0]
        if before_value == after_value:
            continue
        firsts = None if before is None or after is None else (before[1], after[1])
        found.append(
            {
                "benchmark": code,
                "country": key[0],
                "sector": key[1],
                "as_of": as_of,
                "before": before_value,
                "after": after_value,
                "reason": restatement_reason(before_value, after_value, redefined or key[0] in moved, firsts),
            }
        )
    return found


def restatements(readings: Readings) -> list[Restatement]:
    """Every cell whose value at the previous edition's valid date, as known
    now, differs from what the previous edition read."""
    if readings.previous is None or readings.restated is None:
        return []
    before_all, after_all = _by_code(readings.previous), _by_code(readings.restated)
    moved = set(readings.previous["countries_selected"]) ^ set(readings.restated["countries_selected"])
    found: list[Restatement] = []
    for code in sorted(set(before_all) | set(after_all)):
        redefined = _redefined(before_all.get(code), after_all.get(code))
        found.extend(_restated_cells(code, readings, redefined, moved, str(readings.previous["as_of"])))
    return found


def _day(value: object) -> str | None:
    return None if value is None else str(value)


def _deliverable(item: Answer) -> Deliverable:
    return {
        "code": str(item["code"]),
        "area": str(item["area"]),
        "title": str(item["title"]),
        "planned_start": str(item["planned_start"]),
        "planned_end": str(item["planned_end"]),
        "status": str(item["status"]),
        "started_on": _day(item.get("started_on")),
        "delivered_on": _day(item.get("delivered_on")),
        "evidence": item.get("evidence"),
        "dropped_on": _day(item.get("dropped_on")),
        "reason": item.get("reason"),
        "late": bool(item["late"]),
        "late_start": bool(item["late_start"]),
    }


def _milestone(item: Answer) -> Milestone:
    return {
        "code": str(item["code"]),
        "paragraph": int(item["paragraph"]),
        "text": str(item["text"]),
        "due": _day(item.get("due")),
        "status": str(item["status"]),
        "met_on": _day(item.get("met_on")),
        "missed_on": _day(item.get("missed_on")),
        "note": item.get("note"),
        "late": bool(item["late"]),
    }


def workplan(answers: tuple[Answer, Answer]) -> Workplan:
    """The workplan's delivery and the milestones, as measurement answered them."""
    deliveries, milestones = answers
    delivery_summary, milestone_summary = deliveries["summary"], milestones["summary"]
    return {
        "position": int(deliveries["position"]),
        "deliverables": [_deliverable(item) for item in deliveries["items"]],
        "milestones": [_milestone(item) for item in milestones["items"]],
        "summary": {
            "deliverables": {
                "deliverables": int(delivery_summary["deliverables"]),
                "by_status": {str(k): int(v) for k, v in delivery_summary["by_status"].items()},
                "late": int(delivery_summary["late"]),
                "late_start": int(delivery_summary["late_start"]),
            },
            "milestones": {
                "milestones": int(milestone_summary["milestones"]),
                "by_status": {str(k): int(v) for k, v in milestone_summary["by_status"].items()},
            },
        },
    }


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
        "workplan": None if readings.workplan is None else workplan(readings.workplan),
    }
