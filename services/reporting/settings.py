"""Settings of the reporting service (see `services.common.settings`): the
same store as measurement's (its own `reporting_` tables), and where
measurement answers."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.settings import StoreSettings

DEFAULT_PORT = 8001


class ReportingSettings(StoreSettings):
    measurement_url: str = Field(
        "http://127.0.0.1:8000",
        description="Where the measurement service answers (STOCKTAKE_MEASUREMENT_URL).",
    )
    measurement_timeout: float = Field(120.0, description="Seconds to wait for one answer of measurement.")
    session_hours: float = Field(
        8.0, gt=0, description="How long a sign-in to the pages lasts, in hours (STOCKTAKE_SESSION_HOURS)."
    )
    session_key_file: Path | None = Field(
        None, description="The key of the pages' session cookies (default: reporting-session.key in the data folder)."
    )

    @property
    def session_key_path(self) -> Path:
        return self.session_key_file or self.data_dir / "reporting-session.key"
