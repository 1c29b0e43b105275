"""Report contents for the renderer tests: a realistic mid-term edition with
every kind of benchmark (percentage mean, lower-is-better percentage, count
of countries meeting an ordinal threshold, a qualitative one, one without
data) and an assumption without benchmarks, plus builders for variants."""

from __future__ import annotations

import copy
from typing import Any

from services.reporting.domain.content import (
    SCHEMA,
    Assumption,
    Benchmark,
    Cell,
    ColourCounts,
    Deliverable,
    Milestone,
    ReportContent,
    SeriesPoint,
    Trend,
    Workplan,
)

# Any 32 bytes in base64: renderers show a checkpoint, they do not check it.
SAMPLE_ROOT = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs="
QUARTER_ENDS = ("2017-03-31", "2017-06-30", "2017-09-30", "2017-12-31", "2018-03-31")
NO_TREND: Trend = {
    "previous_as_of": None,
    "previous_position": None,
    "previous_combined": None,
    "change": None,
    "direction": None,
}


def cell(
    country: str, value: Any, valid_date: str = "2018-03-31", known_at: int = 120, sector: str | None = None
) -> Cell:
    return {"country": country, "sector": sector, "value": value, "valid_date": valid_date, "known_at": known_at}


def series(combined: list[Any], expected: list[Any], status: str = "on_track") -> list[SeriesPoint]:
    return [
        {"date": day, "combined": figure, "expected": trajectory, "status": status}
        for day, figure, trajectory in zip(QUARTER_ENDS, combined, expected, strict=False)
    ]


def benchmark(code: str, **overrides: Any) -> Benchmark:
    """A percentage benchmark (mean across countries) with data, changed by `overrides`."""
    base: Benchmark = {
        "code": code,
        "title": f"[Illustrative] {code}",
        "measure": "percentage",
        "unit": "%",
        "ascending": True,
        "combination": "mean",
        "baseline": {"date": "2017-01-01", "value": 12},
        "targets": [
            {"date": "2019-12-31", "value": 18, "label": "mid-term 2019 milestone"},
            {"date": "2021-12-31", "value": 25, "label": "final 2021 target"},
        ],
        "target_in_force": {"date": "2019-12-31", "value": 18, "label": "mid-term 2019 milestone"},
        "combined": 14.25,
        "expected": 14.9863,
        "progress": 0.375,
        "status": "on_track",
        "colour": "green",
        "position": 240,
        "cells": [cell("BGD", 13.5, known_at=101), cell("ETH", 12.0, "2017-12-31", 57), cell("VNM", 17.25)],
        "coverage": {
            "countries_selected": 4,
            "countries_reporting": 3,
            "countries_missing": ["KHM"],
            "freshest": "2018-03-31",
        },
        "trend": {
            "previous_as_of": "2017-12-31",
            "previous_position": 90,
            "previous_combined": 13.1,
            "change": 1.15,
            "direction": "better",
        },
        "series": series([12.5, 12.9, None, 13.1, 14.25, 14.25], [12.5, 13.1, 13.6, 14.1, 14.6, 14.9863]),
    }
    base.update(overrides)  # type: ignore[typeddict-item]
    return base


def descending_benchmark() -> Benchmark:
    return benchmark(
        "ILL-CA2-VIOLATIONS",
        title="[Illustrative] Share of inspected workplaces with serious violations",
        ascending=False,
        baseline={"date": "2017-01-01", "value": 40.0},
        targets=[{"date": "2021-12-31", "value": 20.0, "label": "final 2021 target"}],
        target_in_force={"date": "2021-12-31", "value": 20.0, "label": "final 2021 target"},
        combined=38.5,
        expected=33.2,
        progress=0.075,
        status="off_track",
        colour="red",
        series=series([40.0, 39.5, 39.0, 38.5], [39.4, 38.4, 37.4, 36.4], "off_track"),
    )


