"""`stocktake scope` as the programme management team runs it: selects and
deselects countries and sectors from valid dates, and shows the scope as of a
date, as known at a log position. Every refusal is the HTTP API's own (the
same sentence), exits non-zero and records nothing; none is a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from services.measurement.entrypoints.cli import app
from tests.support import country_body, log_head

WIDE = {"COLUMNS": "200"}
CRITERIA = (
    "--decent-work-deficits",
    "Labour force survey 2018",
    "--political-commitment",
    "Tripartite MoU",
    "--ilo-presence",
    "Project office",
)


def run(database_url: str, *arguments: str) -> Result:
    return CliRunner().invoke(app, ["scope", *arguments, "--database-url", database_url], env=WIDE)


def select_country(database_url: str, country: str, *more: str) -> Result:
    return run(database_url, "select-country", country, "--region", "asia_pacific", *CRITERIA, *more)


def said(result: Result) -> str:
    return " ".join(result.output.split())


def done(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return said(result)


def refused(result: Result, exit_code: int) -> str:
    """The command failed with `exit_code`, in sentences: no traceback."""
    assert result.exit_code == exit_code, result.output
    assert result.exc_info is None or result.exc_info[0] is SystemExit, result.exc_info
    assert "Traceback" not in result.output
    return said(result)


def scope_entry(client: TestClient, kind: str, code: str) -> dict[str, Any]:
    scope: dict[str, list[dict[str, Any]]] = client.get("/scope").json()
    (entry,) = [item for item in scope[kind] if item["iso3" if kind == "countries" else "code"] == code]
    return entry


# -- decisions and the scope they make -----------------------------------------------


def test_the_team_selects_and_deselects_and_the_api_reads_the_same_scope(client: TestClient, database_url: str) -> None:
    selected = done(select_country(database_url, "Cambodia", "--from", "2019-Q3", "--not-met", "political_commitment"))
    assert f"Country KHM (Cambodia) selected: in scope from 2019-07-01 (log position {log_head(client)})." in selected
    khm = scope_entry(client, "countries", "KHM")
    assert khm["region"] == "asia_pacific"
    assert khm["criteria"] == {
        "decent_work_deficits": {"met": True, "evidence": "Labour force survey 2018"},
        "political_commitment": {"met": False, "evidence": "Tripartite MoU"},
        "ilo_presence": {"met": True, "evidence": "Project office"},
    }
    assert khm["periods"] == [{"first_day": "2019-07-01", "last_day": None, "ended_because": None}]

    assert "Country BGD (Bangladesh) selected: in scope from 2017-01-01" in done(select_country(database_url, "bd"))
    sector = run(
        database_url, "select-sector", "GARMENTS", "--name", "Garments", "--rationale", "ILO study", "--from", "2018"
    )
    assert "Sector GARMENTS (Garments) selected: in scope from 2018-01-01" in done(sector)
    assert scope_entry(client, "sectors", "GARMENTS")["rationale"] == "ILO study"
    before_deselections = log_head(client)

    left = done(run(database_url, "deselect-country", "kh", "--from", "2021", "--reason", "Project closed"))
    assert (
        "Country KHM (Cambodia) deselected: in scope from 2019-07-01 to 2020-12-31 (deselected: Project closed)" in left
    )
    assert scope_entry(client, "countries", "KHM")["periods"] == [
        {"first_day": "2019-07-01", "last_day": "2020-12-31", "ended_because": "Project closed"}
    ]
    sector_left = run(database_url, "deselect-sector", "GARMENTS", "--from", "2020-06-30", "--reason", "Merged")
    assert "in scope from 2018-01-01 to 2020-06-29 (deselected: Merged)" in done(sector_left)

    # Each decision is an event recorded by the operator who ran the command.
    events = client.get("/log", params={"limit": 100}).json()["events"]
    decisions = [e for e in events if e["type"].split(".")[-1].endswith(("Selected", "Deselected"))]
    assert len(decisions) == 5
    assert all(e["data"]["principal"].startswith("cli:") for e in decisions)

    person = ("--name", "A. Person", "--email", "a.person@example.org")
    nominated = run(database_url, "focal-point", "--region", "asia_pacific", *person)
    head = log_head(client)
    assert f"Focal point for asia_pacific: A. Person <a.person@example.org> (log position {head})." in done(nominated)
    assert client.get("/scope").json()["focal_points"] == [
        {"region": "asia_pacific", "name": "A. Person", "email": "a.person@example.org"}
    ]
    shown = run(database_url, "show", "--as-of", "2020-Q2")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines() == [
        f"# as of 2020-06-30, log position {head}",
        "kind\tcode\tname\tin_scope\tperiods\tregion",
        "country\tBGD\tBangladesh\tyes\t2017-01-01..\tasia_pacific",
        "country\tKHM\tCambodia\tyes\t2019-07-01..2020-12-31 (Project closed)\tasia_pacific",
        "sector\tGARMENTS\tGarments\tno\t2018-01-01..2020-06-29 (Merged)\t-",
        "# focal points: region, name, email",
        "focal_point\tasia_pacific\tA. Person\ta.person@example.org",
    ]
    in_2021 = run(database_url, "show", "--as-of", "2021", "--in-scope").stdout.splitlines()
    assert in_2021[2:] == ["country\tBGD\tBangladesh\tyes\t2017-01-01..\tasia_pacific", in_2021[-2], in_2021[-1]]
    # As known before the deselections: both were in scope in 2021, with no end yet.
    pinned = run(database_url, "show", "--as-of", "2021", "--at", str(before_deselections)).stdout.splitlines()
    assert pinned[0] == f"# as of 2021-12-31, log position {before_deselections}"
    assert "country\tKHM\tCambodia\tyes\t2019-07-01..\tasia_pacific" in pinned
    assert "sector\tGARMENTS\tGarments\tyes\t2018-01-01..\t-" in pinned
    before_any = run(database_url, "show", "--as-of", "2016-12-31").stdout.splitlines()
    assert [line.split("\t")[3] for line in before_any[2:5]] == ["no", "no", "no"]


def test_a_country_leaves_and_is_selected_again(client: TestClient, database_url: str) -> None:
    done(select_country(database_url, "VNM"))
    done(run(database_url, "deselect-country", "Viet Nam", "--from", "2019-01-01", "--reason", "Paused"))
    again = done(select_country(database_url, "vnm", "--from", "2020-Q1"))
    assert "in scope from 2017-01-01 to 2018-12-31 (deselected: Paused) and from 2020-01-01" in again
    shown = run(database_url, "show", "--as-of", "2019-06").stdout.splitlines()
    assert "country\tVNM\tViet Nam\tno\t2017-01-01..2018-12-31 (Paused); 2020-01-01..\tasia_pacific" in shown


def test_an_empty_scope_shows_only_the_headers(client: TestClient, database_url: str) -> None:
    shown = run(database_url, "show")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("# as of ") and lines[0].endswith(f"log position {log_head(client)}")
    assert lines[1:] == ["kind\tcode\tname\tin_scope\tperiods\tregion", "# focal points: region, name, email"]


# -- refusals: the API's own, as sentences ------------------------------------------------

ELECTRONICS = ("select-sector", "ELEC", "--name", "Electronics", "--rationale", "Study")

# (set-up commands, the refused request over HTTP, the same decision on the command line)
RULES: dict[str, tuple[list[tuple[str, ...]], tuple[str, dict[str, Any]], tuple[str, ...]]] = {
    "nothing selected yet": (
        [],
        ("/scope/countries/BGD/deselection", {"valid_from": "2020", "reason": "x"}),
        ("deselect-country", "BGD", "--from", "2020", "--reason", "x"),
    ),
    "country selected twice": (
        [("select-country", "BGD", "--region", "asia_pacific", *CRITERIA)],
        ("/scope/countries", country_body("BGD")),
        ("select-country", "Bangladesh", "--region", "asia_pacific", *CRITERIA),
    ),
    "a fifth sector": (
        [("select-sector", code, "--name", code, "--rationale", "Study") for code in ("A", "B", "C", "D")],
        ("/scope/sectors", {"code": "ELEC", "name": "Electronics", "rationale": "Study"}),
        ELECTRONICS,
    ),
    "selected again before it left": (
        [
            ("select-country", "KHM", "--region", "asia_pacific", *CRITERIA),
            ("deselect-country", "KHM", "--from", "2021", "--reason", "Closed"),
        ],
        ("/scope/countries", {**country_body("KHM"), "valid_from": "2020"}),
        ("select-country", "KHM", "--region", "asia_pacific", *CRITERIA, "--from", "2020"),
    ),
    "deselecting a country never selected": (
        [("select-country", "BGD", "--region", "asia_pacific", *CRITERIA)],
        ("/scope/countries/VNM/deselection", {"valid_from": "2020", "reason": "x"}),
        ("deselect-country", "VN", "--from", "2020", "--reason", "x"),
    ),
    "deselecting a sector never selected": (
        [ELECTRONICS],
        ("/scope/sectors/TOYS/deselection", {"valid_from": "2020", "reason": "x"}),
        ("deselect-sector", "TOYS", "--from", "2020", "--reason", "x"),
    ),
    "deselecting what is out of scope": (
        [
            ("select-country", "KHM", "--region", "asia_pacific", *CRITERIA),
            ("deselect-country", "KHM", "--from", "2021", "--reason", "Closed"),
        ],
        ("/scope/countries/KHM/deselection", {"valid_from": "2022", "reason": "again"}),
        ("deselect-country", "KHM", "--from", "2022", "--reason", "again"),
    ),
    "deselected on its first day": (
        [(*ELECTRONICS, "--from", "2019-Q3")],
        ("/scope/sectors/ELEC/deselection", {"valid_from": "2019-07-01", "reason": "x"}),
        ("deselect-sector", "ELEC", "--from", "2019-07-01", "--reason", "x"),
    ),
    "a blank reason": (
        [ELECTRONICS],
        ("/scope/sectors/ELEC/deselection", {"valid_from": "2020", "reason": "   "}),
        ("deselect-sector", "ELEC", "--from", "2020", "--reason", "   "),
    ),
}


@pytest.mark.parametrize("case", list(RULES))
def test_a_decision_the_rules_refuse_says_what_the_api_says_and_records_nothing(
    client: TestClient, database_url: str, case: str
) -> None:
    setup, (path, body), command = RULES[case]
    for step in setup:
        done(run(database_url, *step))
    head = log_head(client)
    response = client.post(path, json=body)
    assert response.status_code in (404, 409, 422), response.text
    problem = response.json()
    assert not problem.get("errors") or all(e.get("pointer") for e in problem["errors"])  # the rules', not the schema's

    message = refused(run(database_url, *command), 1)
    assert " ".join(problem["detail"].split()) in message
    assert log_head(client) == head


# (the refused request over HTTP, the same decision on the command line, the option the CLI names)
MALFORMED: dict[str, tuple[tuple[str, dict[str, Any]], tuple[str, ...], str]] = {
    "not a country": (
        ("/scope/countries", country_body("Bangldesh")),
        ("select-country", "Bangldesh", "--region", "asia_pacific", *CRITERIA),
        "COUNTRY",
    ),
    "not a date": (
        ("/scope/countries", {**country_body("KHM"), "valid_from": "2019-13"}),
        ("select-country", "KHM", "--region", "asia_pacific", *CRITERIA, "--from", "2019-13"),
        "--from",
    ),
    "no evidence": (
        (
            "/scope/countries",
            {
                **country_body("KHM"),
                "criteria": {**country_body()["criteria"], "ilo_presence": {"met": True, "evidence": ""}},
            },
        ),
        ("select-country", "KHM", "--region", "asia_pacific", *CRITERIA[:-1], ""),
        "--ilo-presence",
    ),
    "not a sector code": (
        ("/scope/sectors", {"code": "bad code!", "name": "Bad", "rationale": "Study"}),
        ("select-sector", "bad code!", "--name", "Bad", "--rationale", "Study"),
        "CODE",
    ),
    "no sector name": (
        ("/scope/sectors", {"code": "ELEC", "name": "", "rationale": "Study"}),
        ("select-sector", "ELEC", "--name", "", "--rationale", "Study"),
        "--name",
    ),
    "no rationale": (
        ("/scope/sectors", {"code": "ELEC", "name": "Electronics", "rationale": ""}),
        ("select-sector", "ELEC", "--name", "Electronics", "--rationale", ""),
        "--rationale",
    ),
    "deselecting no country": (
        ("/scope/countries/Atlantis/deselection", {"valid_from": "2020", "reason": "x"}),
        ("deselect-country", "Atlantis", "--from", "2020", "--reason", "x"),
        "COUNTRY",
    ),
    "a sector code too long": (
        (f"/scope/sectors/{'X' * 65}/deselection", {"valid_from": "2020", "reason": "x"}),
        ("deselect-sector", "X" * 65, "--from", "2020", "--reason", "x"),
        "CODE",
    ),
    "no reason": (
        ("/scope/countries/BGD/deselection", {"valid_from": "2020", "reason": ""}),
        ("deselect-country", "BGD", "--from", "2020", "--reason", ""),
        "--reason",
    ),
    "a reason too long": (
        ("/scope/sectors/ELEC/deselection", {"valid_from": "2020", "reason": "x" * 2001}),
        ("deselect-sector", "ELEC", "--from", "2020", "--reason", "x" * 2001),
        "--reason",
    ),
    "deselected from no date": (
        ("/scope/sectors/ELEC/deselection", {"valid_from": "soon", "reason": "x"}),
        ("deselect-sector", "ELEC", "--from", "soon", "--reason", "x"),
        "--from",
    ),
    "a focal point with no email address": (
        ("/scope/focal-points", {"region": "africa", "name": "A. Person", "email": "a.person"}),
        ("focal-point", "--region", "africa", "--name", "A. Person", "--email", "a.person"),
        "--email",
    ),
    "a focal point with no name": (
        ("/scope/focal-points", {"region": "africa", "name": " ", "email": "a@example.org"}),
        ("focal-point", "--region", "africa", "--name", " ", "--email", "a@example.org"),
        "--name",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_value_names_its_option_with_the_apis_words_and_records_nothing(
    client: TestClient, database_url: str, case: str
) -> None:
    done(select_country(database_url, "BGD"))
    done(run(database_url, *ELECTRONICS))
    head = log_head(client)
    (path, body), command, option = MALFORMED[case]
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    # The API names a path parameter as such; the CLI names the argument.
    details = [error["detail"].removeprefix("path parameter: ") for error in response.json()["errors"]]

    message = refused(run(database_url, *command), 2)
    assert message.startswith("Nothing was recorded: a value is not valid.")
    for detail in details:
        assert f"{option}: {' '.join(detail.split())}" in message
    assert log_head(client) == head


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (("select-country", "KHM", *CRITERIA), "Missing option '--region'"),
        (("select-country", "KHM", "--region", "oceania", *CRITERIA), "'oceania' is not one of"),
        (("select-country", "KHM", "--region", "asia_pacific", *CRITERIA[:4]), "Missing option '--ilo-presence'"),
        (("select-country", "KHM", "--region", "africa", *CRITERIA, "--not-met", "money"), "'money' is not one of"),
        (("select-sector", "ELEC", "--name", "Electronics"), "Missing option '--rationale'"),
        (("deselect-country", "BGD", "--from", "2020"), "Missing option '--reason'"),
        (("deselect-sector", "ELEC", "--reason", "x"), "Missing option '--from'"),
        (("focal-point", "--region", "oceania", "--name", "A", "--email", "a@b.org"), "'oceania' is not one of"),
        (("show", "--at", "-1"), "Invalid value for '--at'"),
        (("show", "--as-of", "20x"), "--as-of: '20x' is not a period"),
    ],
    ids=[
        "no region",
        "unknown region",
        "no evidence option",
        "unknown criterion",
        "no rationale option",
        "no reason",
        "no date",
        "focal point of no region",
        "negative position",
        "not a period",
    ],
)
def test_a_command_written_wrong_is_a_usage_error(
    client: TestClient, database_url: str, command: tuple[str, ...], says: str
) -> None:
    head = log_head(client)
    assert says in refused(run(database_url, *command), 2)
    assert log_head(client) == head


def test_a_store_not_migrated_is_said_in_a_line(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    for command in (("show",), ("select-sector", "ELEC", "--name", "Electronics", "--rationale", "Study")):
        assert "stocktake migrate" in refused(run(url, *command), 1)
