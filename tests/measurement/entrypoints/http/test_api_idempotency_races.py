"""Idempotency-Key under races: retries sent at the same moment, and the
server killed (SIGKILL) at any moment while requests are in flight. Exactly
one observation per key, whatever happens; the log stays gap-free and the
read models hold exactly what the log holds."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from services.common.access import Role
from services.common.database import normalise_url
from tests.support import bearer, log_head, observation_body, set_up_programme, stored_observations


def _at_once(count: int, send: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """`count` requests released together."""
    start = threading.Barrier(count)

    def go(index: int) -> httpx.Response:
        start.wait()
        return send(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(go, range(count)))


def _store_agrees(database_url: str) -> tuple[int, int, int]:
    """(events, head, observations in the read model), read straight from the store."""
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection:
            events, head = connection.execute(
                text("SELECT count(*), coalesce(max(position), 0) FROM stored_events")
            ).one()
            recorded = connection.execute(
                text("SELECT count(*) FROM stored_events WHERE topic LIKE '%Observation.Recorded'")
            ).scalar_one()
            in_view = connection.execute(text("SELECT count(*) FROM observations_view")).scalar_one()
            tracked = connection.execute(text("SELECT max(position) FROM projection_tracking")).scalar_one()
            ends = connection.execute(
                text("SELECT recorded_position, period_end FROM observations_view ORDER BY recorded_position")
            ).all()
            high_water = connection.execute(
                text("SELECT position, valid_date FROM valid_date_high_water ORDER BY position")
            ).all()
    finally:
        engine.dispose()
    assert events == head, "the log has a gap"
    assert recorded == in_view, "the read model and the log disagree"
    assert tracked == head, "the tracking position is not the log's head"
    # The valid-date high-water mark: a row wherever an observation's period ends later than any before it.
    raised: list[tuple[int, str]] = []
    for position, end in ends:
        if not raised or str(end) > raised[-1][1]:
            raised.append((int(position), str(end)))
    assert [(int(position), str(end)) for position, end in high_water] == raised, "the high-water mark is wrong"
    return int(events), int(head), int(in_view)


def test_retries_sent_at_the_same_moment_record_one_observation(client: TestClient) -> None:
    set_up_programme(client)
    body = observation_body()
    answers = _at_once(8, lambda _: client.post("/observations", json=body, headers={"Idempotency-Key": "k-burst"}))
    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {201, 409}, [answer.text for answer in answers]
    assert 201 in statuses
    assert len({answer.json()["id"] for answer in answers if answer.status_code == 201}) == 1
    assert len(stored_observations(client)) == 1
    again = client.post("/observations", json=body, headers={"Idempotency-Key": "k-burst"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == next(a.json()["id"] for a in answers if a.status_code == 201)


def test_one_key_sent_at_once_with_different_payloads_records_one_of_them(client: TestClient) -> None:
    set_up_programme(client)
    answers = _at_once(
        6,
        lambda i: client.post(
            "/observations", json=observation_body(value=10 + i), headers={"Idempotency-Key": "k-contested"}
        ),
    )
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {201, 409, 422}, [answer.text for answer in answers]
    created = [answer.json() for answer in answers if answer.status_code == 201]
    assert len({observation["id"] for observation in created}) == 1
    (stored,) = stored_observations(client)
    assert stored["value"] in [10 + i for i in range(6)]
    assert all(observation["value"] == stored["value"] for observation in created)


def test_many_keys_at_once_get_gap_free_positions_and_their_read_models(client: TestClient, database_url: str) -> None:
    set_up_programme(client)
    answers = _at_once(
        12,
        lambda i: client.post(
            "/observations",
            json=observation_body(value=i, period=f"201{7 + i % 3}-Q{1 + i % 4}"),
            headers={"Idempotency-Key": f"k-many-{i}"},
        ),
    )
    assert [answer.status_code for answer in answers] == [201] * 12
    positions = sorted(int(answer.headers["Stocktake-Log-Position"]) for answer in answers)
    assert len(set(positions)) == 12
    _, head, in_view = _store_agrees(database_url)
    assert (in_view, log_head(client)) == (12, head)


# -- the server killed at any moment ----------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """`stocktake serve` (one process, as an operator runs it) on a free port."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        stocktake = Path(sys.executable).with_name("stocktake")
        self.process = subprocess.Popen(
            [str(stocktake), "serve", "--port", str(self.port), "--database-url", self.database_url],
            env={**os.environ, "STOCKTAKE_DATA_DIR": str(self.data_dir)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server exited"
            try:
                if httpx.get(f"{self.url}/problems/validation-error", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


@pytest.fixture
def served(client: TestClient, database_url: str, tmp_path: Path) -> Iterator[Served]:
    set_up_programme(client)
    server = Served(database_url, tmp_path / "served")
    try:
        yield server
    finally:
        server.stop()


def _post(url: str, token: str, key: str, body: dict[str, Any]) -> httpx.Response | None:
    """The answer, or None if the connection broke (the server was killed)."""
    try:
        return httpx.post(
            f"{url}/observations", json=body, headers={**bearer(token), "Idempotency-Key": key}, timeout=30
        )
    except httpx.HTTPError:
        return None


@pytest.mark.parametrize("rounds", [3])
def test_a_server_killed_at_any_moment_leaves_one_observation_per_key(
    served: Served, tokens: dict[Role, str], database_url: str, client: TestClient, rounds: int
) -> None:
    token = tokens[Role.COUNTRY_OFFICE]
    rng = random.Random(17)
    sent: dict[str, dict[str, Any]] = {}
    for round_ in range(rounds):
        served.start()
        keys = [f"k-kill-{round_}-{i}" for i in range(10)]
        for i, key in enumerate(keys):
            sent[key] = observation_body(value=round_ * 10 + i, period=f"20{17 + i % 5}-Q{1 + round_ % 4}")
        with ThreadPoolExecutor(max_workers=len(keys)) as pool:
            in_flight = [pool.submit(_post, served.url, token, key, sent[key]) for key in keys]
            time.sleep(rng.uniform(0.0, 0.4))  # somewhere in the requests' lives: before, during, after commits
            served.kill()
            for future in in_flight:
                future.result()
    served.start()
    ids = {}
    for key, body in sent.items():
        answer = _post(served.url, token, key, body)
        assert answer is not None and answer.status_code == 201, answer.text if answer else "no answer"
        ids[key] = answer.json()["id"]
    assert len(set(ids.values())) == len(sent)  # one observation per key, each its own
    stored = {observation["id"] for observation in stored_observations(client)}
    assert stored == set(ids.values())  # and no other
    _store_agrees(database_url)
