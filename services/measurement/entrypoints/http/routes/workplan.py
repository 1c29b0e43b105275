"""Workplan delivery and roadmap milestones: recorded by the programme
management team, read planned vs recorded as of a valid date and position
(answered by application/queries/workplan.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from services.common.access import Permission
from services.common.http.authorization import allowed
from services.common.http.deps import created
from services.common.http.idempotency import CreationDep
from services.measurement.application import workplan
from services.measurement.application.queries import workplan as queries
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.framework_version import FRAMEWORK_VERSION_HEADER, answer_with_framework
from services.measurement.entrypoints.http.routes.progress import PinnedDep
from services.measurement.entrypoints.http.schemas.workplan import (
    DeliveryDetail,
    DeliveryList,
    DeliveryRecord,
    DeliveryRecordWithdrawal,
    DeliveryStatus,
    MilestoneDetail,
    MilestoneList,
    MilestoneOutcomeRecord,
    MilestoneOutcomeWithdrawal,
    MilestoneStatus,
)

router = APIRouter(prefix="/workplan", tags=["workplan"])
READ = [allowed(Permission.READ_PROGRESS)]
MANAGE = [allowed(Permission.MANAGE_WORKPLAN)]


def _created(schema: Any, answer: dict[str, Any], location: str) -> JSONResponse:
    response = created(schema, answer, location)
    response.headers[FRAMEWORK_VERSION_HEADER] = str(answer["framework_version"])
    return response


@router.get("/deliverables", response_model=DeliveryList, operation_id="listDeliveries", dependencies=READ)
def list_deliveries(
    measurement: MeasurementDep,
    response: Response,
    when: PinnedDep,
    area: Annotated[str | None, Query(max_length=10, description="Only this area of action, AA1 ... AA5")] = None,
    status: Annotated[DeliveryStatus | None, Query(description="Only those with this status at as_of")] = None,
    late: Annotated[bool | None, Query(description="Only the late ones (true), or those not late (false)")] = None,
) -> dict[str, Any]:
    """Each workplan deliverable's planned quarters beside its delivery as recorded, and which are late."""
    answer = queries.deliverables(measurement, when.as_of, when.at, when.known_at, area, status, late)
    return answer_with_framework(response, measurement, answer)


@router.get("/deliverables/{code}", response_model=DeliveryDetail, operation_id="getDelivery", dependencies=READ)
def get_delivery(code: str, measurement: MeasurementDep, response: Response, when: PinnedDep) -> dict[str, Any]:
    """One deliverable planned vs recorded, with every record of it."""
    answer = queries.deliverable(measurement, code, when.as_of, when.at, when.known_at)
    return answer_with_framework(response, measurement, answer)


@router.post(
    "/deliverables/{code}/status",
    status_code=status.HTTP_201_CREATED,
    response_model=DeliveryDetail,
    operation_id="recordDelivery",
    dependencies=MANAGE,
)
def record_delivery(
    code: str, body: DeliveryRecord, measurement: MeasurementDep, creation: CreationDep
) -> JSONResponse:
    """Record that a deliverable was started, delivered (with evidence) or dropped (with a reason), on a date."""

    def record() -> JSONResponse:
        answer = workplan.record_delivery(
            measurement,
            code,
            status=body.status,
            on=body.on,
            evidence=None if body.evidence is None else str(body.evidence),
            reason=body.reason,
            note=body.note,
            principal=creation.principal.name,
        )
        return _created(DeliveryDetail, answer, f"/workplan/deliverables/{code}")

    return creation.respond(body, record)


@router.post(
    "/deliverables/{code}/withdrawal",
    status_code=status.HTTP_201_CREATED,
    response_model=DeliveryDetail,
    operation_id="withdrawDeliveryRecord",
    dependencies=MANAGE,
)
def withdraw_delivery_record(
    code: str, body: DeliveryRecordWithdrawal, measurement: MeasurementDep, creation: CreationDep
) -> JSONResponse:
    """Withdraw a deliverable's started, delivered or dropped record made in error, saying why. It stays in
    the history, marked withdrawn, and no longer counts; the right one can then be recorded."""

    def record() -> JSONResponse:
        answer = workplan.withdraw_delivery_record(
            measurement, code, record=body.record, reason=body.reason, principal=creation.principal.name
        )
        return _created(DeliveryDetail, answer, f"/workplan/deliverables/{code}")

    return creation.respond(body, record)


@router.get("/milestones", response_model=MilestoneList, operation_id="listMilestones", dependencies=READ)
def list_milestones(
    measurement: MeasurementDep,
    response: Response,
    when: PinnedDep,
    status: Annotated[MilestoneStatus | None, Query(description="Only those with this status at as_of")] = None,
) -> dict[str, Any]:
    """Each roadmap milestone: when it is due, and whether it was met or missed."""
    answer = queries.milestones(measurement, when.as_of, when.at, when.known_at, status)
    return answer_with_framework(response, measurement, answer)


@router.get("/milestones/{code}", response_model=MilestoneDetail, operation_id="getMilestone", dependencies=READ)
def get_milestone(code: str, measurement: MeasurementDep, response: Response, when: PinnedDep) -> dict[str, Any]:
    """One milestone, with every outcome recorded of it."""
    answer = queries.milestone_detail(measurement, code, when.as_of, when.at, when.known_at)
    return answer_with_framework(response, measurement, answer)


@router.post(
    "/milestones/{code}/outcome",
    status_code=status.HTTP_201_CREATED,
    response_model=MilestoneDetail,
    operation_id="recordMilestoneOutcome",
    dependencies=MANAGE,
)
def record_milestone_outcome(
    code: str, body: MilestoneOutcomeRecord, measurement: MeasurementDep, creation: CreationDep
) -> JSONResponse:
    """Record that a milestone was met, or missed, on a date, with a note."""

    def record() -> JSONResponse:
        answer = workplan.record_milestone_outcome(
            measurement, code, outcome=body.outcome, on=body.on, note=body.note, principal=creation.principal.name
        )
        return _created(MilestoneDetail, answer, f"/workplan/milestones/{code}")

    return creation.respond(body, record)


@router.post(
    "/milestones/{code}/withdrawal",
    status_code=status.HTTP_201_CREATED,
    response_model=MilestoneDetail,
    operation_id="withdrawMilestoneOutcome",
    dependencies=MANAGE,
)
def withdraw_milestone_outcome(
    code: str, body: MilestoneOutcomeWithdrawal, measurement: MeasurementDep, creation: CreationDep
) -> JSONResponse:
    """Withdraw a milestone's met or missed outcome recorded in error, saying why. It stays in the
    history, marked withdrawn, and no longer counts; the right one can then be recorded."""

    def record() -> JSONResponse:
        answer = workplan.withdraw_milestone_outcome(
            measurement, code, outcome=body.outcome, reason=body.reason, principal=creation.principal.name
        )
        return _created(MilestoneDetail, answer, f"/workplan/milestones/{code}")

    return creation.respond(body, record)
