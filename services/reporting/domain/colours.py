"""The status colour rule of a report.

A benchmark's colour follows its status, which measurement computes by its
documented rule (services/measurement/domain/progress.py) and whose
thresholds it states with every report read:

- green: achieved (the target in force is met), or on track: at most
  `on_track_tolerance` (10%) of |target in force - baseline| behind the
  figure the straight-line trajectory expects at the valid date;
- amber: at risk: at most `at_risk_tolerance` (25%) of that span behind;
- red: off track: further behind;
- grey: no data, or not assessed (qualitative and nominal benchmarks have
  no scale).

"Behind" honours the benchmark's direction: below the expected figure when
more is better (ascending), above it when less is better (descending); a
count of countries meeting a threshold is always better higher."""

from __future__ import annotations

from services.reporting.domain.content import Colour, ColourRule, Thresholds

COLOURS: dict[str, Colour] = {
    "achieved": "green",
    "on_track": "green",
    "at_risk": "amber",
    "off_track": "red",
    "no_data": "grey",
    "not_assessed": "grey",
}


def colour_of(status: str) -> Colour:
    return COLOURS.get(status, "grey")


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def colour_rule(thresholds: Thresholds) -> ColourRule:
    on_track, at_risk = _percent(thresholds["on_track_tolerance"]), _percent(thresholds["at_risk_tolerance"])
    span = (
        "of |target in force - baseline| behind the expected figure "
        "(below it when higher is better, above it when lower is better)"
    )
    return {
        "thresholds": thresholds,
        "legend": [
            {
                "colour": "green",
                "statuses": ["achieved", "on_track"],
                "meaning": f"Target in force met, or at most {on_track} {span}.",
            },
            {
                "colour": "amber",
                "statuses": ["at_risk"],
                "meaning": f"More than {on_track} and at most {at_risk} {span}.",
            },
            {"colour": "red", "statuses": ["off_track"], "meaning": f"More than {at_risk} {span}."},
            {
                "colour": "grey",
                "statuses": ["no_data", "not_assessed"],
                "meaning": "No value in force, or no scale to assess (qualitative and nominal benchmarks).",
            },
        ],
    }
