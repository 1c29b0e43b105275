"""Who may call what over HTTP: every operation of the API for every role
(function level), and which observations a country office may record, change
and read (object level). A refused request records nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.access import Role
from services.common.api_keys import ApiKeys
from tests.support import (
    assert_problem,
    bearer,
    benchmark_body,
    country_body,
    if_match,
    log_head,
    observation_body,
    set_up_programme,
)

OFFICE, MANAGER, AUDITOR, REPORTING = Role.COUNTRY_OFFICE, Role.PROGRAMME_MANAGER, Role.AUDITOR, Role.REPORTING
EVERY_ROLE = frozenset(Role)
PUBLIC = "public"  # needs no key at all
ANY_KEY = "any valid key"  # every role, and no 403 to document

# Written out by hand from the README's "Keys and roles" table, NOT from the
# code: a change of who may do what has to be made here too, on purpose.
#   country-office: record / correct / retract observations; read the observations
#       (of its countries); read the framework, benchmarks, scope and progress
#   programme-manager: benchmarks and scope; record / correct / retract
#       international observations (no country); read everything, the log included
#   auditor: read everything, the log included; write nothing
#   reporting: the framework, benchmarks, scope and progress
EXPECTED_ROLES: dict[str, frozenset[Role] | str] = {
    # the framework
    "getFramework": EVERY_ROLE,
    "listCriticalAssumptions": EVERY_ROLE,
    "getCriticalAssumption": EVERY_ROLE,
    "listDeliverables": EVERY_ROLE,
    "getDeliverable": EVERY_ROLE,
    # benchmarks
    "listBenchmarks": EVERY_ROLE,
    "getBenchmark": EVERY_ROLE,
    "getBenchmarkHistory": EVERY_ROLE,
    "defineBenchmark": frozenset({MANAGER}),
    "reviseBaseline": frozenset({MANAGER}),
    "reviseTargets": frozenset({MANAGER}),
    "retireBenchmark": frozenset({MANAGER}),
    # progress
    "getBenchmarkState": EVERY_ROLE,
    "getBenchmarkSeries": EVERY_ROLE,
    "getAssumptionRollup": EVERY_ROLE,
    "getCountryProfile": EVERY_ROLE,
    "getProgressReport": EVERY_ROLE,
    # who a key belongs to
    "getMe": ANY_KEY,
    # scope
    "getScope": EVERY_ROLE,
    "selectSector": frozenset({MANAGER}),
    "selectCountry": frozenset({MANAGER}),
    "deselectSector": frozenset({MANAGER}),
    "deselectCountry": frozenset({MANAGER}),
    "nominateFocalPoint": frozenset({MANAGER}),
    # the workplan: deliverables' delivery and milestones' outcomes
    "listDeliveries": EVERY_ROLE,
    "getDelivery": EVERY_ROLE,
    "recordDelivery": frozenset({MANAGER}),
    "listMilestones": EVERY_ROLE,
    "getMilestone": EVERY_ROLE,
    "recordMilestoneOutcome": frozenset({MANAGER}),
    "withdrawDeliveryRecord": frozenset({MANAGER}),
    "withdrawMilestoneOutcome": frozenset({MANAGER}),
    # observations (the programme manager's: international ones, which name no country)
    "recordObservation": frozenset({OFFICE, MANAGER}),
    "importObservations": frozenset({OFFICE, MANAGER}),
    "importObservationsCsv": frozenset({OFFICE, MANAGER}),
    "correctObservation": frozenset({OFFICE, MANAGER}),
    "retractObservation": frozenset({OFFICE, MANAGER}),
    "listObservations": frozenset({OFFICE, MANAGER, AUDITOR}),
    "getObservation": frozenset({OFFICE, MANAGER, AUDITOR}),
    "getObservationHistory": frozenset({OFFICE, MANAGER, AUDITOR}),
    # exports of observations (as listObservations: a country office's hold its countries only)
    "exportObservationsCsv": frozenset({OFFICE, MANAGER, AUDITOR}),
    "exportObservationsXlsx": frozenset({OFFICE, MANAGER, AUDITOR}),
    "exportObservationsSdmxCsv": frozenset({OFFICE, MANAGER, AUDITOR}),
    "exportObservationsSdmxStructure": EVERY_ROLE,  # codes of the framework and scope, as getScope
    # the log
    "readLog": frozenset({MANAGER, AUDITOR}),
    "readLogHead": EVERY_ROLE,
    # the transparency log: checkpoints for whoever pins or checks a read, proofs for auditors
    "readCheckpoint": frozenset({MANAGER, AUDITOR, REPORTING}),
    "readVerifierKey": frozenset({MANAGER, AUDITOR, REPORTING}),
    "proveInclusion": frozenset({AUDITOR}),
    "proveConsistency": frozenset({AUDITOR}),
    # documentation of the problem types
    "describeProblem": PUBLIC,
    # the front door: where to go, health and version
    "getServiceIndex": PUBLIC,
    "getHealth": PUBLIC,
    "getVersion": PUBLIC,
}


# Allowed the operation for some records only: the programme manager records,
# corrects and retracts international observations, and the table's record
# is a national one (BGD): refused for that record, saying why. (A batch
# import refuses such a row, not the request.)
FOR_SOME_RECORDS_ONLY = {
    (MANAGER, "recordObservation"): "international observations only",
    (MANAGER, "correctObservation"): "international observations only",
    (MANAGER, "retractObservation"): "international observations only",
}


@dataclass(frozen=True)
class Call:
    """A valid-enough request of one operation; {observation} is the id of an
    observation the test office recorded (in BGD)."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    needs_if_match: bool = False
    csv: str | None = None  # a text/csv body instead of JSON
    prepared_by: Call | None = None  # sent first (by whoever may), so that the call has what it acts on


