"""`stocktake keys` (issue, list, revoke) as an operator runs it, and the
illustrative sample's keys that `stocktake up` keeps in a file."""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from typer.testing import CliRunner, Result

from services.common.access import Principal, Role
from services.common.api_keys import REVOCATION_BOUND_SECONDS, ApiKeys
from services.common.database import Database, normalise_url
from services.common.errors import AuthenticationError
from services.common.tables import api_keys as api_keys_table
from services.measurement.adapters.countries import country_name
from services.measurement.application.commands import Measurement
from services.measurement.bootstrap import MeasurementServices, bootstrap
from services.measurement.domain.scope import IloRegion
from services.measurement.entrypoints.cli import app
from services.measurement.entrypoints.http.app import create_app
from services.measurement.sample import SAMPLE_PRINCIPALS, sample_keys
from services.measurement.settings import Settings
from tests.support import bearer, benchmark_body, criteria, observation_body

TOKEN = re.compile(r"stk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
WIDE = {"COLUMNS": "200"}  # a wide terminal, so that no column of a table is cut


PROGRAMME_COUNTRIES = ("BGD", "VNM")


def _select_programme_countries(database_url: str, framework_file: tuple[dict[str, Any], str]) -> None:
    """Keys of country offices are for the programme's countries: these are selected."""
    running = bootstrap(Settings(database_url=database_url))
    try:
        running.measurement.load_framework(*framework_file, "test-setup")
        for iso3 in PROGRAMME_COUNTRIES:
            running.measurement.select_country(iso3, IloRegion.ASIA_PACIFIC, criteria(), "test-setup")
    finally:
        running.close()


@pytest.fixture
def stocktake(database_url: str, framework_file: tuple[dict[str, Any], str]) -> Any:
    _select_programme_countries(database_url, framework_file)
    runner = CliRunner()

    def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
        return runner.invoke(app, [*args, "--database-url", database_url], env=env)

    return run


@pytest.fixture
def http(database_url: str) -> Iterator[TestClient]:
    """The HTTP API on the same store, as `stocktake serve` would run it."""
    with TestClient(create_app(settings=Settings(database_url=database_url))) as client:
        yield client


@pytest.fixture
def stored_keys(database_url: str) -> Iterator[ApiKeys]:
    database = Database(database_url)
    yield ApiKeys(database, country_name)
    database.dispose()


def issued_token(result: Result) -> str:
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert TOKEN.fullmatch(token), result.stdout
    return token


def key_id(token: str) -> str:
    match = TOKEN.fullmatch(token)
    assert match is not None
    return match.group(1)


def raw_rows(database_url: str) -> list[dict[str, Any]]:
    engine = create_engine(normalise_url(database_url))
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(select(api_keys_table))]
    engine.dispose()
    return rows


# -- issue ----------------------------------------------------------------------


def test_an_issued_key_is_printed_and_authenticates_over_http(
    stocktake: Any, http: TestClient, stored_keys: ApiKeys, database_url: str
) -> None:
    result = stocktake(
        "keys", "issue", "office-x", "--role", "country-office", "--country", "BGD", "--label", "Dhaka CO"
    )
    token = issued_token(result)
    assert key_id(token) in result.stderr and "shown only now" in result.stderr.replace("\n", " ")

    response = http.get("/observations", headers=bearer(token))
    assert response.status_code == 200, response.text
    # The key acts in its role: a country office does not read the log.
    assert http.get("/log", headers=bearer(token)).status_code == 403

    (info,) = stored_keys.keys()
    assert (info.key_id, info.label) == (key_id(token), "Dhaka CO")
    assert info.principal == Principal.office("office-x", ["BGD"])
    assert info.issued_by.startswith("cli:")
    # Only a digest is kept: neither the key nor its secret is in the store.
    secret = TOKEN.fullmatch(token).group(2)  # type: ignore[union-attr]
    (row,) = raw_rows(database_url)
    assert not any(secret in str(value) for value in row.values())


