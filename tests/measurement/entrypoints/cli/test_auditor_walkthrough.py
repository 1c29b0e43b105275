"""The README's walkthrough "Proving history was not altered", step by step,
as an auditor follows it: keep the verifier key, take the checkpoint a report
names, have the operator export the log, verify the export offline with the
installed `stocktake-verify`, and prove that the observation the report
quotes is in the log at that checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.common.access import Role
from services.measurement.entrypoints.cli import app
from tests.support import bearer, observation_body, set_up_programme

VERIFY = Path(sys.executable).with_name("stocktake-verify")  # the console script installed with the package


def stocktake_verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VERIFY), *map(str, args)], capture_output=True, text=True, check=False, timeout=60)


def test_an_auditor_proves_a_reported_observation_is_in_the_log_at_the_reports_checkpoint(
    client: TestClient, tokens: dict[Role, str], database_url: str, tmp_path: Path
) -> None:
    set_up_programme(client)
    quoted = client.post("/observations", json=observation_body(value=17.5)).json()

    # 1. The auditor keeps the log's verifier key (from the service, once, apart from any export).
    key = tmp_path / "stocktake-verifier.key"
    key.write_text(client.get("/transparency/verifier-key").text)

    # 2. The report was read at a checkpoint, which it names; the auditor has its signed note.
    note = client.get("/transparency/checkpoint", headers=bearer(tokens[Role.REPORTING])).text
    report_checkpoint = tmp_path / "report-checkpoint.txt"
    report_checkpoint.write_text(note)
    size = int(note.splitlines()[1])

    # The log grows after the report.
    client.post("/observations", json=observation_body(period="2019-Q3", value=21))

    # 3. The operator exports the log.
    export = tmp_path / "stocktake-log.jsonl"
    result = CliRunner().invoke(
        app, ["audit", "export", str(export), "--database-url", database_url], env={"STOCKTAKE_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output

    # 4. Offline: the export is the signed log, and it still holds what the report's checkpoint covered.
    checked = stocktake_verify(export, "--verifier-key", key, "--checkpoint", report_checkpoint)
    assert checked.returncode == 0, checked.stderr
    assert "the export's first" in checked.stdout

    # 5. The quoted observation's event is in the log at the report's checkpoint.
    proved = stocktake_verify(
        export, "--verifier-key", key, "--checkpoint", report_checkpoint, "--position", quoted["position"]
    )
    assert proved.returncode == 0, proved.stderr
    assert f"position {quoted['position']} is in the log at the checkpoint of size {size}" in proved.stdout
    printed = json.loads(proved.stdout[proved.stdout.index("{") : proved.stdout.rindex("}") + 1])
    assert printed["event"]["stream_id"] == quoted["id"]
    assert "17.5" in printed["event"]["payload"]

    # 6. Or with the service's own proof, checked against the leaf recomputed from the export.
    proof = tmp_path / "proof.json"
    proof.write_text(client.get("/transparency/inclusion", params={"position": quoted["position"], "size": size}).text)
    checked = stocktake_verify(export, "--verifier-key", key, "--proof", proof)
    assert checked.returncode == 0, checked.stderr
    assert f"position {quoted['position']} is in the signed tree of {size} events" in checked.stdout