CALLS: dict[str, Call] = {
    "getFramework": Call("GET", "/framework"),
    "listCriticalAssumptions": Call("GET", "/framework/assumptions"),
    "getCriticalAssumption": Call("GET", "/framework/assumptions/CA2"),
    "listDeliverables": Call("GET", "/framework/deliverables"),
    "getDeliverable": Call("GET", "/framework/deliverables/2.4"),
    "listBenchmarks": Call("GET", "/benchmarks"),
    "getBenchmark": Call("GET", "/benchmarks/CA2-INSPECTION"),
    "getBenchmarkHistory": Call("GET", "/benchmarks/CA2-INSPECTION/history"),
    "defineBenchmark": Call("POST", "/benchmarks", benchmark_body(code="CA3-AGREEMENTS", assumption="CA3")),
    "reviseBaseline": Call(
        "POST",
        "/benchmarks/CA2-INSPECTION/baseline-revisions",
        {"baseline": {"value": 12, "date": "2017-06-30"}, "reason": "survey"},
    ),
    "reviseTargets": Call(
        "POST",
        "/benchmarks/CA2-INSPECTION/target-revisions",
        {"targets": [{"value": 35, "date": "2021-12-31"}], "reason": "review"},
    ),
    "retireBenchmark": Call("POST", "/benchmarks/CA2-INSPECTION/retirement", {"reason": "replaced"}),
    "getBenchmarkState": Call("GET", "/benchmarks/CA2-INSPECTION/state?as_of=2019-12-31"),
    "getBenchmarkSeries": Call("GET", "/benchmarks/CA2-INSPECTION/series?start=2019-Q1&end=2019-Q4&step=quarter"),
    "getAssumptionRollup": Call("GET", "/progress/assumptions?as_of=2019-12-31"),
    "getCountryProfile": Call("GET", "/progress/countries/BGD?as_of=2019-12-31"),
    "getProgressReport": Call("GET", "/progress/report?as_of=2019-12-31&series=true"),
    "getMe": Call("GET", "/me"),
    "getScope": Call("GET", "/scope"),
    "selectSector": Call("POST", "/scope/sectors", {"code": "electronics", "name": "Electronics", "rationale": "test"}),
    "selectCountry": Call("POST", "/scope/countries", country_body("ETH", "africa")),
    "deselectSector": Call("POST", "/scope/sectors/garments/deselection", {"valid_from": "2020", "reason": "test"}),
    "deselectCountry": Call("POST", "/scope/countries/VNM/deselection", {"valid_from": "2020", "reason": "test"}),
    "nominateFocalPoint": Call(
        "POST", "/scope/focal-points", {"region": "africa", "name": "A. Person", "email": "a.person@example.org"}
    ),
    "listDeliveries": Call("GET", "/workplan/deliverables?as_of=2019-12-31"),
    "getDelivery": Call("GET", "/workplan/deliverables/2.4?as_of=2019-12-31"),
    "recordDelivery": Call("POST", "/workplan/deliverables/2.4/status", {"status": "started", "on": "2017-03-01"}),
    "listMilestones": Call("GET", "/workplan/milestones?as_of=2019-12-31"),
    "getMilestone": Call("GET", "/workplan/milestones/M1?as_of=2019-12-31"),
    "recordMilestoneOutcome": Call(
        "POST", "/workplan/milestones/M1/outcome", {"outcome": "met", "on": "2017-04-28", "note": "Sectors selected"}
    ),
    "withdrawDeliveryRecord": Call(
        "POST",
        "/workplan/deliverables/2.4/withdrawal",
        {"record": "started", "reason": "Recorded in error"},
        prepared_by=Call("POST", "/workplan/deliverables/2.4/status", {"status": "started", "on": "2017-03-01"}),
    ),
    "withdrawMilestoneOutcome": Call(
        "POST",
        "/workplan/milestones/M1/withdrawal",
        {"outcome": "met", "reason": "Recorded in error"},
        prepared_by=Call(
            "POST", "/workplan/milestones/M1/outcome", {"outcome": "met", "on": "2017-04-28", "note": "x"}
        ),
    ),
    "recordObservation": Call("POST", "/observations", observation_body(period="2019-Q3")),
    "importObservations": Call("POST", "/observations/batch", {"observations": [observation_body(period="2019-Q4")]}),
    "importObservationsCsv": Call(
        "POST", "/observations/batch/csv", csv="benchmark,country,period,value\nCA2-INSPECTION,BGD,2019-Q4,14\n"
    ),
    "correctObservation": Call(
        "POST", "/observations/{observation}/corrections", {"value": 13, "reason": "typo"}, needs_if_match=True
    ),
    "retractObservation": Call(
        "POST", "/observations/{observation}/retraction", {"reason": "duplicate"}, needs_if_match=True
    ),
    "listObservations": Call("GET", "/observations"),
    "getObservation": Call("GET", "/observations/{observation}"),
    "getObservationHistory": Call("GET", "/observations/{observation}/history"),
    "exportObservationsCsv": Call("GET", "/exports/observations.csv"),
    "exportObservationsXlsx": Call("GET", "/exports/observations.xlsx"),
    "exportObservationsSdmxCsv": Call("GET", "/exports/observations.sdmx.csv"),
    "exportObservationsSdmxStructure": Call("GET", "/exports/observations.sdmx-structure.xml"),
    "readLog": Call("GET", "/log"),
    "readLogHead": Call("GET", "/log/head"),
    "readCheckpoint": Call("GET", "/transparency/checkpoint"),
    "readVerifierKey": Call("GET", "/transparency/verifier-key"),
    "proveInclusion": Call("GET", "/transparency/inclusion?position=1"),
    "proveConsistency": Call("GET", "/transparency/consistency?from=1"),
    "describeProblem": Call("GET", "/problems/forbidden"),
    "getServiceIndex": Call("GET", "/"),
    "getHealth": Call("GET", "/health"),
    "getVersion": Call("GET", "/version"),
}


