"""The programme as one IATI 2.03 activity (reporting organisation: the ILO,
XM-DAC-41302): a result per critical assumption with benchmarks, carrying
each benchmark as an indicator with its baseline and one period per
calendar year of the programme up to the export's valid date (the last one
ending on it), each with the target in force and the combined figure at the
period's end, and one more `actual` per category of each disaggregation
its observations give (sex, ethnicity, indigenous identity, disability).

Pure: built from the export's pins and measurement's answers only. The
content is checked against the standard's result rules beyond its schema
(`rule_violations`) before it is stored or rendered; rendering/iati.py
writes the XML and validates it against the XSD.

IatiActivity (the root)
    schema: "stocktake.iati-activity/1"; export: the pins; programme: as in a
    report edition; generated: the time the log recorded the event at the
    export's position (ISO 8601, UTC): the activity's last update, from the
    pins, never the clock.
    activity: {"identifier", "reporting_org": {"ref", "type", "name"},
        "title", "description", "status" (IATI ActivityStatus code), "start",
        "end"}.
    results: Result per critical assumption with benchmarks, in the
        framework's order.

Result: {"assumption", "text", "indicators": [Indicator by benchmark code]}.

Indicator
    benchmark, title, description; measure: IATI IndicatorMeasure code "1"
    (unit) ... "5" (qualitative), "1" for a count of countries meeting a
    threshold; ascending: bool (higher is better);
    baseline: {"year", "iso_date", "value" (text or None), "comment" (or None)};
    periods: Period per calendar year, in date order.

Period
    start, end (ISO dates); target: Figure or None (the target in force at
    the period's end); actual: Figure or None (the combined figure there);
    dimensions: {"dimension", "category", "value"} per category reported,
    sorted, the values combined across cells as the benchmark combines them.

Figure: {"value": text or None (None for a qualitative measure), "comment":
    text or None (the level of a qualitative measure, or the target's date
    and label)}."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from services.reporting.domain.content import FIGURE_DECIMALS, figure

SCHEMA = "stocktake.iati-activity/1"
ILO = "XM-DAC-41302"
ILO_NAME = "International Labour Organization"
MULTILATERAL = "40"  # IATI OrganisationType
IMPLEMENTATION, FINALISATION = "2", "3"  # IATI ActivityStatus
OUTCOME = "2"  # IATI ResultType
MEASURES = {"unit": "1", "percentage": "2", "nominal": "3", "ordinal": "4", "qualitative": "5"}
QUALITATIVE, PERCENTAGE = "5", "2"

Answer = Mapping[str, Any]


def identifier(programme_code: str) -> str:
    return f"{ILO}-{programme_code}"


def periods(start: date, as_of: date) -> list[tuple[date, date]]:
    """One reporting period per calendar year from the programme's start to
    `as_of`, the first starting with the programme and the last ending on `as_of`."""
    found = []
    for year in range(start.year, as_of.year + 1):
        first, last = max(date(year, 1, 1), start), min(date(year, 12, 31), as_of)
        if first <= last:
            found.append((first, last))
    return found


def value_text(value: Any) -> str | None:
    """A figure as IATI's @value: the shortest exact decimal, a level as it is."""
    if isinstance(value, bool):
        return str(value).lower()
    value = figure(value)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def measure_code(entry: Answer) -> str:
    if entry["combination"] == "count_meeting_threshold":
        return MEASURES["unit"]
    return MEASURES[str(entry["measure"])]


def _figure(value: Any, measure: str, comment: str | None = None) -> dict[str, Any] | None:
    text = value_text(value)
    if text is None:
        return None
    if measure == QUALITATIVE:
        # A qualitative indicator carries no @value: its level is the comment.
        return {"value": None, "comment": text if comment is None else f"{text} ({comment})"}
    return {"value": text, "comment": comment}


def _description(entry: Answer) -> str:
    unit = entry.get("unit_label") or ("%" if entry["measure"] == "percentage" else None)
    parts = [f"Benchmark {entry['benchmark']} of critical assumption {entry['assumption']}"]
    if entry["combination"] == "count_meeting_threshold":
        parts.append(f"the number of countries whose value meets the threshold {value_text(entry['threshold'])}")
    else:
        parts.append(f"combined across countries by {str(entry['combination']).replace('_', ' ')}")
    if unit:
        parts.append(f"unit: {unit}")
    return "; ".join(parts) + "."


def combine_dimensions(combination: str, cells: Sequence[tuple[str, Sequence[Answer]]]) -> list[dict[str, Any]]:
    """Per (dimension, category), the values of the cells that report it,
    combined as the benchmark combines its cells (sum, mean, or the latest
    valid date's); none for a count of countries meeting a threshold, which
    counts countries, not categories. `cells`: (valid date, disaggregated
    values) per cell."""
    if combination == "count_meeting_threshold":
        return []
    grouped: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for valid_date, values in cells:
        for item in values:
            grouped.setdefault((str(item["dimension"]), str(item["category"])), []).append((valid_date, item["value"]))
    found = []
    for (dimension, category), reported in sorted(grouped.items()):
        numbers = [value for _, value in reported if isinstance(value, int | float) and not isinstance(value, bool)]
        combined: Any
        if combination == "latest" or len(numbers) != len(reported):
            combined = max(reported, key=lambda pair: pair[0])[1]
        elif combination == "sum":
            combined = sum(numbers)
        else:
            combined = round(sum(numbers) / len(numbers), FIGURE_DECIMALS)
        found.append({"dimension": dimension, "category": category, "value": value_text(combined)})
    return found


