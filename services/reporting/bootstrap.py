"""Composition root of the reporting service: its store (the same as
measurement's, its own tables), its measurement client and its application,
from settings. Nothing here runs at import."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from services.common.database import Database, open_store
from services.common.idempotency import IdempotencyRecords
from services.common.migrations import check_migrated
from services.reporting.adapters.editions import Editions
from services.reporting.adapters.exports import Exports
from services.reporting.adapters.measurement_client import MeasurementClient
from services.reporting.adapters.sessions import SessionRecords
from services.reporting.application.editions import Reporting
from services.reporting.application.exports import ExportsService
from services.reporting.settings import ReportingSettings


@dataclass
class ReportingServices:
    settings: ReportingSettings
    database: Database
    measurement: MeasurementClient
    reporting: Reporting
    exports: ExportsService
    idempotency: IdempotencyRecords
    sessions: SessionRecords

    def close(self) -> None:
        self.reporting.renderer.close()
        self.measurement.close()
        self.database.dispose()


def bootstrap(
    settings: ReportingSettings | None = None, transport: httpx.BaseTransport | None = None
) -> ReportingServices:
    """Refuses (NotMigratedError, naming the command that fixes it) a store
    that is not migrated to this code's tables."""
    settings = settings or ReportingSettings()
    database = open_store(settings)
    try:
        check_migrated(database)
    except BaseException:
        database.dispose()
        raise
    measurement = MeasurementClient(settings.measurement_url, settings.measurement_timeout, transport)
    return ReportingServices(
        settings=settings,
        database=database,
        measurement=measurement,
        reporting=Reporting(Editions(database), measurement),
        exports=ExportsService(Exports(database), measurement),
        # Its own namespace: a key the caller also used on measurement is another request here.
        idempotency=IdempotencyRecords(database, namespace="reporting"),
        sessions=SessionRecords(database),
    )