def operations(client: TestClient) -> dict[str, dict[str, Any]]:
    """Every operation of the app's OpenAPI document, by operationId."""
    found: dict[str, dict[str, Any]] = {}
    for path, items in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for method, operation in items.items():
            found[operation["operationId"]] = {**operation, "method": method.upper(), "path": path}
    return found


def send(client: TestClient, call: Call, observation_id: str, headers: dict[str, str], **options: Any) -> Any:
    path = call.path.format(observation=observation_id)
    if call.needs_if_match:
        headers = {**if_match(client, observation_id), **headers}
    if call.csv is not None:
        headers = {"Content-Type": "text/csv", **headers}
        return client.request(call.method, path, content=call.csv.encode(), headers=headers, **options)
    return client.request(call.method, path, json=call.body, headers=headers, **options)


def send_without_key(client: TestClient, call: Call, observation_id: str) -> Any:
    return send(client, call, observation_id, {}, auth=None)


def assert_unauthenticated(response: Any) -> dict[str, Any]:
    problem = assert_problem(response, 401)
    assert problem["type"] == "/problems/unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return problem


def assert_forbidden(response: Any) -> dict[str, Any]:
    problem = assert_problem(response, 403)
    assert problem["type"] == "/problems/forbidden"
    return problem


def record(client: TestClient, token: str, **overrides: Any) -> dict[str, Any]:
    response = client.post("/observations", json=observation_body(**overrides), headers=bearer(token))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# -- the table ----------------------------------------------------------------


