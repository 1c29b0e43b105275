"""Pages for people: server-rendered HTML over the same APIs, with the
signed-in person's own key (so roles and rules are exactly the API's).
No script is needed; nothing is fetched from outside the host."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.reporting.adapters.measurement_client import MeasurementClient
from services.reporting.adapters.sessions import SessionRecords
from services.reporting.application.pages import Pages
from services.reporting.entrypoints.pages.html_problems import ProblemPages
from services.reporting.entrypoints.pages.routes import (
    audit,
    auth,
    editions,
    exports,
    observation_files,
    upload,
    views,
)
from services.reporting.entrypoints.pages.security import PageSecurityHeaders
from services.reporting.entrypoints.pages.session import Sessions
from services.reporting.settings import ReportingSettings

ASSETS = "/assets"
# The upload pages carry a whole batch (measurement takes 8 MiB), and the
# confirm form carries the previewed file as text, escaped (up to 3x longer).
UPLOAD_BODIES = {"/upload": 9 * 1024 * 1024, "/upload/confirm": 25 * 1024 * 1024}


def install(app: FastAPI) -> None:
    """Adds the pages, their stylesheet and the middleware that shows a
    page's errors as a page. Call before the app starts."""
    app.mount(ASSETS, StaticFiles(packages=[("services.reporting", "static")]), name="assets")
    for module in (auth, views, upload, editions, exports, observation_files, audit):
        app.include_router(module.router)
    app.add_middleware(ProblemPages)
    app.add_middleware(PageSecurityHeaders)  # outside ProblemPages: its error pages get them too


def start(app: FastAPI, settings: ReportingSettings, measurement: MeasurementClient, records: SessionRecords) -> None:
    """What the pages need once the app runs (from its lifespan): the session
    key (read or created in the data folder), the sessions' records and
    their reads of measurement."""
    app.state.sessions = Sessions(settings.session_key_path, settings.session_hours, records)
    app.state.pages = Pages(measurement)
