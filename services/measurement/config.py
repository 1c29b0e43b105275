"""Settings of the measurement service, from the environment (prefix
`STOCKTAKE_`) or a `.env` file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/stocktake.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOCKTAKE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the store: an SQLite file (default) or postgresql://...",
    )
    sample_keys_file: Path = Field(
        Path("var/illustrative-keys.txt"),
        description="Where `stocktake up` keeps the API keys of the illustrative sample's principals.",
    )
    max_page_size: int = Field(500, ge=1, description="Largest `limit` a list query accepts.")

    def ensure_sqlite_folder(self) -> None:
        """Creates the folder of an SQLite file, so the default needs no set-up."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            Path(self.database_url[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)