def test_a_key_may_name_several_countries_in_any_case(stocktake: Any, stored_keys: ApiKeys) -> None:
    issued_token(
        stocktake("keys", "issue", "office-asia", "--role", "country-office", "--country", "BGD", "--country", "vnm")
    )
    (info,) = stored_keys.keys()
    assert info.principal.countries == frozenset({"BGD", "VNM"})


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("office-x", "--role", "country-office"), "needs at least one country"),
        (("office-x", "--role", "country-office", "--country", "XXX"), "'XXX' is not an ISO 3166-1 alpha-3"),
        (("office-x", "--role", "country-office", "--country", "BD"), "'BD' is not an ISO 3166-1 alpha-3"),
        (("auditor-x", "--role", "auditor", "--country", "BGD"), "Only country-office keys are scoped to countries"),
        (("bad name!", "--role", "auditor"), "not a principal name"),
        (("auditor-x", "--role", "auditor", "--label", "x" * 201), "at most 200 characters"),
    ],
    ids=[
        "office without country",
        "unknown country",
        "alpha-2 code",
        "auditor with country",
        "bad principal",
        "long label",
    ],
)
def test_a_key_that_cannot_be_issued_fails_and_stores_nothing(
    stocktake: Any, stored_keys: ApiKeys, args: tuple[str, ...], says: str
) -> None:
    result = stocktake("keys", "issue", *args)
    assert result.exit_code == 1, result.output
    assert says in " ".join(result.output.split())
    assert not TOKEN.search(result.stdout)
    assert stored_keys.keys(include_revoked=True) == []


def test_an_unknown_role_is_a_usage_error(stocktake: Any, stored_keys: ApiKeys) -> None:
    result = stocktake("keys", "issue", "someone", "--role", "administrator")
    assert result.exit_code == 2
    assert stored_keys.keys(include_revoked=True) == []


def test_a_principal_has_one_role(stocktake: Any, stored_keys: ApiKeys) -> None:
    first = issued_token(stocktake("keys", "issue", "office-x", "--role", "country-office", "--country", "BGD"))
    result = stocktake("keys", "issue", "office-x", "--role", "auditor")
    assert result.exit_code == 1, result.output
    assert "already holds a country-office key" in " ".join(result.output.split())
    assert [info.key_id for info in stored_keys.keys(include_revoked=True)] == [key_id(first)]
    # A second key in the same role is a rotation, not a conflict.
    second = issued_token(stocktake("keys", "issue", "office-x", "--role", "country-office", "--country", "BGD"))
    # Once its keys are revoked, the name may take another role.
    for token in (first, second):
        assert stocktake("keys", "revoke", key_id(token), "--reason", "role change").exit_code == 0
    issued_token(stocktake("keys", "issue", "office-x", "--role", "auditor"))


# -- list -----------------------------------------------------------------------


def test_keys_list_shows_each_key_by_id_and_never_its_secret(stocktake: Any) -> None:
    office = issued_token(
        stocktake("keys", "issue", "office-bgd", "--role", "country-office", "--country", "BGD", "--label", "Dhaka CO")
    )
    auditor = issued_token(stocktake("keys", "issue", "auditor-1", "--role", "auditor"))
    result = stocktake("keys", "list", env=WIDE)
    assert result.exit_code == 0, result.output
    for token, principal, role in ((office, "office-bgd", "country-office"), (auditor, "auditor-1", "auditor")):
        (line,) = [line for line in result.stdout.splitlines() if key_id(token) in line]
        assert principal in line and role in line
        assert TOKEN.fullmatch(token).group(2) not in result.output  # type: ignore[union-attr]
    assert "BGD" in result.stdout and "Dhaka CO" in result.stdout
    assert "stk_" not in result.output


