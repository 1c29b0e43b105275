"""The programme framework: areas, assumptions, deliverables, alignments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from services.common.access import Permission
from services.common.errors import NotFoundError, did_you_mean
from services.common.http.authorization import allowed
from services.measurement.application.queries import catalogue
from services.measurement.domain.framework import PROGRAMME_WINDOW
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.framework_version import answer_with_framework
from services.measurement.entrypoints.http.schemas.common import LogPosition, query_period
from services.measurement.entrypoints.http.schemas.framework import (
    CriticalAssumptionList,
    CriticalAssumptionRead,
    DeliverableList,
    DeliverableRead,
    FrameworkPublic,
)

router = APIRouter(prefix="/framework", tags=["framework"], dependencies=[allowed(Permission.READ_FRAMEWORK)])

AtPosition = Annotated[LogPosition | None, Query(description="Answer as known at this log position (default: now)")]


def _framework(measurement: MeasurementDep, response: Response, at: int | None) -> dict[str, Any]:
    found = catalogue.framework(measurement, at)
    return answer_with_framework(response, measurement, {**found, "framework_version": found["version"]})


@router.get("", response_model=FrameworkPublic, operation_id="getFramework")
def get_framework(measurement: MeasurementDep, response: Response, at: AtPosition = None) -> dict[str, Any]:
    """The whole programme framework, as loaded from the roadmap."""
    found = _framework(measurement, response, at)
    return {**found["document"], "framework_version": found["version"], "position": found["position"]}


@router.get("/assumptions", response_model=CriticalAssumptionList, operation_id="listCriticalAssumptions")
def list_assumptions(measurement: MeasurementDep, response: Response, at: AtPosition = None) -> dict[str, Any]:
    """The ten critical assumptions (Appendix II), CA1 ... CA10."""
    found = _framework(measurement, response, at)
    return {
        "items": found["document"]["critical_assumptions"],
        "framework_version": found["version"],
        "position": found["position"],
    }


@router.get("/assumptions/{code}", response_model=CriticalAssumptionRead, operation_id="getCriticalAssumption")
def get_assumption(code: str, measurement: MeasurementDep, response: Response) -> dict[str, Any]:
    """One critical assumption."""
    found = _framework(measurement, response, None)
    for assumption in found["document"]["critical_assumptions"]:
        if assumption["code"] == code:
            return {**assumption, "framework_version": found["version"], "position": found["position"]}
    known = [assumption["code"] for assumption in found["document"]["critical_assumptions"]]
    raise NotFoundError(f"There is no critical assumption {code!r}; they are CA1 ... CA10.{did_you_mean(code, known)}")


@router.get("/deliverables", response_model=DeliverableList, operation_id="listDeliverables")
def list_deliverables(
    measurement: MeasurementDep,
    response: Response,
    area: Annotated[str | None, Query(description="Area of action code, AA1 ... AA5")] = None,
    active_in: Annotated[
        str | None,
        Query(
            max_length=10,
            description="Only those active in some quarter of this period: a quarter (2019-Q3), year (2019), "
            f"month (2019-08) or day (2019-08-31), within the programme's window ({PROGRAMME_WINDOW})",
        ),
    ] = None,
    at: AtPosition = None,
) -> dict[str, Any]:
    """Workplan deliverables (Appendix I) with their active quarters."""
    quarters = None if active_in is None else query_period(active_in, "active_in").quarters()
    found = _framework(measurement, response, at)
    items = [
        d
        for d in found["document"]["deliverables"]
        if (area is None or d["area"] == area) and (quarters is None or quarters & set(d["active_quarters"]))
    ]
    return {"items": items, "framework_version": found["version"], "position": found["position"]}


@router.get("/deliverables/{code}", response_model=DeliverableRead, operation_id="getDeliverable")
def get_deliverable(code: str, measurement: MeasurementDep, response: Response) -> dict[str, Any]:
    """One workplan deliverable."""
    found = _framework(measurement, response, None)
    for deliverable in found["document"]["deliverables"]:
        if deliverable["code"] == code:
            return {**deliverable, "framework_version": found["version"], "position": found["position"]}
    known = [deliverable["code"] for deliverable in found["document"]["deliverables"]]
    raise NotFoundError(
        f"There is no workplan deliverable {code!r} (codes run 1.1 ... 9.2).{did_you_mean(code, known)}"
    )
