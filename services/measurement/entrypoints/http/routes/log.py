"""The application log, for auditors who replay history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from services.common.access import Permission
from services.common.http.authorization import allowed
from services.common.http.deps import answer_at
from services.measurement.application.queries import catalogue
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.schemas.common import MAX_POSITION
from services.measurement.entrypoints.http.schemas.log import LogPage

router = APIRouter(tags=["log"], dependencies=[allowed(Permission.READ_LOG)])


@router.get("/log", response_model=LogPage, operation_id="readLog")
def read_log(
    measurement: MeasurementDep,
    response: Response,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="Events after this position")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Events in log order with their gap-free positions; page with `next_after`."""
    page = catalogue.log_page(measurement, after, limit)
    answer_at(response, page["head"])
    return page
