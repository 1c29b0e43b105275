"""Observations: where a country office's values arrive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid5

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from sqlalchemy import Connection

from services.common.access import Permission
from services.common.http.authorization import ObservationReader, Reporter
from services.common.http.deps import POSITION_HEADER, BasedOnDep, answer_at, created
from services.common.http.idempotency import Creation, KeepAnswer, KeptAnswer, creation_allowed
from services.common.http.problems import (
    IDEMPOTENCY_IN_FLIGHT,
    PROBLEM_JSON,
    MethodNotAllowedError,
    Problem,
    documented_problems,
)
from services.measurement.application.queries import catalogue
from services.measurement.application.queries.catalogue import ObservationFilter
from services.measurement.domain.framework import STOCKTAKE_NAMESPACE
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.schemas.common import Country
from services.measurement.entrypoints.http.schemas.log import StreamHistory
from services.measurement.entrypoints.http.schemas.observations import (
    Correction,
    ObservationCreate,
    ObservationPage,
    ObservationRead,
    Retraction,
)

router = APIRouter(prefix="/observations", tags=["observations"])
IDEMPOTENT_OBSERVATIONS = uuid5(STOCKTAKE_NAMESPACE, "observations-by-idempotency-key")
ObservationCreation = Annotated[Creation, creation_allowed(Permission.RECORD_OBSERVATIONS)]


def _answer(response: Response, observation: dict[str, Any]) -> dict[str, Any]:
    answer_at(response, observation["position"])
    response.headers["ETag"] = f'"{observation["version"]}"'
    return observation


def _disaggregations(items: list[Any] | None) -> list[dict[str, Any]] | None:
    return None if items is None else [item.model_dump() for item in items]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ObservationRead,
    operation_id="recordObservation",
    responses=documented_problems(IDEMPOTENCY_IN_FLIGHT),
)
def record_observation(
    body: ObservationCreate,
    measurement: MeasurementDep,
    creation: ObservationCreation,
) -> JSONResponse:
    """Record one value of a benchmark for one country and period. Send Idempotency-Key to retry safely."""

    def record(request_name: str | None, keep: KeepAnswer | None) -> JSONResponse:
        # With a key, the observation's id follows from the request it names,
        # so that even a retry whose first attempt was cut off after its
        # commit records nothing twice, while the key reused after its 24
        # hours (a new request) records a new observation.
        observation_id = None if request_name is None else observation_id_for(request_name)
        kept: list[KeptAnswer] = []

        def keep_answer(draft: dict[str, Any]) -> Callable[[Connection, int, datetime], None]:
            # The answer is built here, before the save; in the observation's transaction, under the log's
            # lock, only its position and time are put in, and the key's record is written with it.
            status_code, body, headers = _created_answer(draft)

            def at(connection: Connection, position: int, recorded_at: datetime) -> None:
                recorded = _RECORDED_AT.dump_python(recorded_at, mode="json")
                kept.append(
                    (
                        status_code,
                        {**body, **dict.fromkeys(_POSITIONS, position), **dict.fromkeys(_TIMES, recorded)},
                        {**headers, POSITION_HEADER: str(position)},
                    )
                )
                if keep is not None:
                    keep(connection, kept[-1])

            return at

        observation = measurement.record_observation(
            observation_id=observation_id,
            benchmark=body.benchmark,
            country=body.country,
            sector=body.sector,
            period=body.period,
            value=body.value,
            disaggregations=_disaggregations(body.disaggregations) or [],
            evidence=[{"title": e.title, "url": str(e.url)} for e in body.evidence],
            comment=body.comment,
            actor=creation.principal,
            keep_answer=None if keep is None else keep_answer,
        )
        if kept:
            status_code, content, headers = kept[-1]
            return JSONResponse(content, status_code=status_code, headers=headers)
        return _created(observation)

    return creation.respond_keeping(body, record)


@router.api_route("/batch", methods=["GET", "PUT", "PATCH", "DELETE", "OPTIONS"], include_in_schema=False)
def batch_import_is_posted() -> None:
    """/observations/batch is an import (POST), not an observation id: any
    other method there is a 405, not a malformed id."""
    raise MethodNotAllowedError(["POST"])


def _created(observation: dict[str, Any]) -> JSONResponse:
    return created(ObservationRead, observation, location=f"/observations/{observation['id']}")


# The fields of an answer that only its save assigns (see `keep_answer` in record_observation).
_POSITIONS = ("recorded_position", "last_position", "position")
_TIMES = ("recorded_at", "updated_at")
_RECORDED_AT: TypeAdapter[datetime] = TypeAdapter(datetime)  # a time as ObservationRead writes it


def _created_answer(observation: dict[str, Any]) -> KeptAnswer:
    """`_created`'s status, body (as JSON values) and headers, without the response."""
    headers = {POSITION_HEADER: str(observation["position"]), "Location": f"/observations/{observation['id']}"}
    headers["ETag"] = f'"{observation["version"]}"'
    return 201, ObservationRead.model_validate(observation).model_dump(mode="json"), headers


