"""The one Alembic environment (`migrations/`, installed with the package),
found wherever the command runs from."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from services.common.database import Database


class NotMigratedError(RuntimeError):
    """The store's tables are missing or older than this code."""


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("migrations")))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def check_migrated(database: Database) -> None:
    """Raises NotMigratedError, saying how to fix it, unless the store is at
    the head revision."""
    head = ScriptDirectory.from_config(alembic_config(database.url)).get_current_head()
    with database.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        state = "has no Stocktake tables" if current is None else f"is at revision {current}, not {head}"
        raise NotMigratedError(
            f"The store {database.safe_url} {state}: run `stocktake migrate` (with the same --database-url)."
        )
