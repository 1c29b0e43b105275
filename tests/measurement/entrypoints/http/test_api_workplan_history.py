"""A property of every workplan history: appending records and withdrawals
(accepted or refused) never changes an answer at an earlier log position."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import log_head

EVIDENCE = "https://example.org/evidence"
DELIVERABLES = ("2.1", "9.2", "4.1")
MILESTONES = ("M1", "M8", "M11")
AS_OF = ("2017-03-31", "2018-06-30", "2019-12-31", "2021-12-31")

on = st.dates(date(2016, 12, 1), date(2022, 12, 31)).map(date.isoformat)
delivery = st.tuples(
    st.just("deliverable"), st.sampled_from(DELIVERABLES), st.sampled_from(("started", "delivered", "dropped")), on
)
outcome = st.tuples(st.just("milestone"), st.sampled_from(MILESTONES), st.sampled_from(("met", "missed")), on)
withdrawal = st.one_of(
    st.tuples(
        st.just("withdraw-deliverable"),
        st.sampled_from(DELIVERABLES),
        st.sampled_from(("started", "delivered", "dropped")),
        st.just(""),
    ),
    st.tuples(
        st.just("withdraw-milestone"), st.sampled_from(MILESTONES), st.sampled_from(("met", "missed")), st.just("")
    ),
)
record = st.one_of(delivery, outcome, withdrawal)


def apply(client: TestClient, kind: str, code: str, what: str, day: str) -> None:
    if kind == "deliverable":
        body: dict[str, Any] = {"status": what, "on": day}
        if what == "delivered":
            body["evidence"] = EVIDENCE
        if what == "dropped":
            body["reason"] = "Reprioritised"
        response = client.post(f"/workplan/deliverables/{code}/status", json=body)
    elif kind == "withdraw-deliverable":
        response = client.post(f"/workplan/deliverables/{code}/withdrawal", json={"record": what, "reason": "Error"})
    elif kind == "withdraw-milestone":
        response = client.post(f"/workplan/milestones/{code}/withdrawal", json={"outcome": what, "reason": "Error"})
    else:
        response = client.post(f"/workplan/milestones/{code}/outcome", json={"outcome": what, "on": day, "note": "n"})
    assert response.status_code in (201, 409, 422), response.text


def answers(client: TestClient, positions: range) -> dict[tuple[Any, ...], Any]:
    found = {}
    for path, as_of, position in itertools.product(
        ("/workplan/deliverables", "/workplan/milestones"), AS_OF, positions
    ):
        response = client.get(path, params={"as_of": as_of, "at": position})
        assert response.status_code in (200, 404), response.text
        found[(path, as_of, position)] = response.json()
    return found


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(history=st.lists(record, min_size=1, max_size=8), later=st.lists(record, min_size=1, max_size=6))
def test_appending_records_never_changes_an_earlier_answer(
    client: TestClient, history: list[tuple[str, str, str, str]], later: list[tuple[str, str, str, str]]
) -> None:
    for step in history:
        apply(client, *step)
    positions = range(max(0, log_head(client) - len(history) - 1), log_head(client) + 1)
    before = answers(client, positions)
    for step in later:
        apply(client, *step)
    assert answers(client, positions) == before
