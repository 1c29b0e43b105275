"""Framework versions over HTTP and the CLI: a store at version 1 moves to
version 2 by appending a revision (`stocktake load-framework`, as `stocktake
up` does), answers at earlier positions still name and use version 1, and
every answer read against the framework names the version it used."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.common.access import Role
from services.measurement.adapters.framework_file import framework_path, read_framework_file
from services.measurement.bootstrap import MeasurementServices
from services.measurement.entrypoints.cli import app as cli
from services.measurement.entrypoints.http.app import create_app
from tests.support import assert_problem, bearer, benchmark_body, log_head, set_up_programme

POSITION = "Stocktake-Log-Position"
VERSION = "Stocktake-Framework-Version"


def named(response: Any) -> tuple[int, int]:
    """The framework version and position an answer names, checked to agree with its headers."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert int(response.headers[VERSION]) == body["framework_version"]
    assert int(response.headers[POSITION]) == body["position"]
    return body["framework_version"], body["position"]


@pytest.fixture
def at_version_1(services: MeasurementServices) -> Iterator[TestClient]:
    """A store whose framework is version 1, as stores were before version 2,
    served to a programme manager."""
    document, digest = read_framework_file(framework_path("gb329-ins-3-2.v1.yaml"))
    services.measurement.load_framework(document, digest, "test-setup")
    token = services.api_keys.issue("manager", Role.PROGRAMME_MANAGER, [], None, "tests").token
    with TestClient(create_app(services=services), headers=bearer(token)) as client:
        yield client


def test_a_store_at_version_1_moves_to_version_2_by_appending_a_revision(
    at_version_1: TestClient, database_url: str
) -> None:
    client = at_version_1
    tagged = benchmark_body(code="CA1-RATIFY", assumption="CA1", pb_indicators=["2018-19:4.1"])
    refused = client.post("/benchmarks", json=tagged)
    assert "2018-19:4.1" in assert_problem(refused, 422, "/pb_indicators/0")["errors"][0]["detail"]
    assert client.post("/benchmarks", json=benchmark_body()).status_code == 201
    before = log_head(client)
    assert named(client.get("/framework")) == (1, before)

    loaded = CliRunner().invoke(cli, ["load-framework", "--database-url", database_url])
    assert loaded.exit_code == 0, loaded.output
    assert "version 2: loaded" in loaded.output
    again = CliRunner().invoke(cli, ["load-framework", "--database-url", database_url])
    assert again.exit_code == 0 and "version 2: already loaded" in again.output
    assert log_head(client) == before + 1

    now, then = client.get("/framework"), client.get("/framework", params={"at": before})
    assert named(now) == (2, before + 1) and named(then) == (1, before)
    assert len(now.json()["milestones"]) == 11 and len(then.json()["milestones"]) == 13
    assert then.json()["priorities"] == [] and then.json()["theory_of_change"]["current_situation"] is None
    rollup = {"as_of": "2019-06-30"}
    assert named(client.get("/progress/assumptions", params={**rollup, "at": before}))[0] == 1
    assert named(client.get("/progress/assumptions", params=rollup))[0] == 2
    state = client.get("/benchmarks/CA2-INSPECTION/state", params={"at": before})
    assert named(state) == (1, before)

    assert client.post("/benchmarks", json=tagged).status_code == 201


def test_version_1_cannot_be_loaded_over_version_2(client: TestClient, database_url: str) -> None:
    head = log_head(client)
    v1 = str(framework_path("gb329-ins-3-2.v1.yaml"))
    refused = CliRunner().invoke(cli, ["load-framework", v1, "--database-url", database_url])
    assert refused.exit_code == 1
    assert "is at version 2" in refused.output
    assert log_head(client) == head


def test_a_fresh_store_loads_version_2_directly(client: TestClient) -> None:
    log = client.get("/log").json()["events"]
    assert [event["type"] for event in log] == ["Framework.Registered", "Framework.RevisionLoaded"]
    assert log[1]["data"]["version"] == 2


def test_every_answer_read_against_the_framework_names_its_version(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    set_up_programme(client)
    head = log_head(client)
    for path in (
        "/framework",
        "/framework/assumptions",
        "/framework/assumptions/CA2",
        "/framework/deliverables",
        "/framework/deliverables/2.4",
        "/progress/assumptions?as_of=2019",
        "/progress/countries/BGD?as_of=2019",
        "/progress/report?as_of=2019-Q4",
        "/benchmarks/CA2-INSPECTION/state?as_of=2019-06",
        "/benchmarks/CA2-INSPECTION/series",
    ):
        with subtests.test(msg=path):
            assert named(client.get(path)) == (2, head)


def test_a_state_before_any_framework_names_none(client: TestClient) -> None:
    response = client.get("/benchmarks/CA2-INSPECTION/state", params={"at": 0})
    assert response.status_code == 404
    assert VERSION not in response.headers
