"""`stocktake workplan` as the programme management team runs it: records a
deliverable's delivery and a milestone's outcome, and shows the workplan
planned vs recorded; a refused record says why and changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from services.measurement.entrypoints.cli import app
from tests.support import log_head

WIDE = {"COLUMNS": "200"}


def run(database_url: str, *arguments: str) -> Result:
    return CliRunner().invoke(app, ["workplan", *arguments, "--database-url", database_url], env=WIDE)


def test_the_team_records_delivery_and_milestones_and_reads_them_back(client: TestClient, database_url: str) -> None:
    started = run(database_url, "deliverable", "2.1", "started", "--on", "2017-02-01", "--note", "Team set up")
    assert started.exit_code == 0, started.output
    assert "Deliverable 2.1: started on 2017-02-01" in started.output
    met = run(database_url, "milestone", "M1", "met", "--on", "2017-04-28", "--note", "Four sectors selected")
    assert met.exit_code == 0, met.output

    shown = run(database_url, "show", "--as-of", "2017-Q2")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == f"# as of 2017-06-30, log position {log_head(client)}, framework version 2"
    assert "2.1\tstarted\t2017-Q1..2021-Q4\t2017-02-01\t-\t-\t-" in lines
    assert "M1\tmet\t2017-04-30\t2017-04-28\t-" in lines
    earlier = run(database_url, "show", "--as-of", "2017-Q2", "--at", str(log_head(client) - 2))
    assert "2.1\tnot_started\t2017-Q1..2021-Q4\t-\t-\t-\tlate start" in earlier.stdout.splitlines()

    history = client.get("/workplan/deliverables/2.1", params={"as_of": "2018"}).json()["history"]
    assert [(fact["event"], fact["note"], fact["principal"].startswith("cli:")) for fact in history] == [
        ("started", "Team set up", True)
    ]


def test_late_deliverables_are_shown_alone_with_late(client: TestClient, database_url: str) -> None:
    shown = run(database_url, "show", "--as-of", "2018-07-01", "--late")
    assert shown.exit_code == 0, shown.output
    rows = [line.split("\t") for line in shown.stdout.splitlines()[2:] if not line.startswith(("milestone", "M"))]
    assert rows and all(row[-1] == "late" for row in rows)
    assert "9.2" in {row[0] for row in rows}


def test_a_refused_record_says_why_and_changes_nothing(client: TestClient, database_url: str) -> None:
    head = log_head(client)
    unknown = run(database_url, "deliverable", "2.11", "started", "--on", "2017-02-01")
    assert unknown.exit_code == 1 and "Did you mean '2.1'" in unknown.output
    missing = run(database_url, "deliverable", "2.1", "delivered", "--on", "2017-02-01")
    assert missing.exit_code == 1 and "needs `evidence`" in missing.output
    early = run(database_url, "milestone", "M8", "missed", "--on", "2019-11-01", "--note", "Not yet")
    assert early.exit_code == 1 and "2019-12-01" in early.output
    wrong = run(database_url, "deliverable", "2.1", "finished", "--on", "2017-02-01")
    assert wrong.exit_code == 2 and "'finished' is not one of 'started', 'delivered', 'dropped'" in wrong.output
    assert run(database_url, "milestone", "M1", "done", "--on", "2017-04-28", "--note", "x").exit_code == 2
    assert run(database_url, "deliverable", "2.1", "started", "--on", "2017-02-30").exit_code == 2
    assert log_head(client) == head


def test_a_record_made_in_error_is_withdrawn_and_the_right_one_recorded(client: TestClient, database_url: str) -> None:
    assert run(database_url, "deliverable", "3.2", "started", "--on", "2017-05-01").exit_code == 0
    assert run(database_url, "milestone", "M1", "met", "--on", "2017-04-28", "--note", "Selected").exit_code == 0
    head = log_head(client)
    withdrawn = run(database_url, "withdraw-deliverable", "3.2", "started", "--reason", "Another deliverable")
    assert withdrawn.exit_code == 0, withdrawn.output
    assert f"Deliverable 3.2: its started record is withdrawn; now not_started (log position {head + 1})." in " ".join(
        withdrawn.output.split()
    )
    unmet = run(database_url, "withdraw-milestone", "M1", "met", "--reason", "Only planned")
    assert unmet.exit_code == 0, unmet.output
    assert "Milestone M1: its met outcome is withdrawn; now overdue" in " ".join(unmet.output.split())
    fact = client.get("/workplan/deliverables/3.2", params={"as_of": "2018"}).json()["history"][0]
    assert fact["withdrawn"]["reason"] == "Another deliverable" and fact["withdrawn"]["principal"].startswith("cli:")

    head = log_head(client)
    nothing = run(database_url, "withdraw-deliverable", "3.2", "started", "--reason", "again")
    assert nothing.exit_code == 1 and "no started record to withdraw" in nothing.output
    blank = run(database_url, "withdraw-milestone", "M1", "missed", "--reason", "x")
    assert blank.exit_code == 1 and "no missed outcome" in blank.output
    assert run(database_url, "withdraw-milestone", "M1", "late", "--reason", "x").exit_code == 2
    assert run(database_url, "withdraw-deliverable", "3.2", "started").exit_code == 2
    assert log_head(client) == head
