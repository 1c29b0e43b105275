"""A report pins the log's signed checkpoint it was read at, and an auditor
proves a figure it quotes is in the log at that checkpoint: the README's
walkthrough "A figure a report quotes, step by step" (in "Proving history
was not altered"), followed as written, on SQLite and PostgreSQL, with
measurement served on a real port (conftest.py) and the installed
`stocktake-verify`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from services.common.access import Role
from services.common.api_keys import ApiKeys
from services.common.database import normalise_url
from services.measurement.entrypoints.cli import app as measurement_cli
from services.reporting.domain.editions import GENERATOR_VERSION
from tests.reporting.conftest import ServedMeasurement
from tests.support import bearer, if_match, log_head, set_up_programme

VERIFY = Path(sys.executable).with_name("stocktake-verify")  # the console script installed with the package
CODE = "CA2-INSPECTION"


def stocktake_verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VERIFY), *map(str, args)], capture_output=True, text=True, check=False, timeout=60)


def _record(client: TestClient, country: str, period: str, value: Any) -> dict[str, Any]:
    response = client.post(
        "/observations", json={"benchmark": CODE, "country": country, "period": period, "value": value}
    )
    assert response.status_code == 201, response.text
    recorded: dict[str, Any] = response.json()
    return recorded


def _edition(reporting: TestClient, manager: dict[str, str]) -> dict[str, Any]:
    response = reporting.post("/reports", json={"kind": "mid-term"}, headers=manager)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _cell(content: dict[str, Any], code: str, country: str) -> dict[str, Any]:
    benchmarks = (b for a in content["assumptions"] for b in a["benchmarks"] if b["code"] == code)
    return next(cell for cell in next(benchmarks)["cells"] if cell["country"] == country)


def test_an_edition_pins_the_signed_checkpoint_of_its_position_in_every_rendering(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    set_up_programme(client)
    _record(client, "BGD", "2019-Q2", 14)
    edition = _edition(reporting, manager)
    served = client.get(
        "/transparency/checkpoint", params={"size": log_head(client)}, headers={"Accept": "application/json"}
    ).json()
    pinned = {"size": served["size"], "root_hash": served["root_hash"], "note": served["note"]}
    assert edition["position"] == served["size"] and edition["checkpoint"] == pinned
    content = reporting.get(f"/reports/{edition['id']}/renderings/json", headers=manager).json()
    assert content["edition"]["checkpoint"] == pinned
    assert content["edition"]["generator_version"] == GENERATOR_VERSION
    html = reporting.get(f"/reports/{edition['id']}/renderings/html", headers=manager).text
    assert pinned["root_hash"] in html and pinned["note"].splitlines()[-1] in html
    csv_text = reporting.get(f"/reports/{edition['id']}/renderings/csv", headers=manager).text
    assert csv_text.splitlines()[1].split(",")[3] == pinned["root_hash"]
    xlsx = reporting.get(f"/reports/{edition['id']}/renderings/xlsx", headers=manager).content
    pins = {row[0]: row[1] for row in load_workbook(io.BytesIO(xlsx))["Edition"].iter_rows(values_only=True)}
    assert pins["Checkpoint (signed note)"] == pinned["note"]
    assert (pins["Checkpoint tree size"], pins["Checkpoint root hash"]) == (pinned["size"], pinned["root_hash"])
    verification = reporting.get(f"/reports/{edition['id']}/verification", headers=manager).json()
    assert verification["match"] is True and verification["checkpoint"]["match"] is True, verification


def test_a_country_office_reads_an_edition_and_its_checkpoint_without_reading_checkpoints_itself(
    client: TestClient, reporting: TestClient, manager: dict[str, str], api_keys: ApiKeys
) -> None:
    set_up_programme(client)
    _record(client, "BGD", "2019-Q2", 14)
    edition = _edition(reporting, manager)
    office = bearer(api_keys.issue("office-bgd", Role.COUNTRY_OFFICE, ["BGD"], None, "tests").token)
    assert client.get("/transparency/checkpoint", headers=office).status_code == 403
    for fmt in ("json", "html", "csv", "xlsx"):
        assert reporting.get(f"/reports/{edition['id']}/renderings/{fmt}", headers=office).status_code == 200
    seen = reporting.get(f"/reports/{edition['id']}", headers=office).json()
    assert seen["checkpoint"] == edition["checkpoint"]


def test_an_auditor_proves_a_figure_a_report_quotes_is_in_the_log_at_the_checkpoint_it_names(
    client: TestClient,
    reporting: TestClient,
    manager: dict[str, str],
    tokens: dict[Role, str],
    served_measurement: ServedMeasurement,
    database_url: str,
    tmp_path: Path,
) -> None:
    set_up_programme(client)
    quoted_observation = _record(client, "BGD", "2019-Q2", 14)
    _record(client, "VNM", "2019-Q1", 18.25)
    edition = _edition(reporting, manager)
    # After the report: the quoted observation is corrected, so the log's
    # latest value is not the figure quoted; the proof is of what it quoted.
    corrected = client.post(
        f"/observations/{quoted_observation['id']}/corrections",
        json={"value": 15, "reason": "re-counted"},
        headers=if_match(client, quoted_observation["id"]),
    )
    assert corrected.status_code == 200, corrected.text
    auditor = bearer(tokens[Role.AUDITOR])

    # 1. Keep the log's verifier key (from measurement, once).
    key = tmp_path / "stocktake.key"
    answer = httpx.get(f"{served_measurement.url}/transparency/verifier-key", headers=auditor)
    assert answer.status_code == 200, answer.text
    key.write_text(answer.text)

    # 2. The report's content: its checkpoint, and the quoted figure's cell.
    report = reporting.get(f"/reports/{edition['id']}/renderings/json", headers=auditor).json()
    report_checkpoint = tmp_path / "report-checkpoint.txt"
    report_checkpoint.write_text(report["edition"]["checkpoint"]["note"])  # jq -j: the note as it is
    quoted = _cell(report, CODE, "BGD")
    assert quoted["value"] == 14.0
    position, size = quoted["known_at"], report["edition"]["checkpoint"]["size"]

    # 3. The operator exports the log.
    export = tmp_path / "stocktake-log.jsonl"
    result = CliRunner().invoke(
        measurement_cli,
        ["audit", "export", str(export), "--database-url", database_url],
        env={"STOCKTAKE_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output

    # 4. The export is the signed log, and still holds what the report's checkpoint covered.
    checked = stocktake_verify(export, "--verifier-key", key, "--checkpoint", report_checkpoint)
    assert checked.returncode == 0, checked.stderr
    assert f"OK  the checkpoint given: the export's first {size} events have its root" in checked.stdout

    # 5. The event behind the quoted figure is in the log at the report's checkpoint.
    proved = stocktake_verify(
        export, "--verifier-key", key, "--checkpoint", report_checkpoint, "--position", str(position)
    )
    assert proved.returncode == 0, proved.stderr
    assert f"OK  position {position} is in the log at the checkpoint of size {size}" in proved.stdout
    printed = json.loads(proved.stdout[proved.stdout.index("{") : proved.stdout.rindex("}") + 1])
    assert printed["root_hash"] == report["edition"]["checkpoint"]["root_hash"]
    assert printed["event"]["stream_id"] == quoted_observation["id"]
    assert json.loads(printed["event"]["payload"])["value"] == quoted["value"]

    # A report whose checkpoint was altered, by one byte, fails at step 4.
    note = report["edition"]["checkpoint"]["note"]
    root_at = note.index(report["edition"]["checkpoint"]["root_hash"])
    altered = tmp_path / "altered-checkpoint.txt"
    altered.write_text(note[:root_at] + ("B" if note[root_at] == "A" else "A") + note[root_at + 1 :])
    refused = stocktake_verify(export, "--verifier-key", key, "--checkpoint", altered)
    assert refused.returncode == 1, refused.stdout
    assert "FAILED  the checkpoint given is refused" in refused.stderr


def _rewrite_the_tree(database_url: str) -> None:
    """As an attacker with database access who rewrote history and its tree:
    every stored node changes, so the root at any size does. As the
    superuser, with the log's guard switched off."""
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text("UPDATE merkle_nodes SET hash = sha256(hash)"))
        else:
            triggers = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'merkle_nodes'")
            ).scalars()
            for trigger in list(triggers):
                connection.execute(text(f'DROP TRIGGER "{trigger}"'))
            connection.execute(text("UPDATE merkle_nodes SET hash = randomblob(32)"))
    engine.dispose()


def test_verification_names_the_checkpoint_when_the_log_was_rewritten(
    client: TestClient, reporting: TestClient, manager: dict[str, str], database_url: str
) -> None:
    set_up_programme(client)
    _record(client, "BGD", "2019-Q2", 14)
    edition = _edition(reporting, manager)
    _rewrite_the_tree(database_url)
    verification = reporting.get(f"/reports/{edition['id']}/verification", headers=manager)
    assert verification.status_code == 200, verification.text
    answer = verification.json()
    assert answer["match"] is False and answer["first_difference"] == "edition/checkpoint"
    assert answer["checkpoint"]["pinned"]["root_hash"] == edition["checkpoint"]["root_hash"]
    assert answer["checkpoint"]["served"]["root_hash"] != edition["checkpoint"]["root_hash"]
    assert answer["checkpoint"]["match"] is False
