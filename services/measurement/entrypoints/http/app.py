"""The measurement service's HTTP application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from services.common.collector import tune_garbage_collector
from services.common.http.app import service_app
from services.common.http.authorization import document_permissions
from services.common.http.limits import BodySizeLimit
from services.measurement.bootstrap import MeasurementServices, bootstrap
from services.measurement.entrypoints.http.routes import (
    benchmarks,
    exports,
    framework,
    imports,
    index,
    log,
    me,
    observations,
    progress,
    report,
    scope,
    transparency,
    workplan,
)
from services.measurement.settings import Settings

DESCRIPTION = """
Stocktake measures the progress of the ILO Programme of Action on decent work
in global supply chains (2017–21) against the ten critical assumptions of its
theory of change (GB.329/INS/3/2, Appendix II).

Every fact is an immutable event with a gap-free **log position**; every read
answers with the position it reflects (body `position` and header
`Stocktake-Log-Position`); every answer read against the programme framework
names the framework version in force there (body `framework_version` and
header `Stocktake-Framework-Version`). Corrections and retractions are new events.
Errors are RFC 9457 `application/problem+json`.

Every operation but `/problems/{slug}` and the front door (`/`, `/health`,
`/version`) needs an API key, sent as
`Authorization: Bearer stk_...` (operators issue them with `stocktake keys
issue`; `./dev up` prints one per role for the illustrative sample). Each
operation lists the roles that may call it (`x-roles`): `country-office`
(records, corrects and retracts observations of its own countries, reads
those), `programme-manager` (benchmarks, scope and the workplan's delivery
and milestones), `auditor` (reads
everything, the log included; writes nothing) and `reporting` (the framework,
benchmarks, scope and progress).
"""


def serving_app() -> FastAPI:
    """The app as `stocktake serve` runs it: one per server process."""
    return create_app(server_process=True)


def create_app(
    settings: Settings | None = None, services: MeasurementServices | None = None, server_process: bool = False
) -> FastAPI:
    """Builds the app; the store is opened in the lifespan, not at import
    (or `services`, already built, are used and left open).
    `server_process`: the app is the process's only one, for its lifetime
    (its garbage collector is tuned for that once it has started)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = services or bootstrap(settings)
        app.state.measurement = running.measurement
        app.state.idempotency = running.idempotency
        app.state.authenticator = running.api_keys
        app.state.transparency = running.transparency
        app.state.pages_url = running.settings.pages_url
        if server_process:
            # The checkpoint signing key is created on the served process's first start (an app built for a
            # test makes it on its first checkpoint, in the test's data folder).
            running.transparency.signer  # noqa: B018
            tune_garbage_collector()
        try:
            yield
        finally:
            if services is None:
                running.close()

    app = service_app(title="Stocktake measurement service", description=DESCRIPTION, lifespan=lifespan)
    app.add_middleware(BodySizeLimit)
    app.include_router(index.router)  # open to all: where to go, health and version
    for module in (imports, observations, framework, benchmarks, progress, report, scope, exports, workplan, log, me):
        document_permissions(module.router)
        app.include_router(module.router)
    for router in (transparency.checkpoints, transparency.proofs):
        document_permissions(router)
        app.include_router(router)
    _match_first(app, imports.router, observations.router)
    return app


def _match_first(app: FastAPI, *routers: APIRouter) -> None:
    """A request is matched against the app's routes in order, each at a cost: where the writes
    arrive, the observations' POSTs the most frequent, is matched first, before the API document,
    the docs, the problem pages and the front door that the app starts with (no path of one router
    is a path of another, so each request meets the route it met before)."""
    app.router.routes.sort(key=lambda route: getattr(route, "original_router", None) not in routers)
