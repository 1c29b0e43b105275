from fastapi.testclient import TestClient

from tests.support import if_match, log_head, observation_body, set_up_programme


def test_an_observation_is_recorded_corrected_and_retracted_with_its_history(client: TestClient) -> None:
    set_up_programme(client)
    created = client.post("/observations", json=observation_body())
    assert created.status_code == 201, created.text
    observation_id = created.json()["id"]
    assert created.headers["Location"] == f"/observations/{observation_id}"

    corrected = client.post(
        f"/observations/{observation_id}/corrections",
        headers=if_match(client, observation_id),
        json={"value": 13, "reason": "typo"},
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["value"] == 13
    retracted = client.post(
        f"/observations/{observation_id}/retraction",
        headers=if_match(client, observation_id),
        json={"reason": "duplicate"},
    )
    assert retracted.json()["status"] == "retracted"

    history = client.get(f"/observations/{observation_id}/history").json()["events"]
    assert [e["type"] for e in history] == ["Observation.Recorded", "Observation.Corrected", "Observation.Retracted"]
    assert [e["data"].get("value") for e in history] == [12.5, 13, None]
    positions = [e["position"] for e in history]
    assert positions == sorted(positions) and positions[-1] == log_head(client)


def test_a_served_process_tunes_its_garbage_collector_once_started(database_url: str, monkeypatch, tmp_path) -> None:
    """`stocktake serve` runs `serving_app`: once started, the process's own
    objects are frozen out of the collector's sight and the youngest
    generation is collected less often; an app built for a test is left alone."""
    import gc

    from services.common.collector import GC_THRESHOLDS
    from services.measurement.entrypoints.http.app import create_app, serving_app

    monkeypatch.setenv("STOCKTAKE_DATABASE_URL", database_url)
    monkeypatch.setenv("STOCKTAKE_DATA_DIR", str(tmp_path))  # where a served process keeps its signing key
    before = gc.get_threshold()
    try:
        with TestClient(create_app()) as client:
            assert client.get("/problems/validation-error").status_code == 200
            assert gc.get_threshold() == before
        with TestClient(serving_app()) as client:
            assert client.get("/problems/validation-error").status_code == 200
            assert gc.get_threshold() == GC_THRESHOLDS
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
