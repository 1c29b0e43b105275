"""Loads the illustrative sample history (never real ILO data) through the
application's commands, as any caller would record it."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import yaml

from services.common.access import Principal, Role
from services.common.api_keys import ApiKeys, IssuedKey
from services.common.errors import AuthenticationError
from services.measurement.application.commands import Measurement
from services.measurement.application.queries import catalogue
from services.measurement.domain.scope import IloRegion
from services.measurement.domain.values import Combination, Dimension, Measure

# The sample's principals, one per role (two offices, so that one can be seen
# refused for the other's country). `up` prints a key for each.
MANAGER = Principal("illustrative-programme-manager", Role.PROGRAMME_MANAGER)
OFFICES = (
    Principal.office("illustrative-office-asia", ["BGD", "VNM"]),
    Principal.office("illustrative-office-africa", ["ETH"]),
)
SAMPLE_PRINCIPALS = (
    MANAGER,
    *OFFICES,
    Principal("illustrative-auditor", Role.AUDITOR),
    Principal("illustrative-reporting", Role.REPORTING),
)
SAMPLE_PRINCIPAL = MANAGER.name
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
    present = {b["code"] for b in catalogue.benchmarks(measurement.database, None, True)["items"]}
    if sample["benchmarks"][0]["code"] in present:
        return False
    for sector in sample["sectors"]:
        measurement.select_sector(sector["code"], sector["name"], sector["rationale"], SAMPLE_PRINCIPAL)
    criteria = {
        name: dict(_ILLUSTRATIVE_CRITERION) for name in ("decent_work_deficits", "political_commitment", "ilo_presence")
    }
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
    ids, countries = {}, {}
    for item in sample["observations"]:
        countries[item["ref"]] = item["country"]
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
            actor=_office_for(item["country"]),
        )
    for correction in sample["corrections"]:
        measurement.correct_observation(
            ids[correction["ref"]],
            value=correction["value"],
            disaggregations=None,
            reason=correction["reason"],
            actor=_office_for(countries[correction["ref"]]),
            based_on=[],
        )
    for retraction in sample["retractions"]:
        measurement.retract_observation(
            ids[retraction["ref"]],
            reason=retraction["reason"],
            actor=_office_for(countries[retraction["ref"]]),
            based_on=[],
        )
    return True


def _office_for(country: str) -> Principal:
    return next(office for office in OFFICES if country in office.countries)


def sample_keys(keys: ApiKeys, path: Path) -> list[tuple[Principal, str]]:
    """A key for each of the sample's principals, kept in `path` (readable by
    its owner only). Keys still valid are given again; if the file is missing
    or any key in it no longer works, the sample's keys are revoked and new
    ones written."""
    kept = _read_keys(keys, path)
    if kept is not None:
        path.chmod(0o600)
        return kept
    for principal in SAMPLE_PRINCIPALS:
        for info in keys.keys(principal=principal.name):
            keys.revoke(info.key_id, "stocktake up", "replaced: the sample key file was missing or out of date")
    issued: list[IssuedKey] = [
        keys.issue(p.name, p.role, p.countries, "illustrative sample", "stocktake up") for p in SAMPLE_PRINCIPALS
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Stocktake API keys for the ILLUSTRATIVE sample history (not real ILO data). Keep this file private.",
        "# role  principal  countries  key",
    ]
    for k in issued:
        principal = k.info.principal
        lines.append(f"{principal.role}  {principal.name}  {','.join(sorted(principal.countries)) or '-'}  {k.token}")
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [(k.info.principal, k.token) for k in issued]


def _read_keys(keys: ApiKeys, path: Path) -> list[tuple[Principal, str]] | None:
    if not path.exists():
        return None
    found: dict[str, tuple[Principal, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        token = line.split()[-1]
        try:
            principal = keys.authenticate(token)
        except AuthenticationError:
            return None
        found[principal.name] = (principal, token)
    if set(found) != {p.name for p in SAMPLE_PRINCIPALS} or any(found[p.name][0] != p for p in SAMPLE_PRINCIPALS):
        return None
    return [found[p.name] for p in SAMPLE_PRINCIPALS]
