"""Composition root: builds the database and the application from settings.
Called by the HTTP app's lifespan, the CLI and the tests; nothing here runs
at import."""

from __future__ import annotations

from services.measurement.adapters.countries import country_name
from services.measurement.adapters.database import Database
from services.measurement.application import Measurement
from services.measurement.config import Settings


def build_application(settings: Settings) -> Measurement:
    settings.ensure_sqlite_folder()
    return Measurement(Database(settings.database_url), country_name=country_name)
