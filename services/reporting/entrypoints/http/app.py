"""The reporting service's HTTP application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from services.common.collector import tune_garbage_collector
from services.common.http.app import service_app
from services.common.http.limits import BodySizeLimit
from services.reporting.application.editions import Reporting
from services.reporting.bootstrap import ReportingServices, bootstrap
from services.reporting.entrypoints import pages
from services.reporting.entrypoints.http.routes import exports, reports, service
from services.reporting.rendering.workers import cpus
from services.reporting.settings import ReportingSettings

DESCRIPTION = """
The stocktaking reports of the ILO Programme of Action on decent work in
global supply chains (GB.329/INS/3/2, paras 9, 12 and 13): the mid-term
report, the final consolidated assessment, the final report, and custom
editions for any valid date.

An **edition** is pinned: its valid date (`as_of`), the log position its
figures were read at, the framework, template and generator versions, and
the previous edition of its kind that its restatements compare with. It
never changes: a revision is a new edition that supersedes it. Each
rendering (JSON, HTML, CSV, XLSX) is byte-reproducible, and its SHA-256 is
stored; `GET /reports/{id}/verification` makes it again and compares.

This service reads the measurement service over HTTP only, with the
caller's own API key (`Authorization: Bearer stk_...`): it asks measurement
who the key belongs to and never sees more than its caller may. Each
operation lists the roles that may call it (`x-roles`). Errors are RFC 9457
`application/problem+json`; measurement's problems are passed on as they
were given, and a measurement that does not answer is a 503.
"""


def serving_app() -> FastAPI:
    """The app as `python -m services.reporting.entrypoints.cli serve` runs it."""
    return create_app(server_process=True)


def start_serving(reporting: Reporting) -> None:
    """What only a served process does once started: render XLSX in a worker
    process beside the other formats (with a second CPU to run it), and tune
    its garbage collector (`services.common.collector`)."""
    if cpus() > 1:
        reporting.renderer.start()
    tune_garbage_collector()


def create_app(
    settings: ReportingSettings | None = None,
    services: ReportingServices | None = None,
    transport: httpx.BaseTransport | None = None,
    server_process: bool = False,
) -> FastAPI:
    """Builds the app; the store and the measurement client are made in the
    lifespan, not at import (or `services`, already built, are used and
    left open). `server_process`: the app is the process's only one, for
    its lifetime (`start_serving`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = services or bootstrap(settings, transport)
        app.state.reporting = running.reporting
        app.state.exports = running.exports
        app.state.idempotency = running.idempotency
        app.state.authenticator = running.measurement
        pages.start(app, running.settings, running.measurement, running.sessions)
        if server_process:
            start_serving(running.reporting)
        try:
            yield
        finally:
            if services is None:
                running.close()

    app = service_app(title="Stocktake reporting service", description=DESCRIPTION, lifespan=lifespan)
    pages.install(app)
    app.add_middleware(BodySizeLimit, larger=pages.UPLOAD_BODIES)
    app.include_router(service.router)  # open to all: health and version
    app.include_router(reports.router)
    app.include_router(exports.router)
    return app
