"""The bulk read a stocktaking report is made from (answered by
application/queries/report.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from services.common.access import Permission
from services.common.http.authorization import ProgressReader, allowed
from services.measurement.application.queries.report import report_data
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.framework_version import answer_with_framework
from services.measurement.entrypoints.http.routes.progress import PinnedDep
from services.measurement.entrypoints.http.schemas.report import ProgressReport

router = APIRouter(tags=["progress"], dependencies=[allowed(Permission.READ_PROGRESS)])


@router.get("/progress/report", response_model=ProgressReport, operation_id="getProgressReport")
def progress_report(
    measurement: MeasurementDep,
    response: Response,
    when: PinnedDep,
    principal: ProgressReader,
    series: Annotated[bool, Query(description="Add each benchmark's state at every quarter end up to as_of")] = False,
) -> dict[str, Any]:
    """Every benchmark's definition, state and values in force per country, as of a valid date, as known at a log
    position, in one answer (a country office's key gets its own countries' values and the combined figures)."""
    countries = None if principal.reads_every_country else principal.countries
    answer = report_data(measurement, when.as_of, when.at, when.known_at, countries, series)
    return answer_with_framework(response, measurement, {**answer, "framework_version": answer["framework"]["version"]})