def threshold_benchmark() -> Benchmark:
    return benchmark(
        "ILL-CA3-DIALOGUE",
        title="[Illustrative] Countries where tripartite social dialogue on GSCs is functioning",
        measure="ordinal",
        unit=None,
        combination="count_meeting_threshold",
        baseline={"date": "2017-01-01", "value": 0},
        targets=[
            {"date": "2019-12-31", "value": 2, "label": "mid-term 2019 milestone"},
            {"date": "2021-12-31", "value": 3, "label": None},
        ],
        target_in_force={"date": "2019-12-31", "value": 2, "label": "mid-term 2019 milestone"},
        combined=1,
        expected=0.9589,
        progress=0.5,
        status="achieved",
        colour="green",
        cells=[cell("BGD", "functioning"), cell("ETH", "emerging", "2017-12-31", 60), cell("VNM", "none")],
        series=series([0, 0, 1, 1], [0.1, 0.3, 0.5, 0.7], "achieved"),
        trend=NO_TREND,
    )


def qualitative_benchmark() -> Benchmark:
    return benchmark(
        "ILL-CA5-COHERENCE",
        title="[Illustrative] State of policy coherence with multilateral initiatives",
        measure="qualitative",
        unit=None,
        combination="latest",
        baseline={"date": "2017-01-01", "value": "Ad hoc exchanges only."},
        targets=[{"date": "2021-12-31", "value": "A joint work plan with the OECD and the UN.", "label": None}],
        target_in_force={"date": "2021-12-31", "value": "A joint work plan with the OECD and the UN.", "label": None},
        combined="Regular exchanges; a joint statement <em>drafted</em> & circulated.",
        expected=None,
        progress=None,
        status="not_assessed",
        colour="grey",
        cells=[cell("INT", "Regular exchanges; a joint statement <em>drafted</em> & circulated.")],
        coverage={"countries_selected": 1, "countries_reporting": 1, "countries_missing": [], "freshest": "2018-03-31"},
        series=series(["Ad hoc exchanges only.", "Regular exchanges."], [None, None], "not_assessed"),
        trend=NO_TREND,
    )


def empty_benchmark() -> Benchmark:
    """A benchmark with no observation at all."""
    return benchmark(
        "ILL-CA10-DATASETS",
        title="[Illustrative] Key GSC datasets produced by national statistical offices",
        measure="unit",
        unit="datasets",
        combination="sum",
        baseline={"date": "2017-01-01", "value": 0},
        targets=[{"date": "2021-12-31", "value": 12, "label": None}],
        target_in_force={"date": "2021-12-31", "value": 12, "label": None},
        combined=None,
        expected=3.3,
        progress=None,
        status="no_data",
        colour="grey",
        cells=[],
        coverage={
            "countries_selected": 3,
            "countries_reporting": 0,
            "countries_missing": ["BGD", "ETH", "VNM"],
            "freshest": None,
        },
        series=series([None, None], [0.3, 0.6], "no_data"),
        trend=NO_TREND,
    )


def assumption(code: str, benchmarks: list[Benchmark]) -> Assumption:
    counts: ColourCounts = {"green": 0, "amber": 0, "red": 0, "grey": 0}
    for item in benchmarks:
        counts[item["colour"]] += 1
    return {
        "code": code,
        "text": f"Critical assumption {code} (text of Appendix II).",
        "benchmarks": benchmarks,
        "summary": {"benchmarks": len(benchmarks), "by_colour": counts},
    }


