"""Builders for the domain unit tests: a framework document read from the
real data file, and valid benchmark definitions, scopes and observations that
a test overrides only where the rule under test needs it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml

from services.common.json import jsonable
from services.measurement.domain.benchmarks import Benchmark
from services.measurement.domain.framework import FrameworkDocument
from services.measurement.domain.observations import Observation
from services.measurement.domain.scope import IloRegion, ProgrammeScope, SelectionCriterion
from services.measurement.domain.values import Combination, Dimension, Measure

FRAMEWORK_FILE = Path(__file__).parents[3] / "services/measurement/framework_data/gb329-ins-3-2.v1.yaml"

BASELINE_DATE = date(2017, 1, 1)
FINAL_TARGET_DATE = date(2021, 12, 31)

VALID_DEFINITION_BY_MEASURE: dict[Measure, dict[str, Any]] = {
    Measure.UNIT: {
        "levels": [],
        "baseline_value": 0,
        "target_value": 10,
        "combination": Combination.SUM,
        "threshold": None,
    },
    Measure.PERCENTAGE: {
        "levels": [],
        "baseline_value": 12.5,
        "target_value": 50,
        "combination": Combination.MEAN,
        "threshold": None,
    },
    Measure.ORDINAL: {
        "levels": ["none", "partial", "full"],
        "baseline_value": "none",
        "target_value": "full",
        "combination": Combination.COUNT_MEETING_THRESHOLD,
        "threshold": "partial",
    },
    Measure.NOMINAL: {
        "levels": ["no", "yes"],
        "baseline_value": "no",
        "target_value": "yes",
        "combination": Combination.LATEST,
        "threshold": None,
    },
    Measure.QUALITATIVE: {
        "levels": [],
        "baseline_value": "No national action plan on supply chains.",
        "target_value": "A national action plan is adopted.",
        "combination": Combination.LATEST,
        "threshold": None,
    },
}


@pytest.fixture(scope="session")
def framework() -> FrameworkDocument:
    with FRAMEWORK_FILE.open(encoding="utf-8") as fh:
        return FrameworkDocument(jsonable(yaml.safe_load(fh)))


@pytest.fixture
def definition(framework: FrameworkDocument) -> Callable[..., dict[str, Any]]:
    """The keyword arguments of a valid `Benchmark.define` for `measure`,
    with `overrides` applied."""

    def build(measure: Measure = Measure.PERCENTAGE, **overrides: Any) -> dict[str, Any]:
        valid = VALID_DEFINITION_BY_MEASURE[measure]
        kwargs: dict[str, Any] = {
            "framework": framework,
            "code": f"CA1-{measure.value}",
            "assumption": "CA1",
            "title": f"A {measure.value} benchmark",
            "description": "How far governments act on ratification challenges.",
            "measure": measure,
            "ascending": True,
            "unit_label": "countries" if measure.is_numeric else None,
            "levels": list(valid["levels"]),
            "baseline": {"value": valid["baseline_value"], "date": BASELINE_DATE},
            "targets": [{"value": valid["target_value"], "date": FINAL_TARGET_DATE, "label": "final"}],
            "combination": valid["combination"],
            "threshold": valid["threshold"],
            "disaggregations": [Dimension.SEX],
            "deliverables": ["8.2"],
            "pb_indicators": ["2018-19:1.4"],
            "principal": "pmt@ilo.org",
        }
        if overrides.get("combination", valid["combination"]) is Combination.COUNT_MEETING_THRESHOLD:
            # Baseline and targets of this combination count countries.
            kwargs["baseline"] = {"value": 0, "date": BASELINE_DATE}
            kwargs["targets"] = [{"value": 3, "date": FINAL_TARGET_DATE, "label": "final"}]
        kwargs.update(overrides)
        return kwargs

    return build


@pytest.fixture
def define_benchmark(definition: Callable[..., dict[str, Any]]) -> Callable[..., Benchmark]:
    def build(measure: Measure = Measure.PERCENTAGE, **overrides: Any) -> Benchmark:
        return Benchmark.define(**definition(measure, **overrides))

    return build


@pytest.fixture
def criteria() -> dict[str, dict[str, Any]]:
    """All three country selection criteria of para. 8, met."""
    return {
        criterion.value: {"met": True, "evidence": f"Evidence for {criterion.value}."}
        for criterion in SelectionCriterion
    }


@pytest.fixture
def scope(criteria: dict[str, dict[str, Any]]) -> ProgrammeScope:
    """A programme with one sector (garment) and one country (Viet Nam)."""
    programme = ProgrammeScope(programme="GSC-POA-2017-21", principal="pmt@ilo.org")
    programme.select_sector(
        code="garment", name="Garment", rationale="High decent work deficits.", principal="pmt@ilo.org"
    )
    programme.select_country(
        iso3="VNM", name="Viet Nam", region=IloRegion.ASIA_PACIFIC, criteria=criteria, principal="pmt@ilo.org"
    )
    return programme


@pytest.fixture
def observation_kwargs(scope: ProgrammeScope) -> Callable[..., dict[str, Any]]:
    """The keyword arguments of a valid `Observation.record` of `benchmark`,
    with `overrides` applied."""

    def build(benchmark: Benchmark, **overrides: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "observation_id": uuid4(),
            "benchmark": benchmark,
            "scope": scope,
            "country": "VNM",
            "sector": "garment",
            "period": "2019-Q2",
            "value": VALID_DEFINITION_BY_MEASURE[benchmark.measure]["target_value"],
            "disaggregations": [],
            "evidence": [{"title": "Labour force survey 2019", "url": "https://ilostat.ilo.org/"}],
            "comment": None,
            "principal": "co-hanoi@ilo.org",
        }
        kwargs.update(overrides)
        return kwargs

    return build


@pytest.fixture
def record_observation(observation_kwargs: Callable[..., dict[str, Any]]) -> Callable[..., Observation]:
    def build(benchmark: Benchmark, **overrides: Any) -> Observation:
        return Observation.record(**observation_kwargs(benchmark, **overrides))

    return build
