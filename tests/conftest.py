"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

Each store is migrated once per session with `alembic upgrade head` (so the
migrations are tested on every run); each test then starts from an empty
copy. PostgreSQL is at STOCKTAKE_TEST_POSTGRES_URL (default: the local server,
trust auth). Where it cannot be reached its half of the suite is skipped and
the run says so, unless STOCKTAKE_REQUIRE_POSTGRES=1 (as in CI), where that is
an error."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pycountry
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.common.access import Principal, Role
from services.common.api_keys import ApiKeys
from services.common.database import normalise_url
from services.common.migrations import upgrade
from services.measurement.adapters.framework_file import read_framework_file
from services.measurement.application.commands import Measurement
from services.measurement.bootstrap import MeasurementServices, bootstrap
from services.measurement.entrypoints.http.app import create_app
from services.measurement.settings import Settings
from tests.support import ActingInTheRoleNeeded

POSTGRES_ADMIN_URL = os.environ.get("STOCKTAKE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("STOCKTAKE_REQUIRE_POSTGRES", "") in ("1", "true", "yes")
TEST_DATABASE = f"stocktake_test_{os.getpid()}"

_postgres_problem: str | None = None

TEST_PRINCIPALS = (
    Principal("test-programme-manager", Role.PROGRAMME_MANAGER),
    Principal.office("test-office", (c.alpha_3 for c in pycountry.countries)),
    Principal("test-auditor", Role.AUDITOR),
    Principal("test-reporting", Role.REPORTING),
)


def _postgres_admin_engine() -> Any:
    return create_engine(
        normalise_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )


def _reach_postgres() -> str | None:
    """None if the server answers, else why not."""
    try:
        engine = _postgres_admin_engine()
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means: no PostgreSQL here
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"


def pytest_sessionstart(session: pytest.Session) -> None:
    global _postgres_problem
    _postgres_problem = _reach_postgres()
    if _postgres_problem and REQUIRE_POSTGRES:
        raise pytest.UsageError(
            f"STOCKTAKE_REQUIRE_POSTGRES is set but PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: "
            f"{_postgres_problem}"
        )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _postgres_problem:
        terminalreporter.write_sep(
            "!", f"PostgreSQL half SKIPPED: no server at {POSTGRES_ADMIN_URL} ({_postgres_problem})", yellow=True
        )
    else:
        terminalreporter.write_line(f"Database tests ran on SQLite and on PostgreSQL ({POSTGRES_ADMIN_URL}).")


def _migrate(url: str) -> None:
    upgrade(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    if _postgres_problem:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {_postgres_problem}")
    admin = _postgres_admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{TEST_DATABASE}"'))
    url = make_url(normalise_url(POSTGRES_ADMIN_URL)).set(database=TEST_DATABASE).render_as_string(hide_password=False)
    _migrate(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = (
            connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
            .scalars()
            .all()
        )
        # The event store refuses TRUNCATE by trigger; tests (only) switch triggers off to reset it.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {', '.join(tables)}"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, migrated store, on each backend in turn."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url


@pytest.fixture(scope="session")
def framework_file() -> tuple[dict[str, Any], str]:
    return read_framework_file()


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[MeasurementServices]:
    """The service's objects on an empty store (no framework loaded); local
    files (the checkpoint signing key) in the test's own folder."""
    running = bootstrap(Settings(database_url=database_url, data_dir=tmp_path))
    yield running
    running.close()


@pytest.fixture
def bare_measurement(services: MeasurementServices) -> Measurement:
    """The application on an empty store (no framework loaded)."""
    return services.measurement


@pytest.fixture
def measurement(bare_measurement: Measurement, framework_file: tuple[dict[str, Any], str]) -> Measurement:
    """The application with the programme framework loaded."""
    document, digest = framework_file
    bare_measurement.load_framework(document, digest, "test-setup")
    return bare_measurement


@pytest.fixture
def api_keys(services: MeasurementServices, measurement: Measurement) -> ApiKeys:
    return services.api_keys


@pytest.fixture
def tokens(api_keys: ApiKeys) -> dict[Role, str]:
    """A key per role; the office's covers every country, so that tests not
    about authorisation are not limited by it."""
    return {
        principal.role: api_keys.issue(principal.name, principal.role, principal.countries, None, "tests").token
        for principal in TEST_PRINCIPALS
    }


@pytest.fixture
def client(services: MeasurementServices, measurement: Measurement, tokens: dict[Role, str]) -> Iterator[TestClient]:
    """A client acting in the role each endpoint is meant for (see
    `ActingInTheRoleNeeded`); a test about access sends its own Authorization."""
    with TestClient(create_app(services=services)) as test_client:
        test_client.auth = ActingInTheRoleNeeded(tokens)
        yield test_client
