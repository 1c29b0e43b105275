"""Settings of the reporting service (see `services.common.settings`): the
same store as measurement's (its own `reporting_` tables), and where
measurement answers."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import StoreSettings

DEFAULT_PORT = 8001


class ReportingSettings(StoreSettings):
    measurement_url: str = Field(
        "http://127.0.0.1:8000",
        description="Where the measurement service answers (STOCKTAKE_MEASUREMENT_URL).",
    )
    measurement_timeout: float = Field(120.0, description="Seconds to wait for one answer of measurement.")