def observation_id_for(request_name: str) -> UUID:
    return uuid5(IDEMPOTENT_OBSERVATIONS, request_name)


@router.get("", response_model=ObservationPage, operation_id="listObservations")
def list_observations(
    measurement: MeasurementDep,
    reader: ObservationReader,
    response: Response,
    benchmark: Annotated[str | None, Query(max_length=64)] = None,
    country: Annotated[Country | None, Query(description="Only this country's observations")] = None,
    assumption: Annotated[str | None, Query(max_length=8)] = None,
    include_retracted: bool = True,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    order: Annotated[
        Literal["oldest", "newest"], Query(description="In the order they were recorded, or newest first")
    ] = "oldest",
) -> dict[str, Any]:
    """Observations oldest or newest first, a page at a time (a country office: its countries')."""
    where = ObservationFilter(benchmark, country, assumption, include_retracted)
    page = catalogue.observations(measurement.database, where, cursor, limit, reader, newest=order == "newest")
    answer_at(response, page["position"])
    return page


@router.get("/{observation_id}", response_model=ObservationRead, operation_id="getObservation")
def get_observation(
    observation_id: UUID, measurement: MeasurementDep, reader: ObservationReader, response: Response
) -> dict[str, Any]:
    """One observation as it now stands."""
    return _answer(response, catalogue.observation_or_404(measurement.database, observation_id, reader))


@router.get("/{observation_id}/history", response_model=StreamHistory, operation_id="getObservationHistory")
def observation_history(
    observation_id: UUID, measurement: MeasurementDep, reader: ObservationReader, response: Response
) -> dict[str, Any]:
    """Every event of the observation (recorded, corrected, retracted), as logged."""
    history = catalogue.observation_history(measurement, observation_id, reader)
    answer_at(response, history["position"])
    return history


CHANGE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": f"{title} (problem+json)", "content": {PROBLEM_JSON: {}}}
    for status, title in ((412, "The ETag in If-Match is not current"), (428, "If-Match is missing"))
}


@router.post(
    "/{observation_id}/corrections",
    response_model=ObservationRead,
    operation_id="correctObservation",
    responses=CHANGE_PROBLEMS,
)
def correct_observation(
    observation_id: UUID,
    body: Correction,
    measurement: MeasurementDep,
    office: Reporter,
    based_on: BasedOnDep,
    response: Response,
) -> dict[str, Any]:
    """Correct the value (a new event; the earlier value stays in the history). Needs If-Match."""
    observation = measurement.correct_observation(
        observation_id,
        value=body.value,
        disaggregations=_disaggregations(body.disaggregations),
        reason=body.reason,
        actor=office,
        based_on=based_on,
    )
    return _answer(response, observation)


@router.post(
    "/{observation_id}/retraction",
    response_model=ObservationRead,
    operation_id="retractObservation",
    responses=CHANGE_PROBLEMS,
)
def retract_observation(
    observation_id: UUID,
    body: Retraction,
    measurement: MeasurementDep,
    office: Reporter,
    based_on: BasedOnDep,
    response: Response,
) -> dict[str, Any]:
    """Retract the observation (a new event; nothing is deleted). Needs If-Match."""
    observation = measurement.retract_observation(observation_id, reason=body.reason, actor=office, based_on=based_on)
    return _answer(response, observation)
