"""The IATI activity's content (domain/iati.py) and its XML
(rendering/iati.py), on their own, from measurement-shaped answers: the
result rules beyond the schema, the periods, the disaggregated values, and
for every history hypothesis makes, XML that validates against the IATI
2.03 schema and is the same bytes when made again. No I/O but the XSD."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.reporting.domain import iati
from services.reporting.rendering.iati import IatiSchemaError, render_iati, schema_errors

PROGRAMME = {
    "code": "GSC-POA-2017-21",
    "title": "ILO programme of action on decent work in global supply chains",
    "period": {"start": "2017-01-01", "end": "2021-12-31"},
    "theory_of_change": {"intervention": "Build capacity", "current_situation": None, "future_situation": None},
}
PINS = {
    "kind": "iati-activity",
    "as_of": "2019-12-31",
    "position": 42,
    "checkpoint": {"size": 42, "root_hash": "cm9vdA==", "note": "stocktake.example/log\n42\ncm9vdA==\n"},
    "framework": "GSC-POA-2017-21 v1",
    "template_version": "1",
    "generator_version": "stocktake-exports/1",
}
ASSUMPTIONS = [("CA2", "Labour inspection is effective"), ("CA5", "Policies are adopted")]


def entry(code: str = "CA2-X", measure: str = "percentage", combined: Any = 15.5, **overrides: Any) -> dict[str, Any]:
    found = {
        "benchmark": code,
        "assumption": code.split("-")[0],
        "title": f"Benchmark {code}",
        "measure": measure,
        "ascending": True,
        "combination": "mean",
        "unit_label": None,
        "threshold": None,
        "baseline": {"value": 10, "date": "2017-01-01"},
        "target": {"value": 20, "date": "2019-12-31", "label": "mid-term"},
        "combined": combined,
        "countries": [],
        "disaggregations": [],
    }
    found.update(overrides)
    return found


def content(*entries: dict[str, Any], as_of: date = date(2019, 12, 31)) -> dict[str, Any]:
    periods = iati.periods(date(2017, 1, 1), as_of)
    readings = [(period, {"benchmarks": list(entries)}) for period in periods]
    pins = {**PINS, "as_of": as_of.isoformat()}
    return iati.content(pins, PROGRAMME, ASSUMPTIONS, "2019-12-31T10:00:00Z", readings, {})


def test_periods_are_calendar_years_from_the_programme_s_start_the_last_ending_on_as_of() -> None:
    assert iati.periods(date(2017, 3, 1), date(2019, 6, 30)) == [
        (date(2017, 3, 1), date(2017, 12, 31)),
        (date(2018, 1, 1), date(2018, 12, 31)),
        (date(2019, 1, 1), date(2019, 6, 30)),
    ]
    assert iati.periods(date(2017, 1, 1), date(2017, 1, 1)) == [(date(2017, 1, 1), date(2017, 1, 1))]


def test_a_sound_activity_breaks_no_rule_and_validates() -> None:
    made = content(entry(), entry("CA5-Y", "qualitative", "Adopted", combination="latest"))
    assert iati.rule_violations(made) == []
    assert schema_errors(render_iati(made)) == []
    assert render_iati(made) == render_iati(
        content(entry(), entry("CA5-Y", "qualitative", "Adopted", combination="latest"))
    )


def test_each_result_rule_beyond_the_schema_is_named() -> None:
    made = content(entry(combined=120.0), entry("CA5-Y", "qualitative", "Adopted", combination="latest"))
    made["activity"]["identifier"] = "XM-DAC-99999-GSC"
    made["results"][0]["indicators"][0]["periods"][0]["start"] = "2018-01-01"
    made["results"][1]["indicators"][0]["periods"][2]["actual"] = {"value": "3", "comment": None}
    found = iati.rule_violations(made)
    assert any("does not start with the reporting organisation's identifier XM-DAC-41302-" in v for v in found)
    assert any("the period 2018-01-01 to 2017-12-31 starts after it ends" in v for v in found)
    assert any("actual percentage 120 is outside 0-100" in v for v in found)
    assert any("CA5-Y: the period 2019-01-01 to 2019-12-31 actual of a qualitative indicator" in v for v in found)


def test_xml_that_breaks_the_schema_is_refused_not_returned() -> None:
    made = content(entry())
    made["results"][0]["indicators"][0]["baseline"]["year"] = 0  # xsd:positiveInteger
    with pytest.raises(IatiSchemaError, match="year"):
        render_iati(made)


def test_a_count_of_countries_meeting_a_threshold_is_a_unit_indicator_that_is_ascending() -> None:
    counted = entry("CA2-C", "ordinal", 3, combination="count_meeting_threshold", ascending=False, threshold="high")
    (indicator,) = content(counted)["results"][0]["indicators"]
    assert (indicator["measure"], indicator["ascending"]) == ("1", True)
    assert "meets the threshold high" in indicator["description"]


@pytest.mark.parametrize(
    ("combination", "expected"),
    [("sum", ["female 30", "male 10"]), ("mean", ["female 15", "male 10"]), ("latest", ["female 20", "male 10"])],
)
def test_disaggregated_values_are_combined_as_the_benchmark_combines_its_cells(
    combination: str, expected: list[str]
) -> None:
    cells = [
        ("2018-12-31", [{"dimension": "sex", "category": "female", "value": 10}]),
        (
            "2019-06-30",
            [
                {"dimension": "sex", "category": "female", "value": 20},
                {"dimension": "sex", "category": "male", "value": 10},
            ],
        ),
    ]
    found = iati.combine_dimensions(combination, cells)
    assert [f"{d['category']} {d['value']}" for d in found] == expected
    assert iati.combine_dimensions("count_meeting_threshold", cells) == []


figures = st.one_of(st.none(), st.integers(0, 100), st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 4)))
texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    combined=figures,
    baseline=st.integers(0, 100),
    target=figures,
    level=texts,
    title=texts,
    as_of=st.dates(date(2017, 1, 1), date(2022, 10, 31)),
)
def test_every_history_gives_xml_that_validates_and_breaks_no_rule(
    combined: Any, baseline: int, target: Any, level: str, title: str, as_of: date
) -> None:
    percentage = entry(
        title=title,
        combined=combined,
        baseline={"value": baseline, "date": "2017-01-01"},
        target=None if target is None else {"value": target, "date": "2021-12-31", "label": None},
    )
    qualitative = entry(
        "CA5-Q", "qualitative", level, combination="latest", baseline={"value": level, "date": "2017-06-30"}
    )
    made = content(percentage, qualitative, as_of=as_of)
    assert iati.rule_violations(made) == []
    document = render_iati(made)
    assert schema_errors(document) == [] and document == render_iati(made)