def _target(state: Answer, measure: str) -> dict[str, Any] | None:
    target = state.get("target")
    if target is None:
        return None
    label = f"target for {target['date']}" + (f", {target['label']}" if target.get("label") else "")
    return _figure(target["value"], measure, label)


def indicator(
    entry: Answer, states: Sequence[tuple[tuple[date, date], Answer | None, list[dict[str, Any]]]]
) -> dict[str, Any]:
    """A benchmark as an IATI indicator. `states`: per period, the benchmark's
    state at its end (None: not defined yet then) and its dimension values."""
    measure = measure_code(entry)
    baseline = entry["baseline"]
    baseline_figure = _figure(baseline["value"], measure) or {"value": None, "comment": None}
    found_periods = []
    for (start, end), state, dimensions in states:
        found_periods.append(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "target": None if state is None else _target(state, measure),
                "actual": None if state is None else _figure(state["combined"], measure),
                "dimensions": [] if measure == QUALITATIVE else dimensions,
            }
        )
    return {
        "benchmark": entry["benchmark"],
        "title": entry["title"],
        "description": _description(entry),
        "measure": measure,
        "ascending": bool(entry["ascending"]) or entry["combination"] == "count_meeting_threshold",
        "baseline": {
            "year": date.fromisoformat(str(baseline["date"])).year,
            "iso_date": str(baseline["date"]),
            **baseline_figure,
        },
        "periods": found_periods,
    }


def activity(programme: Answer, as_of: date) -> dict[str, Any]:
    end = date.fromisoformat(str(programme["period"]["end"]))
    return {
        "identifier": identifier(str(programme["code"])),
        "reporting_org": {"ref": ILO, "type": MULTILATERAL, "name": ILO_NAME},
        "title": programme["title"],
        "description": programme["theory_of_change"].get("intervention") or programme["title"],
        "status": IMPLEMENTATION if as_of <= end else FINALISATION,
        "start": str(programme["period"]["start"]),
        "end": str(programme["period"]["end"]),
    }


def rule_violations(content: Answer) -> list[str]:
    """Where the content breaks IATI's rules for results beyond the schema:
    the activity identifier starts with the reporting organisation's; a
    period's start is not after its end; a percentage is within 0-100; a
    qualitative indicator carries no numeric value."""
    found = []
    activity_ = content["activity"]
    if not str(activity_["identifier"]).startswith(f"{activity_['reporting_org']['ref']}-"):
        found.append(
            f"activity: the identifier {activity_['identifier']} does not start with the reporting "
            f"organisation's identifier {activity_['reporting_org']['ref']}-"
        )
    for result in content["results"]:
        for item in result["indicators"]:
            where = f"indicator {item['benchmark']}"
            figures = [("baseline", item["baseline"]["value"])]
            for period in item["periods"]:
                if period["start"] > period["end"]:
                    found.append(f"{where}: the period {period['start']} to {period['end']} starts after it ends")
                span = f"period {period['start']} to {period['end']}"
                for name in ("target", "actual"):
                    if period[name] is not None:
                        figures.append((f"{span} {name}", period[name]["value"]))
                figures.extend((f"{span} {d['dimension']} {d['category']}", d["value"]) for d in period["dimensions"])
            found.extend(_figure_violations(where, item["measure"], figures))
    return found


def _figure_violations(where: str, measure: str, figures: list[tuple[str, str | None]]) -> list[str]:
    found = []
    for name, value in figures:
        if value is None:
            continue
        if measure == QUALITATIVE:
            found.append(f"{where}: the {name} of a qualitative indicator carries the value {value}")
        elif measure == PERCENTAGE:
            try:
                number = float(value)
            except ValueError:
                found.append(f"{where}: the {name} percentage {value!r} is not a number")
                continue
            if not 0 <= number <= 100:
                found.append(f"{where}: the {name} percentage {value} is outside 0-100")
    return found


Period = tuple[date, date]
Dimensions = Mapping[tuple[str, Period], list[dict[str, Any]]]


def content(
    pins: Mapping[str, Any],
    programme: Answer,
    assumptions: Sequence[tuple[str, str]],
    generated: str,
    readings: Sequence[tuple[Period, Answer]],
    dimensions: Dimensions,
) -> dict[str, Any]:
    """`assumptions`: the framework's (code, text), in its order;
    `readings`: measurement's report at each period's end (the last at the
    export's valid date), all at the export's position; `dimensions`: per
    (benchmark, period), its combined disaggregated values."""
    by_period = [(period, {str(e["benchmark"]): e for e in answer["benchmarks"]}) for period, answer in readings]
    final = readings[-1][1] if readings else {"benchmarks": []}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in sorted(final["benchmarks"], key=lambda entry: str(entry["benchmark"])):
        code = str(entry["benchmark"])
        states = [(period, states.get(code), list(dimensions.get((code, period), []))) for period, states in by_period]
        grouped.setdefault(str(entry["assumption"]), []).append(indicator(entry, states))
    results = [
        {"assumption": code, "text": text, "indicators": grouped[code]} for code, text in assumptions if code in grouped
    ]
    return {
        "schema": SCHEMA,
        "export": dict(pins),
        "programme": dict(programme),
        "generated": generated,
        "activity": activity(programme, date.fromisoformat(str(pins["as_of"]))),
        "results": results,
    }
