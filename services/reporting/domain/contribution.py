"""The programme's contribution to the ILO programme and budget of one
biennium (GB.329/INS/3/2, para. 14), for the Programme Implementation report
(para. 13): per P&B outcome and indicator the framework aligns the programme
with, directly or indirectly, the benchmarks tagged with that indicator
(`pb_indicators`, BIENNIUM:CODE), their figures at the export's valid date
as known at its position, baseline and targets, the countries and sectors
whose values are behind them, and the critical assumption each serves.

Pure: built from the export's pins and measurement's answers only, so the
same answers give the same content. Its canonical JSON
(`content.canonical_json`) is the JSON rendering.

PiContribution (the root)
    schema: "stocktake.pi-contribution/1".
    export: the pins (kind, title, biennium, as_of, position, checkpoint,
        framework, template_version, generator_version).
    programme: as in a report edition (code, title, period, theory of change).
    biennium: e.g. "2018-19".
    outcomes: Outcome per row of the framework's alignment for the biennium,
        in the framework's order.
    untagged: the codes of the benchmarks (not retired) tagged with no
        indicator of this biennium, sorted: what the contribution leaves out.

Outcome
    outcome: "1" ... "10", "A"; text: para. 14's words for it; condition:
    e.g. "depending on link to GSCs", or None.
    indicators: Indicator per indicator, the direct ones first, each group in
    the framework's order.

Indicator
    code: e.g. "7.1"; relation: "direct" | "indirect";
    benchmarks: Contribution per benchmark tagged BIENNIUM:CODE, by code
    (empty when none is: the report shows the gap).

Contribution
    code, title, measure, unit, ascending, combination, baseline, targets,
    target_in_force, combined, expected, progress, status (as in a report
    edition's Benchmark, rounded the same way);
    assumption: {"code", "text"}: the critical assumption it serves;
    countries: the countries of its cells, sorted; sectors: their sectors
    (those named), sorted; cells: Cell per (country, sector) with a value in
    force, as in a report edition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.reporting.domain import assemble

SCHEMA = "stocktake.pi-contribution/1"
Answer = Mapping[str, Any]

_FROM_BENCHMARK = (
    "code",
    "title",
    "measure",
    "unit",
    "ascending",
    "combination",
    "baseline",
    "targets",
    "target_in_force",
    "combined",
    "expected",
    "progress",
    "status",
    "cells",
)


def aligned_bienniums(framework: Answer) -> list[str]:
    """The bienniums the framework aligns the programme with, in its order."""
    found: list[str] = []
    for row in framework["pb_alignment"]:
        if row["biennium"] not in found:
            found.append(str(row["biennium"]))
    return found


def _with_coverage(item: dict[str, Any]) -> dict[str, Any]:
    """The countries and sectors of a contribution, from its cells."""
    cells = item["cells"]
    return {
        **item,
        "countries": sorted({cell["country"] for cell in cells}),
        "sectors": sorted({cell["sector"] for cell in cells if cell["sector"] is not None}),
    }


def contribution(entry: Answer, assumptions: Mapping[str, str], selected: list[str]) -> dict[str, Any]:
    """One benchmark as a contribution: its figures as a report edition states them."""
    stated = assemble.benchmark(entry, selected, None, None)
    item = {name: stated[name] for name in _FROM_BENCHMARK}  # type: ignore[literal-required]
    code = str(entry["assumption"])
    item["assumption"] = {"code": code, "text": assumptions.get(code)}
    return _with_coverage(item)


def content(pins: Mapping[str, Any], framework: Answer, report: Answer) -> dict[str, Any]:
    biennium = str(pins["biennium"])
    assumptions = {str(a["code"]): str(a["text"]) for a in framework["critical_assumptions"]}
    selected = list(report["countries_selected"])
    tagged: dict[str, list[dict[str, Any]]] = {}
    untagged: list[str] = []
    for entry in sorted(report["benchmarks"], key=lambda entry: str(entry["benchmark"])):
        mine = [tag for tag in entry.get("pb_indicators", []) if str(tag).startswith(f"{biennium}:")]
        if not mine:
            untagged.append(str(entry["benchmark"]))
            continue
        item = contribution(entry, assumptions, selected)
        for tag in mine:
            tagged.setdefault(str(tag), []).append(item)
    outcomes = []
    for row in framework["pb_alignment"]:
        if row["biennium"] != biennium:
            continue
        indicators = [
            {"code": code, "relation": relation, "benchmarks": tagged.get(f"{biennium}:{code}", [])}
            for relation, codes in (("direct", row["direct_indicators"]), ("indirect", row["indirect_indicators"]))
            for code in codes
        ]
        outcomes.append(
            {
                "outcome": row["outcome"],
                "text": row["text"],
                "condition": row.get("condition"),
                "indicators": indicators,
            }
        )
    return {
        "schema": SCHEMA,
        "export": dict(pins),
        "programme": assemble.programme(framework),
        "biennium": biennium,
        "outcomes": outcomes,
        "untagged": untagged,
    }


def visible_to(content: dict[str, Any], countries: frozenset[str]) -> dict[str, Any]:
    """A country office's view: its own countries' cells only (the combined
    figures stay the programme's), with the countries and sectors of those."""
    outcomes = []
    for outcome in content["outcomes"]:
        indicators = []
        for indicator in outcome["indicators"]:
            benchmarks = [
                _with_coverage({**item, "cells": [cell for cell in item["cells"] if cell["country"] in countries]})
                for item in indicator["benchmarks"]
            ]
            indicators.append({**indicator, "benchmarks": benchmarks})
        outcomes.append({**outcome, "indicators": indicators})
    return {**content, "outcomes": outcomes}
