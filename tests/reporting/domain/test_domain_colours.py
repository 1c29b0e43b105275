"""The colour rule (domain/colours.py), on its own: each status's colour,
the legend that states the thresholds, and at each threshold boundary, for
benchmarks where more is better and where less is, the colour that the
status measurement's documented rule gives (services/measurement/domain/
progress.py: `assess`) maps to. No I/O."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.measurement.domain.progress import (
    AT_RISK_TOLERANCE,
    ON_TRACK_TOLERANCE,
    BenchmarkSpec,
    CountryValue,
    assess,
)
from services.measurement.domain.values import Combination, Measure
from services.reporting.domain import assemble
from services.reporting.domain.colours import COLOURS, colour_of, colour_rule

STATUSES = ("achieved", "on_track", "at_risk", "off_track", "no_data", "not_assessed")
TARGET_DATE = date(2019, 12, 31)


@pytest.mark.parametrize(
    ("status", "colour"),
    [
        ("achieved", "green"),
        ("on_track", "green"),
        ("at_risk", "amber"),
        ("off_track", "red"),
        ("no_data", "grey"),
        ("not_assessed", "grey"),
        ("a-status-measurement-adds-later", "grey"),
    ],
)
def test_each_status_has_its_documented_colour(status: str, colour: str) -> None:
    assert colour_of(status) == colour


def test_the_legend_states_the_thresholds_and_names_every_status_once() -> None:
    rule = colour_rule({"on_track_tolerance": 0.1, "at_risk_tolerance": 0.25})
    assert [entry["colour"] for entry in rule["legend"]] == ["green", "amber", "red", "grey"]
    named = [status for entry in rule["legend"] for status in entry["statuses"]]
    assert sorted(named) == sorted(STATUSES) == sorted(COLOURS)
    for entry in rule["legend"]:
        assert all(COLOURS[status] == entry["colour"] for status in entry["statuses"])
    green, amber, red, _ = (entry["meaning"] for entry in rule["legend"])
    assert "at most 10%" in green and "More than 10% and at most 25%" in amber and "More than 25%" in red
    assert "lower is better" in green


def _spec(ascending: bool) -> BenchmarkSpec:
    """A percentage from 0 to 100 (or 100 to 0 when lower is better) by the
    end of 2019: assessed on that date, the expected figure is the target
    and the span |target - baseline| is 100."""
    baseline, target = (0, 100) if ascending else (100, 0)
    return BenchmarkSpec(
        measure=Measure.PERCENTAGE,
        levels=(),
        ascending=ascending,
        combination=Combination.MEAN,
        threshold=None,
        baseline=(date(2017, 1, 1), baseline),
        targets=((TARGET_DATE, target, "final"),),
    )


def _colour_at(ascending: bool, behind: float) -> str:
    """The colour of the benchmark whose figure is `behind` (in points of
    the 100-point span) behind the expected figure, in its direction."""
    figure = 100 - behind if ascending else behind
    assessment = assess(_spec(ascending), [CountryValue("BGD", TARGET_DATE, figure, 1)], TARGET_DATE)
    return colour_of(assessment.status.value)


ON, AT = ON_TRACK_TOLERANCE * 100, AT_RISK_TOLERANCE * 100
BOUNDARIES = [
    (0, "green"),  # the target met: achieved
    (ON / 2, "green"),
    (ON, "green"),  # exactly on the on-track boundary: still on track
    (ON + 0.01, "amber"),
    (AT, "amber"),  # exactly on the at-risk boundary: still at risk
    (AT + 0.01, "red"),
    (100, "red"),
]


@pytest.mark.parametrize("ascending", [True, False], ids=["higher-is-better", "lower-is-better"])
@pytest.mark.parametrize(("behind", "colour"), BOUNDARIES)
def test_the_colour_at_each_threshold_boundary_in_either_direction(ascending: bool, behind: float, colour: str) -> None:
    assert _colour_at(ascending, behind) == colour


@pytest.mark.parametrize("ascending", [True, False], ids=["higher-is-better", "lower-is-better"])
def test_ahead_of_the_trajectory_is_green_in_either_direction(ascending: bool) -> None:
    # Half way through, ahead of the expected figure in the good direction.
    halfway = date(2018, 7, 2)
    figure = 90 if ascending else 10
    assessment = assess(_spec(ascending), [CountryValue("BGD", halfway, figure, 1)], halfway)
    assert colour_of(assessment.status.value) == "green"


def _entry(status: str, **figures: Any) -> dict[str, Any]:
    """A benchmark as measurement's report read gives it."""
    return {
        "benchmark": "CA2-X",
        "title": "X",
        "measure": "percentage",
        "unit_label": "%",
        "ascending": figures.get("ascending", True),
        "combination": "mean",
        "baseline": {"date": "2017-01-01", "value": 10},
        "targets": [{"date": "2019-12-31", "value": 20, "label": None}],
        "target": {"date": "2019-12-31", "value": 20, "label": None},
        "combined": figures.get("combined"),
        "expected": figures.get("expected"),
        "progress": figures.get("progress"),
        "status": status,
        "position": 7,
        "countries": [],
        "countries_selected": 2,
        "countries_reporting": 0,
        "freshest": None,
    }


numbers = st.none() | st.floats(-1e6, 1e6, allow_nan=False)


@given(
    status=st.sampled_from(STATUSES),
    ascending=st.booleans(),
    combined=numbers,
    expected=numbers,
    progress=st.none() | st.floats(-10, 10, allow_nan=False),
)
def test_a_benchmark_s_colour_is_a_function_of_its_status_only(
    status: str, ascending: bool, combined: float | None, expected: float | None, progress: float | None
) -> None:
    entry = _entry(status, ascending=ascending, combined=combined, expected=expected, progress=progress)
    made = assemble.benchmark(entry, ["BGD", "VNM"], None, None)
    assert made["colour"] == COLOURS[status] and made["status"] == status