def test_the_table_names_every_operation_of_the_api_and_nothing_else(client: TestClient) -> None:
    assert set(EXPECTED_ROLES) == set(operations(client))
    assert set(CALLS) == set(EXPECTED_ROLES)


def test_each_operation_documents_the_roles_of_the_table(client: TestClient, subtests: pytest.Subtests) -> None:
    for operation_id, operation in operations(client).items():
        with subtests.test(msg=f"{operation_id} request"):
            assert calls_operation(CALLS[operation_id], operation)
        with subtests.test(msg=operation_id):
            expected = EXPECTED_ROLES[operation_id]
            if expected == PUBLIC:
                assert "x-roles" not in operation and "x-permission" not in operation
                assert not operation.get("security")
                continue
            assert operation["security"] == [{"ApiKey": []}]
            if expected == ANY_KEY:
                assert set(operation["x-roles"]) == {role.value for role in EVERY_ROLE}
                assert "401" in operation["responses"]
                continue
            assert isinstance(expected, frozenset)
            assert set(operation["x-roles"]) == {role.value for role in expected}
            assert len(operation["x-roles"]) == len(set(operation["x-roles"]))
            assert operation["x-permission"]
            assert {"401", "403"} <= set(operation["responses"])


def calls_operation(call: Call, operation: dict[str, Any]) -> bool:
    """The request of the table is one of this operation (method and path)."""
    template = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(operation["path"]))
    path = call.path.split("?")[0].format(observation="0" * 32)
    return call.method == operation["method"] and re.fullmatch(template, path) is not None


@pytest.mark.parametrize("operation_id", sorted(EXPECTED_ROLES))
def test_every_role_is_allowed_or_refused_each_operation_as_the_table_says(
    client: TestClient, tokens: dict[Role, str], operation_id: str, subtests: pytest.Subtests
) -> None:
    set_up_programme(client)
    observation_id = record(client, tokens[OFFICE])["id"]
    call = CALLS[operation_id]
    if call.prepared_by is not None:
        prepared = send(client, call.prepared_by, observation_id, {})
        assert 200 <= prepared.status_code < 300, prepared.text
    expected = EXPECTED_ROLES[operation_id]
    allowed = EVERY_ROLE if expected in (PUBLIC, ANY_KEY) else expected
    assert isinstance(allowed, frozenset)

    with subtests.test(msg="no key"):
        head = log_head(client)
        response = send_without_key(client, call, observation_id)
        if expected == PUBLIC:
            assert response.status_code == 200, response.text
        else:
            assert_unauthenticated(response)
        assert log_head(client) == head

    # The refused first: an allowed write changes what the next request meets.
    for role in sorted(EVERY_ROLE - allowed) + sorted(allowed):
        with subtests.test(msg=role.value):
            head = log_head(client)
            response = send(client, call, observation_id, bearer(tokens[role]))
            if (role, operation_id) in FOR_SOME_RECORDS_ONLY:
                assert FOR_SOME_RECORDS_ONLY[role, operation_id] in assert_forbidden(response)["detail"]
                assert log_head(client) == head, "a refused request recorded something"
            elif role in allowed:
                assert response.status_code not in (401, 403), response.text
                assert 200 <= response.status_code < 300, response.text
            else:
                problem = assert_forbidden(response)
                assert role.value in problem["detail"]
                assert log_head(client) == head, "a refused request recorded something"


# -- authentication -----------------------------------------------------------

BAD_CREDENTIALS = {
    "no header": {},
    "empty bearer": {"Authorization": "Bearer "},
    "another scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
    "not a stocktake key": {"Authorization": "Bearer not-a-key"},
    "unknown key": {"Authorization": "Bearer stk_000000000000_" + "A" * 43},
    "key cut short": {"Authorization": "Bearer stk_000000000000_AAAA"},
}


