"""Alembic environment. The URL is, in order: the `database_url` attribute
set by a caller (the CLI, the tests), else the service settings."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from services.measurement.adapters.database import Database
from services.measurement.adapters.tables import metadata
from services.measurement.config import Settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_migrations_online() -> None:
    url = config.attributes.get("database_url")
    if url is None:
        settings = Settings()
        settings.ensure_sqlite_folder()
        url = settings.database_url
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=metadata,
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
