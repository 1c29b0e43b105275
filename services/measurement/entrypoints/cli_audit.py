"""`stocktake audit ...` (prove the log was not altered) and `stocktake db
...` (the database roles that make it hard to alter)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Connection, text

from services.common.database import Database
from services.measurement.entrypoints.cli_common import DatabaseOption, console, opened, settings_for

audit_app = typer.Typer(help="Prove the event log was not altered.", no_args_is_help=True, rich_markup_mode=None)
db_app = typer.Typer(help="Database roles (PostgreSQL).", no_args_is_help=True, rich_markup_mode=None)

OwnerOption = Annotated[
    str | None,
    typer.Option(
        "--migration-database-url",
        envvar="STOCKTAKE_MIGRATION_DATABASE_URL",
        help="The URL of the role that owns the tables (default: --database-url)",
    ),
]

# What the served process may do to the log and its Merkle tree: add and read.
APPEND_ONLY_TABLES = ("stored_events", "merkle_nodes")
ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


@audit_app.command("verify")
def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            exists=True,
            dir_okay=False,
            help="A checkpoint (signed note) you kept: check that the log still holds what it covered",
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Recompute every leaf and the root of the Merkle tree from the stored
    events; name the first event that no longer matches its stored leaf hash."""
    kept = None if checkpoint is None else checkpoint.read_text(encoding="utf-8")
    with opened(settings_for(database_url)) as running:
        report = running.transparency.verify(kept)
    console.print(
        f"{report.events} events, stored tree of {report.tree_size}; recomputed root {report.recomputed_root.hex()}"
    )
    if report.ok:
        console.print("[green]The log matches its Merkle tree[/green]" + (" and the kept checkpoint." if kept else "."))
        return
    for problem in report.problems:
        console.print(f"[red]{problem}[/red]", soft_wrap=True)
    raise typer.Exit(1)


@audit_app.command("export")
def export(
    path: Annotated[Path, typer.Argument(dir_okay=False, help="The JSON Lines file to write")],
    database_url: DatabaseOption = None,
) -> None:
    """Write the log as JSON Lines (a header with the latest signed checkpoint
    and the verifier key, then one event a line, with its leaf's fields), for
    `stocktake-verify`."""
    with opened(settings_for(database_url)) as running, path.open("w", encoding="utf-8") as out:
        checkpoint = running.transparency.export(out)
    console.print(f"{checkpoint.size} events written to {path}, with the checkpoint of size {checkpoint.size}.")


@audit_app.command("checkpoint")
def checkpoint(database_url: DatabaseOption = None) -> None:
    """Print the latest signed checkpoint (keep it: `audit verify --checkpoint`)."""
    with opened(settings_for(database_url)) as running:
        typer.echo(running.transparency.checkpoint().note, nl=False)


@audit_app.command("verifier-key")
def verifier_key(database_url: DatabaseOption = None) -> None:
    """Print the public key of the checkpoints, in note-verifier form."""
    with opened(settings_for(database_url)) as running:
        typer.echo(running.transparency.verifier_text())


@db_app.command("grant-service-role")
def grant_service_role(
    role: Annotated[str, typer.Argument(help="The (existing) role the served process connects as")],
    database_url: DatabaseOption = None,
    migration_database_url: OwnerOption = None,
) -> None:
    """Run as the tables' owner: let ROLE add to and read the event log and its
    Merkle tree (nothing else there), and read and write every other table,
    including those later migrations and rebuilds create."""
    settings = settings_for(database_url)
    database = Database(migration_database_url or settings.owner_url)
    try:
        if not database.is_postgresql:
            console.print("SQLite has no roles: its guard is the triggers (and who may write the file).")
            raise typer.Exit(1)
        with database.engine.begin() as connection:
            _check_role(connection, role)
            for statement in grant_statements(connection, role):
                connection.execute(text(statement))
    finally:
        database.dispose()
    console.print(f"{role} may now INSERT into and SELECT from {', '.join(APPEND_ONLY_TABLES)} only.")


def _check_role(connection: Connection, role: str) -> None:
    if not ROLE_NAME.fullmatch(role):
        console.print(f"[red]{role!r} is not a plain role name (letters, digits and _, not first a digit).[/red]")
        raise typer.Exit(1)
    found = connection.execute(
        text("SELECT rolsuper, rolname = current_user FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        console.print(f"[red]There is no role {role!r}: create it first (CREATE ROLE {role} LOGIN PASSWORD ...).[/red]")
        raise typer.Exit(1)
    if found[0] or found[1]:
        console.print(
            f"[red]{role} is a superuser or the tables' owner: it could change the log whatever is granted. "
            "The service needs a role of its own.[/red]"
        )
        raise typer.Exit(1)


def grant_statements(connection: Connection, role: str) -> list[str]:
    tables = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
    quoted = f'"{role}"'
    statements = [
        f"GRANT CONNECT ON DATABASE {_current_database(connection)} TO {quoted}",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        # Tables that migrations and rebuilds create later, as the owner.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {quoted}",
    ]
    for table in sorted(tables):
        if table in APPEND_ONLY_TABLES:
            statements.append(f'GRANT SELECT, INSERT ON "{table}" TO {quoted}')
        elif table == "alembic_version":
            statements.append(f'GRANT SELECT ON "{table}" TO {quoted}')
        else:
            statements.append(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO {quoted}')
    return statements


def _current_database(connection: Connection) -> str:
    name = connection.execute(text("SELECT current_database()")).scalar_one()
    return f'"{name}"'
