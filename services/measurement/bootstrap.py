"""Composition root of the measurement service: builds the store, the
application and the adapters from settings. The HTTP app's lifespan, the CLI,
the rebuild's worker processes and the tests all build through here; nothing
here runs at import."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.api_keys import ApiKeys
from services.common.database import Database, open_store
from services.common.idempotency import IdempotencyRecords
from services.common.migrations import check_migrated
from services.measurement.adapters.countries import country_name
from services.measurement.application.commands import Measurement
from services.measurement.application.transparency import TransparencyLog
from services.measurement.settings import Settings


@dataclass
class MeasurementServices:
    settings: Settings
    database: Database
    measurement: Measurement
    api_keys: ApiKeys
    idempotency: IdempotencyRecords
    transparency: TransparencyLog

    def close(self) -> None:
        self.measurement.close()
        self.database.dispose()


def bootstrap(settings: Settings | None = None, *, require_migrated: bool = True) -> MeasurementServices:
    """Everything the service runs on. Unless told otherwise, refuses (with
    NotMigratedError, saying the command that fixes it) a store that is not
    migrated to this code's tables."""
    settings = settings or Settings()
    database = open_store(settings)
    try:
        if require_migrated:
            check_migrated(database)
        measurement = Measurement(database, country_name=country_name)
    except BaseException:
        database.dispose()
        raise
    return MeasurementServices(
        settings=settings,
        database=database,
        measurement=measurement,
        api_keys=ApiKeys(database, country_name),
        # The bare principal: measurement's records predate the namespaces (common/idempotency.py).
        idempotency=IdempotencyRecords(database, namespace=""),
        transparency=TransparencyLog(database, settings.checkpoint_key_path, settings.log_origin),
    )