def report(assumptions: list[Assumption] | None = None) -> ReportContent:
    if assumptions is None:
        assumptions = [
            assumption("CA2", [benchmark("ILL-CA2-INSPECTION"), descending_benchmark()]),
            assumption("CA3", [threshold_benchmark()]),
            assumption("CA4", []),
            assumption("CA5", [qualitative_benchmark()]),
            assumption("CA10", [empty_benchmark()]),
        ]
    return {
        "schema": SCHEMA,
        "edition": {
            "kind": "mid-term",
            "title": "Mid-term stocktaking report (as of 2018-03-31)",
            "as_of": "2018-03-31",
            "position": 240,
            "checkpoint": {
                "size": 240,
                "root_hash": SAMPLE_ROOT,
                "note": f"stocktake.local/gsc-poa-2017-21\n240\n{SAMPLE_ROOT}\n\n— stocktake.local/gsc-poa-2017-21 "
                "AAAAAFNhbXBsZSBzaWduYXR1cmUsIG5vdCBjaGVja2VkIGJ5IHJlbmRlcmVycw==\n",
            },
            "framework": "GSC-POA-2017-21 v1",
            "template_version": "1",
            "generator_version": "0.1.0",
            "previous": {"id": "5b0c1f3e-3a7e-4d7e-9a55-0d6c2d1e6f00", "as_of": "2017-12-31", "position": 90},
        },
        "programme": {
            "code": "GSC-POA-2017-21",
            "title": "ILO Programme of Action on decent work in global supply chains 2017–21",
            "period": {"start": "2017-01-01", "end": "2021-12-31"},
            "theory_of_change": {
                "intervention": "The ILO programme of action on global supply chains.",
                "current_situation": None,
                "future_situation": "Decent work deficits are reduced in GSCs.",
            },
        },
        "colour_rule": {
            "thresholds": {"on_track_tolerance": 0.1, "at_risk_tolerance": 0.25},
            "legend": [
                {"colour": "green", "statuses": ["achieved", "on_track"], "meaning": "Achieved, or on track."},
                {"colour": "amber", "statuses": ["at_risk"], "meaning": "At risk."},
                {"colour": "red", "statuses": ["off_track"], "meaning": "Off track."},
                {"colour": "grey", "statuses": ["no_data", "not_assessed"], "meaning": "No data or not assessed."},
            ],
        },
        "assumptions": assumptions,
        "restatements": [
            {
                "benchmark": "ILL-CA2-INSPECTION",
                "country": "BGD",
                "sector": None,
                "as_of": "2017-12-31",
                "before": {"value": 12.5, "valid_date": "2017-12-31", "known_at": 80},
                "after": {"value": 13.0, "valid_date": "2017-12-31", "known_at": 80},
                "reason": "correction",
            },
            {
                "benchmark": "ILL-CA2-INSPECTION",
                "country": "ETH",
                "sector": "textiles",
                "as_of": "2017-12-31",
                "before": None,
                "after": {"value": 12.0, "valid_date": "2017-12-31", "known_at": 57},
                "reason": "new_observation",
            },
        ],
        "workplan": None,
    }


def workplan() -> Workplan:
    """Two deliverables and two milestones, as measurement answers them."""
    deliverable: Deliverable = {
        "code": "2.1",
        "area": "AA2",
        "title": "Research on decent work deficits in GSCs",
        "planned_start": "2017-01-01",
        "planned_end": "2018-12-31",
        "status": "delivered",
        "started_on": "2017-02-15",
        "delivered_on": "2018-11-30",
        "evidence": "https://www.ilo.org/gsc/research",
        "dropped_on": None,
        "reason": None,
        "late": False,
        "late_start": False,
    }
    dropped: Deliverable = {
        **deliverable,
        "code": "9.2",
        "status": "dropped",
        "started_on": None,
        "delivered_on": None,
        "evidence": None,
        "dropped_on": "2018-03-01",
        "reason": "=merged into 9.1",
    }
    milestone: Milestone = {
        "code": "M8",
        "paragraph": 9,
        "text": "Mid-term report to the Governing Body",
        "due": "2019-11-30",
        "status": "met",
        "met_on": "2019-10-15",
        "missed_on": None,
        "note": "GB.337 <report>",
        "late": False,
    }
    undated: Milestone = {**milestone, "code": "M5", "due": None, "status": "open", "met_on": None, "note": None}
    return {
        "position": 240,
        "deliverables": [deliverable, dropped],
        "milestones": [undated, milestone],
        "summary": {
            "deliverables": {
                "deliverables": 2,
                "by_status": {"delivered": 1, "dropped": 1},
                "late": 0,
                "late_start": 0,
            },
            "milestones": {"milestones": 2, "by_status": {"met": 1, "open": 1}},
        },
    }


HOSTILE_TEXTS = ('=HYPERLINK("http://evil.example")', "+1+2", "-3+4", "@SUM(A1:A2)", "\tTAB", "\rCR")


def hostile_report() -> ReportContent:
    """A report whose texts start with every formula trigger, where a text can be."""
    content = copy.deepcopy(report())
    inspection = content["assumptions"][0]["benchmarks"][0]
    inspection["title"] = "=1+1 title"
    inspection["cells"] = [cell(text, 10.0 + index, sector="@sector") for index, text in enumerate(HOSTILE_TEXTS)]
    qualitative = content["assumptions"][3]["benchmarks"][0]
    qualitative["cells"] = [cell("INT", "=cmd|' /C calc'!A0")]
    qualitative["combined"] = "-2+3"
    return content
