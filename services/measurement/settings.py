"""Settings of the measurement service (see `services.common.settings`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.settings import StoreSettings


class Settings(StoreSettings):
    sample_keys_file: Path | None = Field(
        None,
        description="Where `stocktake up` keeps the API keys of the illustrative sample's principals "
        "(default: illustrative-keys.txt in the data folder).",
    )

    @property
    def sample_keys_path(self) -> Path:
        return self.sample_keys_file or self.data_dir / "illustrative-keys.txt"
