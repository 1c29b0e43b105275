"""Loads the illustrative sample history (never real ILO data) through the
application's commands, as any caller would record it."""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import yaml

from services.measurement.application import Measurement
from services.measurement.domain.scope import IloRegion
from services.measurement.domain.values import Combination, Dimension, Measure

SAMPLE_PRINCIPAL = "sample-loader (illustrative data)"
_ILLUSTRATIVE_CRITERION = {"met": True, "evidence": "Illustrative sample: invented for demonstration."}


def read_sample() -> dict[str, Any]:
    text = (resources.files("services.measurement") / "sample_data" / "illustrative-history.yaml").read_text("utf-8")
    sample: dict[str, Any] = yaml.safe_load(text)
    return sample


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def load_sample(measurement: Measurement) -> bool:
    """Records the sample unless it is there already; True if it was loaded."""
    sample = read_sample()
    present = {b["code"] for b in measurement.benchmarks(None, True)["items"]}
    if sample["benchmarks"][0]["code"] in present:
        return False
    for sector in sample["sectors"]:
        measurement.select_sector(sector["code"], sector["name"], sector["rationale"], SAMPLE_PRINCIPAL)
    criteria = {name: dict(_ILLUSTRATIVE_CRITERION) for name in ("decent_work_deficits", "political_commitment", "ilo_presence")}
    for country in sample["countries"]:
        measurement.select_country(country["iso3"], IloRegion(country["region"]), criteria, SAMPLE_PRINCIPAL)
    for focal_point in sample["focal_points"]:
        measurement.nominate_focal_point(
            IloRegion(focal_point["region"]), focal_point["name"], focal_point["email"], SAMPLE_PRINCIPAL
        )
    for spec in sample["benchmarks"]:
        measurement.define_benchmark(
            code=spec["code"],
            assumption=spec["assumption"],
            title=spec["title"],
            description=spec["description"],
            measure=Measure(spec["measure"]),
            ascending=spec["ascending"],
            unit_label=spec.get("unit_label"),
            levels=spec.get("levels", []),
            baseline={"value": spec["baseline"]["value"], "date": _as_date(spec["baseline"]["date"])},
            targets=[
                {"value": t["value"], "date": _as_date(t["date"]), "label": t.get("label")} for t in spec["targets"]
            ],
            combination=Combination(spec["combination"]),
            threshold=spec.get("threshold"),
            disaggregations=[Dimension(d) for d in spec.get("disaggregations", [])],
            deliverables=spec.get("deliverables", []),
            pb_indicators=spec.get("pb_indicators", []),
            principal=SAMPLE_PRINCIPAL,
        )
    ids = {}
    for item in sample["observations"]:
        ids[item["ref"]] = uuid5(NAMESPACE_URL, f"stocktake:illustrative-sample:{item['ref']}")
        measurement.record_observation(
            observation_id=ids[item["ref"]],
            benchmark=item["benchmark"],
            country=item["country"],
            sector=item.get("sector"),
            period=str(item["period"]),
            value=item["value"],
            disaggregations=item.get("disaggregations", []),
            evidence=item.get("evidence", []),
            comment=item.get("comment"),
            principal=SAMPLE_PRINCIPAL,
        )
    for correction in sample["corrections"]:
        measurement.correct_observation(
            ids[correction["ref"]],
            value=correction["value"],
            disaggregations=None,
            reason=correction["reason"],
            principal=SAMPLE_PRINCIPAL,
            based_on=[],
        )
    for retraction in sample["retractions"]:
        measurement.retract_observation(
            ids[retraction["ref"]], reason=retraction["reason"], principal=SAMPLE_PRINCIPAL, based_on=[]
        )
    return True
