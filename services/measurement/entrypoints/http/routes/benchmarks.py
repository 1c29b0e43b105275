"""Benchmarks, defined by the programme management team."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from services.common.access import Permission
from services.common.http.authorization import BenchmarkManager, allowed
from services.common.http.deps import answer_at, created
from services.common.http.idempotency import CreationDep
from services.measurement.application.queries import catalogue
from services.measurement.domain.benchmarks import Benchmark
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.schemas.benchmarks import (
    BaselineRevision,
    BenchmarkCreate,
    BenchmarkList,
    BenchmarkRead,
    Retirement,
    TargetRevision,
)
from services.measurement.entrypoints.http.schemas.log import StreamHistory

router = APIRouter(prefix="/benchmarks", tags=["benchmarks"])
READ = [allowed(Permission.READ_FRAMEWORK)]


def _answer(response: Response, benchmark: dict[str, Any]) -> dict[str, Any]:
    answer_at(response, benchmark["position"])
    response.headers["ETag"] = f'"{benchmark["version"]}"'
    return benchmark


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BenchmarkRead,
    operation_id="defineBenchmark",
    dependencies=[allowed(Permission.MANAGE_BENCHMARKS)],
)
def define_benchmark(
    body: BenchmarkCreate,
    measurement: MeasurementDep,
    creation: CreationDep,
) -> JSONResponse:
    """Define a benchmark against one critical assumption."""

    def define() -> JSONResponse:
        benchmark = measurement.define_benchmark(
            **body.model_dump(exclude={"baseline", "targets"}),
            baseline=body.baseline.model_dump(),
            targets=[target.model_dump() for target in body.targets],
            principal=creation.principal.name,
        )
        return created(BenchmarkRead, benchmark, location=f"/benchmarks/{benchmark['code']}")

    return creation.respond(body, define)


@router.get("", response_model=BenchmarkList, operation_id="listBenchmarks", dependencies=READ)
def list_benchmarks(
    measurement: MeasurementDep,
    response: Response,
    assumption: Annotated[
        str | None, Query(max_length=8, description="Only this critical assumption, e.g. CA2")
    ] = None,
    include_retired: bool = False,
) -> dict[str, Any]:
    """Benchmarks in the order they were defined."""
    found = catalogue.benchmarks(measurement.database, assumption, include_retired)
    answer_at(response, found["position"])
    return found


@router.get("/{code}", response_model=BenchmarkRead, operation_id="getBenchmark", dependencies=READ)
def get_benchmark(code: str, measurement: MeasurementDep, response: Response) -> dict[str, Any]:
    """One benchmark, with the history of its revisions."""
    return _answer(response, catalogue.benchmark_or_404(measurement.database, code))


@router.get("/{code}/history", response_model=StreamHistory, operation_id="getBenchmarkHistory", dependencies=READ)
def benchmark_history(code: str, measurement: MeasurementDep, response: Response) -> dict[str, Any]:
    """Every event of the benchmark, as recorded in the log."""
    history = catalogue.history(
        measurement, Benchmark.create_id(code), Benchmark, catalogue.no_such_benchmark(measurement.database, code)
    )
    answer_at(response, history["position"])
    return history


@router.post("/{code}/baseline-revisions", response_model=BenchmarkRead, operation_id="reviseBaseline")
def revise_baseline(
    code: str, body: BaselineRevision, measurement: MeasurementDep, manager: BenchmarkManager, response: Response
) -> dict[str, Any]:
    """Revise the baseline (a new event with its reason)."""
    benchmark = measurement.revise_baseline(code, body.baseline.model_dump(), body.reason, manager.name)
    return _answer(response, benchmark)


@router.post("/{code}/target-revisions", response_model=BenchmarkRead, operation_id="reviseTargets")
def revise_targets(
    code: str, body: TargetRevision, measurement: MeasurementDep, manager: BenchmarkManager, response: Response
) -> dict[str, Any]:
    """Replace the dated targets (a new event with its reason)."""
    targets = [target.model_dump() for target in body.targets]
    return _answer(response, measurement.revise_targets(code, targets, body.reason, manager.name))


@router.post("/{code}/retirement", response_model=BenchmarkRead, operation_id="retireBenchmark")
def retire_benchmark(
    code: str, body: Retirement, measurement: MeasurementDep, manager: BenchmarkManager, response: Response
) -> dict[str, Any]:
    """Retire the benchmark: it takes no further observations."""
    return _answer(response, measurement.retire_benchmark(code, body.reason, manager.name))
