"""A replayed batch (issue 12, point 8, for JSON batches and file imports):
its summary is given again only to a key that may read every country whose
observations it tells of; another key of the same office gets a 403 and
learns nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.common.access import Role
from services.common.api_keys import ApiKeys
from tests.support import assert_problem, bearer, log_head, observation_body, set_up_programme

BATCH = "/observations/batch"
CSV = "/observations/batch/csv"


def _keys(api_keys: ApiKeys) -> tuple[dict[str, str], dict[str, str]]:
    """Two keys of one office: one for BGD alone, one for VNM alone."""
    bgd = api_keys.issue("test-office", Role.COUNTRY_OFFICE, ["BGD"], None, "tests").token
    vnm = api_keys.issue("test-office", Role.COUNTRY_OFFICE, ["VNM"], None, "tests").token
    return bearer(bgd), bearer(vnm)


def test_a_replayed_batch_is_answered_only_to_a_key_that_may_read_its_rows(
    client: TestClient, api_keys: ApiKeys
) -> None:
    set_up_programme(client)
    bgd, vnm = _keys(api_keys)
    # The VNM row is rejected for the BGD key: it tells of no VNM observation.
    batch = {"observations": [observation_body(country="BGD"), observation_body(country="VNM")]}
    headers = {"Idempotency-Key": "sheet-1"}
    first = client.post(BATCH, json=batch, headers={**headers, **bgd})
    assert [row["outcome"] for row in first.json()["rows"]] == ["imported", "rejected"], first.text
    head = log_head(client)

    refused = client.post(BATCH, json=batch, headers={**headers, **vnm})
    assert_problem(refused, 403)
    assert first.json()["rows"][0]["id"] not in refused.text
    again = client.post(BATCH, json=batch, headers={**headers, **bgd})
    assert (again.status_code, again.json(), again.headers["Idempotent-Replayed"]) == (200, first.json(), "true")
    assert log_head(client) == head


def test_a_replayed_file_import_is_answered_only_to_a_key_that_may_read_its_rows(
    client: TestClient, api_keys: ApiKeys
) -> None:
    set_up_programme(client)
    bgd, vnm = _keys(api_keys)
    sheet = b"benchmark,country,period,value\nCA2-INSPECTION,BGD,2019-Q2,12\n"
    headers = {"Idempotency-Key": "csv-1", "Content-Type": "text/csv"}
    first = client.post(CSV, content=sheet, headers={**headers, **bgd})
    assert first.json()["rows"][0]["outcome"] == "imported", first.text
    head = log_head(client)

    refused = client.post(CSV, content=sheet, headers={**headers, **vnm})
    assert_problem(refused, 403)
    assert first.json()["rows"][0]["id"] not in refused.text
    again = client.post(CSV, content=sheet, headers={**headers, **bgd})
    assert (again.status_code, again.json()) == (200, first.json())
    assert log_head(client) == head