def test_keys_list_shows_the_whole_id_in_an_80_column_terminal(stocktake: Any) -> None:
    token = issued_token(
        stocktake("keys", "issue", "office-bgd", "--role", "country-office", "--country", "BGD", "--label", "Dhaka CO")
    )
    result = stocktake("keys", "list", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert key_id(token) in result.stdout, result.stdout


# -- revoke ---------------------------------------------------------------------


def test_a_revoked_key_gets_401_and_stays_listed_with_all(
    stocktake: Any, http: TestClient, stored_keys: ApiKeys
) -> None:
    token = issued_token(stocktake("keys", "issue", "office-x", "--role", "country-office", "--country", "BGD"))
    other = issued_token(stocktake("keys", "issue", "auditor-1", "--role", "auditor"))
    assert http.get("/observations", headers=bearer(token)).status_code == 200

    result = stocktake("keys", "revoke", key_id(token), "--reason", "laptop lost")
    assert result.exit_code == 0, result.output

    # The command is another process than the server: the server refuses the key within the bound.
    served_keys = http.app.state.authenticator  # type: ignore[attr-defined]
    served_keys.clock = lambda: time.monotonic() + REVOCATION_BOUND_SECONDS
    response = http.get("/observations", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "revoked" in response.json()["detail"]
    assert http.get("/observations", headers=bearer(other)).status_code == 200  # only that key

    active = stocktake("keys", "list", env=WIDE)
    assert key_id(token) not in active.stdout and key_id(other) in active.stdout
    every = stocktake("keys", "list", "--all", env=WIDE)
    (line,) = [line for line in every.stdout.splitlines() if key_id(token) in line]
    assert "revoked" in line
    assert "laptop lost" in " ".join(every.stdout.split())
    (info,) = [i for i in stored_keys.keys(include_revoked=True) if i.key_id == key_id(token)]
    assert (info.active, info.revocation_reason) == (False, "laptop lost")
    assert info.revoked_by is not None and info.revoked_by.startswith("cli:")


def test_revoking_a_key_twice_fails(stocktake: Any, stored_keys: ApiKeys) -> None:
    token = issued_token(stocktake("keys", "issue", "office-x", "--role", "country-office", "--country", "BGD"))
    assert stocktake("keys", "revoke", key_id(token), "--reason", "first").exit_code == 0
    again = stocktake("keys", "revoke", key_id(token), "--reason", "second")
    assert again.exit_code == 1, again.output
    assert "revoked already" in again.output
    (info,) = stored_keys.keys(include_revoked=True)
    assert info.revocation_reason == "first"


def test_revoking_an_unknown_key_fails(stocktake: Any) -> None:
    result = stocktake("keys", "revoke", "0123456789ab", "--reason", "r")
    assert result.exit_code == 1
    assert "no key" in result.output


def test_revoking_by_the_whole_key_instead_of_its_id_fails(stocktake: Any, http: TestClient) -> None:
    token = issued_token(stocktake("keys", "issue", "office-x", "--role", "country-office", "--country", "BGD"))
    assert stocktake("keys", "revoke", token, "--reason", "r").exit_code == 1
    assert http.get("/observations", headers=bearer(token)).status_code == 200


# -- the illustrative sample's keys ------------------------------------------------


def key_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture
def sample_http(services: MeasurementServices, measurement: Measurement) -> Iterator[TestClient]:
    with TestClient(create_app(services=services)) as client:
        yield client


def test_sample_keys_are_kept_in_a_private_file_and_given_again(
    api_keys: ApiKeys, tmp_path: Path, sample_http: TestClient
) -> None:
    path = tmp_path / "var" / "keys.txt"
    keys = sample_keys(api_keys, path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = key_lines(path)
    assert len(lines) == 5 == len(SAMPLE_PRINCIPALS)
    assert [principal for principal, _ in keys] == list(SAMPLE_PRINCIPALS)
    assert [line.split()[-1] for line in lines] == [token for _, token in keys]
    for principal, token in keys:
        assert api_keys.authenticate(token) == principal
        assert sample_http.get("/scope", headers=bearer(token)).status_code == 200
    assert sorted(p.role for p, _ in keys) == sorted([*Role, Role.COUNTRY_OFFICE])

    assert sample_keys(api_keys, path) == keys
    assert len(api_keys.keys(include_revoked=True)) == 5  # nothing issued the second time
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_without_the_file_the_sample_keys_are_replaced(
    api_keys: ApiKeys, tmp_path: Path, sample_http: TestClient
) -> None:
    path = tmp_path / "keys.txt"
    old = sample_keys(api_keys, path)
    path.unlink()
    new = sample_keys(api_keys, path)

    assert [p for p, _ in new] == [p for p, _ in old]
    assert not {t for _, t in new} & {t for _, t in old}
    for (_, old_token), (_, new_token) in zip(old, new, strict=True):
        response = sample_http.get("/scope", headers=bearer(old_token))
        assert response.status_code == 401 and "revoked" in response.json()["detail"]
        assert sample_http.get("/scope", headers=bearer(new_token)).status_code == 200
    assert len(api_keys.keys()) == 5
    assert len(api_keys.keys(include_revoked=True)) == 10
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [line.split()[-1] for line in key_lines(path)] == [t for _, t in new]


def test_a_sample_key_revoked_by_an_operator_gets_the_sample_keys_replaced(api_keys: ApiKeys, tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    old = sample_keys(api_keys, path)
    api_keys.revoke(key_id(old[2][1]), "operator", "leaked")
    new = sample_keys(api_keys, path)
    assert not {t for _, t in new} & {t for _, t in old}
    for _, token in old:
        with pytest.raises(AuthenticationError):
            api_keys.authenticate(token)
    assert [api_keys.authenticate(t) for _, t in new] == list(SAMPLE_PRINCIPALS)


def test_a_stale_sample_key_file_is_rewritten_private(api_keys: ApiKeys, tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text("country-office  someone  BGD  stk_000000000000_" + "A" * 43 + "\n", encoding="utf-8")
    path.chmod(0o644)
    keys = sample_keys(api_keys, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [line.split()[-1] for line in key_lines(path)] == [t for _, t in keys]


def test_an_office_key_is_refused_for_a_country_outside_the_programme(stocktake: Any, stored_keys: ApiKeys) -> None:
    result = stocktake("keys", "issue", "office-eth", "--role", "country-office", "--country", "ETH")
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "ETH is not in the programme's scope (its countries: BGD, VNM)" in said
    assert stored_keys.keys(include_revoked=True) == []


def test_the_country_option_explains_its_list_syntax(stocktake: Any) -> None:
    result = stocktake("keys", "issue", "--help", env={"COLUMNS": "200"})
    assert "--country BGD --country VNM" in " ".join(result.output.split())


# -- country-office keys and the programme's scope today ------------------------------


def test_an_office_key_is_refused_for_a_deselected_country_naming_when_it_was_in_scope(
    stocktake: Any, stored_keys: ApiKeys
) -> None:
    left = stocktake("scope", "deselect-country", "VNM", "--from", "2020", "--reason", "Office closed")
    assert left.exit_code == 0, left.output
    for countries in (("VNM",), ("BGD", "VNM")):
        result = stocktake("keys", "issue", "office-vnm", "--role", "country-office", *_each_country(countries))
        assert result.exit_code == 1, result.output
        said = " ".join(result.output.split())
        assert "Not in the programme's scope today" in said
        assert "VNM, in scope from 2017-01-01 to 2019-12-31 (deselected: Office closed)" in said
        assert "--outside-scope" in said
        assert not TOKEN.search(result.stdout)
    assert stored_keys.keys(include_revoked=True) == []


def test_an_office_key_is_refused_for_a_country_selected_from_a_later_day(stocktake: Any, stored_keys: ApiKeys) -> None:
    next_year = str(datetime.now(UTC).year + 1)
    selected = stocktake(
        "scope", "select-country", "ETH", "--region", "africa", "--decent-work-deficits", "LFS",
        "--political-commitment", "MoU", "--ilo-presence", "Office", "--from", next_year,
    )  # fmt: skip
    assert selected.exit_code == 0, selected.output
    result = stocktake("keys", "issue", "office-eth", "--role", "country-office", "--country", "ETH")
    assert result.exit_code == 1, result.output
    assert f"ETH, in scope from {next_year}-01-01" in " ".join(result.output.split())
    assert stored_keys.keys(include_revoked=True) == []


def test_a_country_never_selected_is_refused_even_outside_scope(stocktake: Any, stored_keys: ApiKeys) -> None:
    result = stocktake("keys", "issue", "office-eth", "--role", "country-office", "--country", "ETH", "--outside-scope")
    assert result.exit_code == 1, result.output
    assert "ETH is not in the programme's scope (its countries: BGD, VNM)" in " ".join(result.output.split())
    assert stored_keys.keys(include_revoked=True) == []


def test_a_country_selected_again_is_in_scope_today(stocktake: Any, stored_keys: ApiKeys) -> None:
    assert stocktake("scope", "deselect-country", "VNM", "--from", "2019", "--reason", "Paused").exit_code == 0
    again = stocktake(
        "scope", "select-country", "VNM", "--region", "asia_pacific", "--decent-work-deficits", "LFS",
        "--political-commitment", "MoU", "--ilo-presence", "Office", "--from", "2020",
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    result = stocktake("keys", "issue", "office-vnm", "--role", "country-office", "--country", "VNM")
    issued_token(result)
    assert "Not in the programme's scope" not in result.output
    (info,) = stored_keys.keys()
    assert info.principal.countries == frozenset({"VNM"})


def test_outside_scope_issues_a_key_that_records_only_for_the_dates_in_scope(
    stocktake: Any, http: TestClient, stored_keys: ApiKeys
) -> None:
    assert stocktake("scope", "deselect-country", "VNM", "--from", "2020", "--reason", "Office closed").exit_code == 0
    manager = issued_token(stocktake("keys", "issue", "pm", "--role", "programme-manager"))
    assert http.post("/benchmarks", json=benchmark_body(), headers=bearer(manager)).status_code == 201

    result = stocktake("keys", "issue", "office-vnm", "--role", "country-office", "--country", "VNM", "--outside-scope")
    office = issued_token(result)
    said = " ".join(result.stderr.split())
    assert "Not in the programme's scope today: VNM, in scope from 2017-01-01 to 2019-12-31" in said
    assert "records observations only for dates in scope" in said

    late = http.post("/observations", json=observation_body(country="VNM", period="2019-Q4"), headers=bearer(office))
    assert late.status_code == 201, late.text
    after = http.post("/observations", json=observation_body(country="VNM", period="2020-Q1"), headers=bearer(office))
    assert after.status_code == 422, after.text
    assert "from 2017-01-01 to 2019-12-31" in after.json()["detail"]


def _each_country(countries: tuple[str, ...]) -> list[str]:
    return [argument for country in countries for argument in ("--country", country)]