@pytest.mark.parametrize("headers", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
def test_a_missing_malformed_or_unknown_key_is_a_401_and_records_nothing(
    client: TestClient, headers: dict[str, str]
) -> None:
    set_up_programme(client)
    head = log_head(client)
    assert_unauthenticated(client.post("/observations", json=observation_body(), headers=headers, auth=None))
    assert_unauthenticated(client.get("/observations", headers=headers, auth=None))
    assert log_head(client) == head


def test_a_known_key_with_a_wrong_secret_is_a_401(client: TestClient, tokens: dict[Role, str]) -> None:
    token = tokens[AUDITOR]
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_unauthenticated(client.get("/framework", headers=bearer(forged)))


# -- object level: offices and their countries ----------------------------------


@pytest.fixture
def offices(api_keys: ApiKeys) -> dict[str, str]:
    """Office A and office C report for BGD, office B for VNM."""
    return {
        name: api_keys.issue(f"office-{name.lower()}", OFFICE, [country], None, "tests").token
        for name, country in (("A", "BGD"), ("B", "VNM"), ("C", "BGD"))
    }


def observations_seen(client: TestClient, token: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/observations", params={"limit": 500, **params}, headers=bearer(token))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_an_office_records_for_its_countries_only(
    client: TestClient, offices: dict[str, str], tokens: dict[Role, str]
) -> None:
    set_up_programme(client)
    created = record(client, offices["A"], country="BGD")
    assert (created["country"], created["recorded_by"]) == ("BGD", "office-a")
    head = log_head(client)
    refused = client.post("/observations", json=observation_body(country="VNM"), headers=bearer(offices["A"]))
    problem = assert_forbidden(refused)
    assert "VNM" in problem["detail"]
    assert log_head(client) == head
    assert [o["id"] for o in observations_seen(client, tokens[AUDITOR])] == [created["id"]]


def test_a_refused_record_with_an_idempotency_key_records_nothing_and_frees_nothing_for_others(
    client: TestClient, offices: dict[str, str], tokens: dict[Role, str]
) -> None:
    set_up_programme(client)
    head = log_head(client)
    headers = {**bearer(offices["A"]), "Idempotency-Key": "refused-once"}
    assert_forbidden(client.post("/observations", json=observation_body(country="VNM"), headers=headers))
    assert_forbidden(client.post("/observations", json=observation_body(country="VNM"), headers=headers))
    assert log_head(client) == head
    assert observations_seen(client, tokens[AUDITOR]) == []
    # The key was not spent on the refusal: the same key for an allowed request works.
    assert client.post("/observations", json=observation_body(country="BGD"), headers=headers).status_code == 201


@pytest.mark.parametrize("change", ["corrections", "retraction"])
def test_an_office_may_not_change_an_observation_of_another_office_and_country(
    client: TestClient, offices: dict[str, str], change: str
) -> None:
    set_up_programme(client)
    observation_id = record(client, offices["B"], country="VNM")["id"]
    body = {"value": 99, "reason": "not mine"} if change == "corrections" else {"reason": "not mine"}
    head = log_head(client)
    before = client.get(f"/observations/{observation_id}").json()
    response = client.post(
        f"/observations/{observation_id}/{change}",
        json=body,
        headers={**if_match(client, observation_id), **bearer(offices["A"])},
    )
    assert_forbidden(response)
    assert log_head(client) == head
    after = client.get(f"/observations/{observation_id}").json()
    assert (after["version"], after["value"], after["status"]) == (before["version"], before["value"], "recorded")


@pytest.mark.parametrize("change", ["corrections", "retraction"])
def test_an_office_may_not_change_what_another_office_of_the_same_country_recorded(
    client: TestClient, offices: dict[str, str], change: str
) -> None:
    set_up_programme(client)
    observation_id = record(client, offices["A"], country="BGD")["id"]
    body = {"value": 99, "reason": "not mine"} if change == "corrections" else {"reason": "not mine"}
    head = log_head(client)
    response = client.post(
        f"/observations/{observation_id}/{change}",
        json=body,
        headers={**if_match(client, observation_id), **bearer(offices["C"])},
    )
    problem = assert_forbidden(response)
    assert "office-a" in problem["detail"]
    assert log_head(client) == head


def test_an_office_may_not_change_an_observation_without_the_if_match_either(
    client: TestClient, offices: dict[str, str]
) -> None:
    """The refusal does not depend on the precondition: no 428 tells C more."""
    set_up_programme(client)
    observation_id = record(client, offices["A"], country="BGD")["id"]
    head = log_head(client)
    refused = client.post(
        f"/observations/{observation_id}/retraction", json={"reason": "x"}, headers=bearer(offices["C"])
    )
    assert_forbidden(refused)
    assert log_head(client) == head


def test_an_office_corrects_and_retracts_what_it_recorded(client: TestClient, offices: dict[str, str]) -> None:
    set_up_programme(client)
    observation_id = record(client, offices["A"], country="BGD")["id"]
    corrected = client.post(
        f"/observations/{observation_id}/corrections",
        json={"value": 13, "reason": "typo"},
        headers={**if_match(client, observation_id), **bearer(offices["A"])},
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["value"] == 13
    retracted = client.post(
        f"/observations/{observation_id}/retraction",
        json={"reason": "duplicate"},
        headers={**if_match(client, observation_id), **bearer(offices["A"])},
    )
    assert retracted.status_code == 200, retracted.text
    assert retracted.json()["status"] == "retracted"
    assert retracted.json()["retraction"]["by"] == "office-a"


def test_an_office_lists_the_observations_of_its_countries_only(
    client: TestClient, offices: dict[str, str], tokens: dict[Role, str], api_keys: ApiKeys
) -> None:
    set_up_programme(client)
    in_bgd = {record(client, offices["A"], country="BGD", period=p)["id"] for p in ("2019-Q1", "2019-Q2")}
    in_bgd.add(record(client, offices["C"], country="BGD", period="2019-Q3")["id"])
    in_vnm = {record(client, offices["B"], country="VNM", period=p)["id"] for p in ("2019-Q1", "2019-Q2")}

    assert {o["id"] for o in observations_seen(client, offices["A"])} == in_bgd
    assert {o["country"] for o in observations_seen(client, offices["A"])} == {"BGD"}
    assert {o["id"] for o in observations_seen(client, offices["A"], country="BGD")} == in_bgd
    assert {o["id"] for o in observations_seen(client, offices["B"])} == in_vnm
    for role in (MANAGER, AUDITOR):
        assert {o["id"] for o in observations_seen(client, tokens[role])} == in_bgd | in_vnm
    both = api_keys.issue("office-asia", OFFICE, ["BGD", "VNM"], None, "tests").token
    assert {o["id"] for o in observations_seen(client, both)} == in_bgd | in_vnm
    assert {o["id"] for o in observations_seen(client, both, country="VNM")} == in_vnm

    problem = assert_forbidden(client.get("/observations", params={"country": "VNM"}, headers=bearer(offices["A"])))
    assert "VNM" in problem["detail"]


def test_an_office_pages_through_its_countries_only(client: TestClient, offices: dict[str, str]) -> None:
    set_up_programme(client)
    mine = []
    for period in ("2019-Q1", "2019-Q2", "2019-Q3"):
        record(client, offices["B"], country="VNM", period=period)
        mine.append(record(client, offices["A"], country="BGD", period=period)["id"])
    seen, cursor = [], None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        response = client.get("/observations", params=params, headers=bearer(offices["A"]))
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [o["id"] for o in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert seen == mine


def test_an_office_may_not_read_an_observation_of_another_country_or_its_history(
    client: TestClient, offices: dict[str, str]
) -> None:
    set_up_programme(client)
    theirs = record(client, offices["B"], country="VNM")["id"]
    mine = record(client, offices["A"], country="BGD")["id"]
    assert_forbidden(client.get(f"/observations/{theirs}", headers=bearer(offices["A"])))
    assert_forbidden(client.get(f"/observations/{theirs}/history", headers=bearer(offices["A"])))
    assert client.get(f"/observations/{mine}", headers=bearer(offices["A"])).status_code == 200
    assert client.get(f"/observations/{mine}/history", headers=bearer(offices["A"])).status_code == 200
    # Another office of the same country reads it (reading goes by country, changing by office).
    assert client.get(f"/observations/{mine}", headers=bearer(offices["C"])).status_code == 200
    assert client.get(f"/observations/{mine}/history", headers=bearer(offices["C"])).status_code == 200


@pytest.mark.parametrize("same_body", [False, True], ids=["different bodies", "same body"])
def test_idempotency_keys_are_scoped_per_principal(
    client: TestClient, offices: dict[str, str], tokens: dict[Role, str], same_body: bool
) -> None:
    set_up_programme(client)
    key = {"Idempotency-Key": "office-batch-7"}
    first = client.post("/observations", json=observation_body(value=10), headers={**key, **bearer(offices["A"])})
    second_body = observation_body(value=10) if same_body else observation_body(value=20, period="2019-Q3")
    second = client.post("/observations", json=second_body, headers={**key, **bearer(offices["C"])})
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert "Idempotent-Replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert len(observations_seen(client, tokens[AUDITOR])) == 2
    # Each principal's retry is still a replay of its own answer.
    again = client.post("/observations", json=second_body, headers={**key, **bearer(offices["C"])})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == second.json()["id"]
    assert len(observations_seen(client, tokens[AUDITOR])) == 2


def test_a_revoked_key_is_a_401_that_says_so(client: TestClient, api_keys: ApiKeys) -> None:
    set_up_programme(client)
    issued = api_keys.issue("office-a", OFFICE, ["BGD"], None, "tests")
    record(client, issued.token)
    api_keys.revoke(issued.info.key_id, "tests", "laptop lost")
    head = log_head(client)
    refused = client.post("/observations", json=observation_body(), headers=bearer(issued.token))
    problem = assert_unauthenticated(refused)
    assert "revoked" in problem["detail"]
    assert "revoked" in assert_unauthenticated(client.get("/observations", headers=bearer(issued.token)))["detail"]
    assert log_head(client) == head


def test_a_new_key_of_the_same_principal_changes_what_the_old_one_recorded(
    client: TestClient, api_keys: ApiKeys, tokens: dict[Role, str]
) -> None:
    set_up_programme(client)
    old = api_keys.issue("office-a", OFFICE, ["BGD"], None, "tests")
    observation_id = record(client, old.token)["id"]
    api_keys.revoke(old.info.key_id, "tests", "rotated")
    new = api_keys.issue("office-a", OFFICE, ["BGD"], None, "tests")
    corrected = client.post(
        f"/observations/{observation_id}/corrections",
        json={"value": 14, "reason": "revised"},
        headers={**if_match(client, observation_id), **bearer(new.token)},
    )
    assert corrected.status_code == 200, corrected.text
    history = client.get(f"/observations/{observation_id}/history", headers=bearer(tokens[AUDITOR])).json()
    assert [(e["type"], e["data"]["principal"]) for e in history["events"]] == [
        ("Observation.Recorded", "office-a"),
        ("Observation.Corrected", "office-a"),
    ]


def test_every_event_records_the_principal_that_caused_it(
    client: TestClient, offices: dict[str, str], tokens: dict[Role, str]
) -> None:
    set_up_programme(client)
    mine = record(client, offices["A"], country="BGD")["id"]
    theirs = record(client, offices["B"], country="VNM")["id"]
    client.post(
        f"/observations/{mine}/retraction",
        json={"reason": "duplicate"},
        headers={**if_match(client, mine), **bearer(offices["A"])},
    )
    principals = {}
    for observation_id in (mine, theirs):
        response = client.get(f"/observations/{observation_id}/history", headers=bearer(tokens[AUDITOR]))
        assert response.status_code == 200, response.text
        principals[observation_id] = [(e["type"], e["data"]["principal"]) for e in response.json()["events"]]
    assert principals == {
        mine: [("Observation.Recorded", "office-a"), ("Observation.Retracted", "office-a")],
        theirs: [("Observation.Recorded", "office-b")],
    }
    log = client.get("/log", params={"limit": 1000}, headers=bearer(tokens[AUDITOR])).json()["events"]
    benchmark_events = [e for e in log if e["type"] == "Benchmark.Defined"]
    assert [e["data"]["principal"] for e in benchmark_events] == ["test-programme-manager"]


def test_an_office_imports_rows_for_its_countries_only(
    client: TestClient, offices: dict[str, str], tokens: dict[Role, str]
) -> None:
    set_up_programme(client)
    batch = {"observations": [observation_body(country="BGD"), observation_body(country="VNM")]}
    response = client.post("/observations/batch", json=batch, headers=bearer(offices["A"]))
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert [row["outcome"] for row in rows] == ["imported", "rejected"]
    assert any("VNM" in error["detail"] for error in rows[1]["errors"])
    stored = observations_seen(client, tokens[AUDITOR])
    assert [(o["country"], o["recorded_by"]) for o in stored] == [("BGD", "office-a")]
