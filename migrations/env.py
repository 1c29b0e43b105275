"""Alembic environment: the one that owns every table of both services.
The URL is, in order: the `database_url` attribute set by a caller (the CLI,
the tests), else the settings (`STOCKTAKE_DATABASE_URL`)."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from migrations.target import TARGET_METADATA
from services.common.database import Database, open_store
from services.common.settings import StoreSettings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_migrations_online() -> None:
    url = config.attributes.get("database_url")
    database = Database(url) if url else open_store(StoreSettings())
    try:
        with database.engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=TARGET_METADATA,
                render_as_batch=database.is_sqlite,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        database.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
