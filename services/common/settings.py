"""Typed settings shared by both services, from the environment (prefix
`STOCKTAKE_`) or a `.env` file.

The store defaults to an SQLite file in the data folder, which does not
depend on the working directory: `$STOCKTAKE_DATA_DIR`, else
`$XDG_DATA_HOME/stocktake`, else `~/.local/share/stocktake` (`./dev up` sets
it to the repository's `var/`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SQLITE_PREFIX = "sqlite:///"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "stocktake"


class StoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOCKTAKE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="Where local files are kept.")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the store: postgresql://... or an SQLite file "
        "(default: stocktake.db in the data folder).",
    )

    @model_validator(mode="before")
    @classmethod
    def _absolute_data_dir(cls, values: Any) -> Any:
        if isinstance(values, dict) and values.get("data_dir"):
            values["data_dir"] = Path(values["data_dir"]).expanduser().resolve()
        return values

    @model_validator(mode="after")
    def _default_store(self) -> StoreSettings:
        if not self.database_url:
            self.database_url = f"{SQLITE_PREFIX}{self.data_dir / 'stocktake.db'}"
        return self

    def ensure_sqlite_folder(self) -> None:
        """Creates the folder of an SQLite file, so the default needs no set-up."""
        if self.database_url.startswith(SQLITE_PREFIX) and ":memory:" not in self.database_url:
            Path(self.database_url[len(SQLITE_PREFIX) :]).parent.mkdir(parents=True, exist_ok=True)
