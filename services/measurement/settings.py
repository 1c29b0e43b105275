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

    pages_url: str = Field(
        "",
        description="Where the reporting service's pages for people are (e.g. http://127.0.0.1:8001/), for the "
        "index at `/` to link to (`stocktake up` sets it); empty: not linked.",
    )

    checkpoint_key_file: Path | None = Field(
        None,
        description="The Ed25519 key that signs the log's checkpoints, created on first start; keep it outside "
        "the database and its backups (default: checkpoint-signing.key in the data folder).",
    )
    log_origin: str = Field(
        "stocktake.local/gsc-poa-2017-21",
        description="The origin line of the log's checkpoints (and the name of their key): it names this log.",
    )
    migration_database_url: str = Field(
        "",
        description="PostgreSQL: the URL of the role that owns the tables, for `stocktake migrate`, `rebuild` and "
        "`db grant-service-role` (default: database_url). The served process connects as database_url's role.",
    )

    @property
    def owner_url(self) -> str:
        """The URL of the role that owns the tables (migrations, rebuilds, grants)."""
        return self.migration_database_url or self.database_url

    def as_owner(self) -> Settings:
        """These settings, connecting as the owning role."""
        return self.model_copy(update={"database_url": self.owner_url})

    @property
    def checkpoint_key_path(self) -> Path:
        return self.checkpoint_key_file or self.data_dir / "checkpoint-signing.key"
