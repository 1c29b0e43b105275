"""Progress through HTTP: benchmark states as of a valid date as known at a
log position, their series, the roll-up by critical assumption and the
country profile; pinned answers never change, and every error is a problem."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.access import Role
from services.measurement.application.commands import Measurement
from services.measurement.bootstrap import MeasurementServices
from services.measurement.entrypoints.http.app import create_app
from tests.support import (
    ActingInTheRoleNeeded,
    assert_problem,
    benchmark_body,
    country_body,
    if_match,
    log_head,
    set_up_programme,
)

CODE = "CA2-INSPECTION"
POSITION_HEADER = "Stocktake-Log-Position"
ENDPOINTS = (
    f"/benchmarks/{CODE}/state",
    f"/benchmarks/{CODE}/series",
    "/progress/assumptions",
    "/progress/countries/BGD",
)
# benchmark_body(): mean of percentages, baseline 10 at 2017-01-01, targets 20 at 2019-12-31 and 30 at 2021-12-31.
# At 2019-09-30 the trajectory expects 10 + 10 x 1002/1094 days; the bands are 10% and 25% of |20 - 10|.
EXPECTED_2019_09_30 = 10 + 10 * 1002 / 1094


def _define(client: TestClient, code: str, **overrides: Any) -> None:
    response = client.post("/benchmarks", json=benchmark_body(code=code, disaggregations=[], **overrides))
    assert response.status_code == 201, response.text


def _record(client: TestClient, benchmark: str, country: str, period: str, value: Any) -> str:
    body = {"benchmark": benchmark, "country": country, "period": period, "value": value}
    response = client.post("/observations", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _get(client: TestClient, url: str, **params: Any) -> dict[str, Any]:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    assert response.headers[POSITION_HEADER] == str(response.json()["position"])
    body: dict[str, Any] = response.json()
    return body


def _state(client: TestClient, code: str = CODE, **params: Any) -> dict[str, Any]:
    return _get(client, f"/benchmarks/{code}/state", **params)


def _countries(state: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [(c["country"], c["valid_date"], c["value"]) for c in state["countries"]]


def _recorded_at(client: TestClient, position: int) -> str:
    event = client.get("/log", params={"after": position - 1, "limit": 1}).json()["events"][0]
    assert event["position"] == position
    return str(event["recorded_at"])


# -- "Done means": a pinned answer never changes --------------------------------


def _story_until_p1(client: TestClient) -> tuple[int, str, dict[str, dict[str, Any]]]:
    """Values for 2019-Q2 and 2019-Q3; returns P1, the id of BGD's 2019-Q2 value and the states read at P1."""
    set_up_programme(client)
    bgd_q2 = _record(client, CODE, "BGD", "2019-Q2", 12)
    _record(client, CODE, "VNM", "2019-Q2", 14)
    _record(client, CODE, "BGD", "2019-Q3", 16)
    states = {as_of: _state(client, as_of=as_of) for as_of in ("2019-06-30", "2019-09-30")}
    p1 = states["2019-09-30"]["position"]
    assert p1 == log_head(client)
    return p1, bgd_q2, states


def _late_news(client: TestClient, bgd_q2: str) -> None:
    """A backdated correction of BGD's 2019-Q2 value, then VNM's value for 2019-08, recorded late."""
    corrected = client.post(
        f"/observations/{bgd_q2}/corrections", headers=if_match(client, bgd_q2), json={"value": 11, "reason": "recount"}
    )
    assert corrected.status_code == 200, corrected.text
    _record(client, CODE, "VNM", "2019-08", 20)


def test_late_and_corrected_values_change_the_state_but_not_the_answer_pinned_at_p1(client: TestClient) -> None:
    p1, bgd_q2, before = _story_until_p1(client)
    rollup_p1 = _get(client, "/progress/assumptions", as_of="2019-09-30")
    profile_p1 = _get(client, "/progress/countries/VNM", as_of="2019-09-30")
    at_p1 = before["2019-09-30"]
    assert _countries(at_p1) == [("BGD", "2019-09-30", 16), ("VNM", "2019-06-30", 14)]
    assert (at_p1["combined"], at_p1["status"], at_p1["countries_reporting"], at_p1["freshest"]) == (
        15,
        "off_track",
        2,
        "2019-09-30",
    )
    assert at_p1["expected"] == round(EXPECTED_2019_09_30, 2)  # computed figures are given to 2 decimals
    assert at_p1["target"] == {"value": 20, "date": "2019-12-31", "label": "mid-term"}
    assert before["2019-06-30"]["combined"] == 13

    _late_news(client, bgd_q2)

    now = _state(client, as_of="2019-09-30")
    assert now["position"] == log_head(client) == p1 + 2
    assert _countries(now) == [("BGD", "2019-09-30", 16), ("VNM", "2019-08-31", 20)]
    assert (now["combined"], now["status"], now["progress"]) == (18, "at_risk", pytest.approx(0.8))
    assert [c["known_at"] for c in now["countries"]] == [at_p1["countries"][0]["known_at"], p1 + 2]
    assert _state(client, as_of="2019-06-30")["combined"] == 12.5

    for as_of, answer in before.items():
        assert _state(client, as_of=as_of, at=p1) == answer
    assert _get(client, "/progress/assumptions", as_of="2019-09-30", at=p1) == rollup_p1
    assert _get(client, "/progress/countries/VNM", as_of="2019-09-30", at=p1) == profile_p1


def test_known_at_the_recorded_time_of_p1_gives_the_answer_at_p1(client: TestClient) -> None:
    p1, bgd_q2, before = _story_until_p1(client)
    _late_news(client, bgd_q2)
    known_at = _recorded_at(client, p1)
    assert _state(client, as_of="2019-09-30", known_at=known_at) == before["2019-09-30"]
    for url in (f"/benchmarks/{CODE}/state", f"/benchmarks/{CODE}/series", "/progress/assumptions"):
        assert_problem(client.get(url, params={"at": p1, "known_at": known_at}), 422, "at")


def test_known_at_with_another_utc_offset_gives_the_same_answer(client: TestClient) -> None:
    p1, bgd_q2, before = _story_until_p1(client)
    _late_news(client, bgd_q2)
    recorded_at = datetime.fromisoformat(_recorded_at(client, p1).replace("Z", "+00:00"))
    for hours in (5, -5):
        moment = recorded_at.astimezone(timezone(timedelta(hours=hours))).isoformat()
        assert _state(client, as_of="2019-09-30", known_at=moment) == before["2019-09-30"]


def test_a_naive_known_at_is_read_as_utc_and_resolves_to_the_head_then(client: TestClient) -> None:
    p1, bgd_q2, before = _story_until_p1(client)
    _late_news(client, bgd_q2)
    naive = datetime.fromisoformat(_recorded_at(client, p1).replace("Z", "+00:00")).replace(tzinfo=None)
    assert _state(client, as_of="2019-09-30", known_at=naive.isoformat()) == before["2019-09-30"]
    assert_problem(client.get(f"/benchmarks/{CODE}/state", params={"known_at": "2000-01-01T00:00:00"}), 404)


# -- status ----------------------------------------------------------------------

DESCENDING = {
    "ascending": False,
    "baseline": {"value": 30, "date": "2017-01-01"},
    "targets": [{"value": 20, "date": "2019-12-31"}, {"value": 10, "date": "2021-12-31"}],
}
QUALITATIVE = {
    "measure": "qualitative",
    "combination": "latest",
    "unit_label": None,
    "baseline": {"value": "no policy", "date": "2017-01-01"},
    "targets": [{"value": "policy adopted", "date": "2021-12-31"}],
}
COUNT = {
    "ascending": False,
    "combination": "count_meeting_threshold",
    "threshold": 50,
    "baseline": {"value": 0, "date": "2017-01-01"},
    "targets": [{"value": 1, "date": "2019-12-31"}, {"value": 2, "date": "2021-12-31"}],
}
# As of 2019-12-31 the target in force and the expected figure are both 20 (the
# descending benchmark's too): on track within 1, at risk within 2.5.
STATUS_CASES: dict[str, tuple[dict[str, Any], list[tuple[str, str, Any]], str]] = {
    "ST-ACHIEVED": ({}, [("BGD", "2019-Q4", 22), ("VNM", "2019-Q4", 18)], "achieved"),
    "ST-ON-TRACK-EDGE": ({}, [("BGD", "2019-Q4", 18.9), ("VNM", "2019-Q4", 19.1)], "on_track"),
    "ST-AT-RISK": ({}, [("BGD", "2019-Q3", 18.5)], "at_risk"),
    "ST-AT-RISK-EDGE": ({}, [("BGD", "2019-Q4", 17.5)], "at_risk"),
    "ST-OFF-TRACK": ({}, [("BGD", "2019-Q4", 17.4)], "off_track"),
    "ST-DESCENDING": (DESCENDING, [("BGD", "2019-Q4", 21)], "on_track"),
    "ST-DESCENDING-OFF": (DESCENDING, [("BGD", "2019-Q4", 23)], "off_track"),
    "ST-COUNT": (COUNT, [("BGD", "2019-Q4", 60), ("VNM", "2019-Q4", 40)], "achieved"),
    "ST-NO-DATA": ({}, [], "no_data"),
    "ST-NOT-YET-VALID": ({}, [("BGD", "2020-Q1", 25)], "no_data"),
    "ST-QUALITATIVE": (QUALITATIVE, [("BGD", "2019-Q4", "draft policy before parliament")], "not_assessed"),
}


def test_each_status_follows_the_documented_rule(client: TestClient) -> None:
    set_up_programme(client)
    for code, (overrides, values, _) in STATUS_CASES.items():
        _define(client, code, **overrides)
        for country, period, value in values:
            _record(client, code, country, period, value)
    states = {code: _state(client, code, as_of="2019-12-31") for code in STATUS_CASES}
    assert {code: state["status"] for code, state in states.items()} == {
        code: status for code, (_, _, status) in STATUS_CASES.items()
    }
    no_data = states["ST-NO-DATA"]
    assert (no_data["combined"], no_data["progress"], no_data["countries_reporting"], no_data["freshest"]) == (
        None,
        None,
        0,
        None,
    )
    assert (no_data["expected"], no_data["target"]["value"]) == (20, 20)
    qualitative = states["ST-QUALITATIVE"]
    assert (qualitative["combined"], qualitative["expected"], qualitative["progress"]) == (
        "draft policy before parliament",
        None,
        None,
    )
    assert states["ST-COUNT"]["combined"] == 1
    assert states["ST-NOT-YET-VALID"]["countries"] == []


def test_a_retracted_value_no_longer_counts(client: TestClient) -> None:
    set_up_programme(client)
    earlier = _record(client, CODE, "BGD", "2019-Q2", 19)
    later = _record(client, CODE, "BGD", "2019-Q4", 25)
    assert _state(client, as_of="2019-12-31")["status"] == "achieved"
    assert (
        client.post(
            f"/observations/{later}/retraction", headers=if_match(client, later), json={"reason": "wrong country"}
        ).status_code
        == 200
    )
    fallen_back = _state(client, as_of="2019-12-31")
    assert (_countries(fallen_back), fallen_back["status"]) == ([("BGD", "2019-06-30", 19)], "on_track")
    assert (
        client.post(
            f"/observations/{earlier}/retraction", headers=if_match(client, earlier), json={"reason": "wrong country"}
        ).status_code
        == 200
    )
    assert _state(client, as_of="2019-12-31")["status"] == "no_data"


# -- the log position of every answer -----------------------------------------------


def test_every_progress_answer_carries_its_log_position_in_a_header(client: TestClient) -> None:
    set_up_programme(client)
    _record(client, CODE, "BGD", "2019-Q2", 12)
    pinned = log_head(client)
    _record(client, CODE, "VNM", "2019-Q2", 14)
    for url in ENDPOINTS:
        for params, position in (({}, log_head(client)), ({"at": pinned}, pinned)):
            response = client.get(url, params={**params, **({} if "series" in url else {"as_of": "2019-12-31"})})
            assert response.status_code == 200, response.text
            assert response.headers[POSITION_HEADER] == str(response.json()["position"]) == str(position), url


# -- series ------------------------------------------------------------------------


def _quarter_ends(first_year: int, last_year: int) -> list[str]:
    return [
        date(year, month, 30 if month in (6, 9) else 31).isoformat()
        for year in range(first_year, last_year + 1)
        for month in (3, 6, 9, 12)
    ]


def test_the_default_series_is_quarterly_over_the_programme(client: TestClient) -> None:
    set_up_programme(client)
    _record(client, CODE, "BGD", "2019-Q2", 12)
    _record(client, CODE, "VNM", "2019-Q3", 18)
    series = _get(client, f"/benchmarks/{CODE}/series")
    assert [point["as_of"] for point in series["points"]] == _quarter_ends(2017, 2021)
    assert len(series["points"]) == 20
    assert {point["position"] for point in series["points"]} == {series["position"]} == {log_head(client)}
    by_date = {point["as_of"]: point for point in series["points"]}
    for as_of in ("2019-03-31", "2019-06-30", "2019-09-30", "2021-12-31"):
        state = _state(client, as_of=as_of)
        assert state.pop("framework_version") == series["framework_version"]  # named once, for the whole series
        assert by_date[as_of] == state
    assert [by_date[d]["combined"] for d in ("2019-03-31", "2019-06-30", "2019-09-30")] == [None, 12, 15]


@pytest.mark.parametrize(
    ("params", "dates"),
    [
        ({"step": "year", "start": "2017", "end": "2021"}, [f"{year}-12-31" for year in range(2017, 2022)]),
        (
            {"step": "month", "start": "2020-01", "end": "2020-04"},
            ["2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30"],
        ),
        ({"step": "month", "start": "2019-Q1", "end": "2019-Q1"}, ["2019-03-31"]),
        ({"start": "2019-Q2", "end": "2019-Q2"}, ["2019-06-30"]),
    ],
)
def test_a_series_steps_from_the_end_of_start_to_the_end_of_end(
    client: TestClient, params: dict[str, str], dates: list[str]
) -> None:
    set_up_programme(client)
    assert [point["as_of"] for point in _get(client, f"/benchmarks/{CODE}/series", **params)["points"]] == dates


def test_a_series_has_at_most_400_points(client: TestClient) -> None:
    set_up_programme(client)
    longest = _get(client, f"/benchmarks/{CODE}/series", step="month", start="2000-01", end="2033-04")
    assert len(longest["points"]) == 400
    too_long = client.get(f"/benchmarks/{CODE}/series", params={"step": "month", "start": "2000-01", "end": "2033-05"})
    assert_problem(too_long, 422, "step")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"start": "2020-Q1", "end": "2019-Q4"}, "end"),
        ({"start": "2019-Q5"}, "start"),
        ({"end": "2019-02-30"}, "end"),
        ({"start": ""}, "start"),
        ({"step": "week"}, "step"),
        ({"step": "month", "start": "1990-01", "end": "2030-12"}, "step"),
        ({"start": "2019-Q1-extra"}, "start"),
    ],
)
def test_a_series_names_the_parameter_to_fix(client: TestClient, params: dict[str, str], parameter: str) -> None:
    set_up_programme(client)
    assert_problem(client.get(f"/benchmarks/{CODE}/series", params=params), 422, parameter)


def test_a_series_in_the_last_representable_year_is_answered(client: TestClient) -> None:
    set_up_programme(client)
    for step, period in (("quarter", "9999-Q4"), ("year", "9999"), ("month", "9999-12")):
        series = _get(client, f"/benchmarks/{CODE}/series", step=step, start=period, end=period)
        assert [point["as_of"] for point in series["points"]] == ["9999-12-31"]


# -- roll-up by critical assumption -------------------------------------------------


def test_the_rollup_lists_the_ten_assumptions_with_their_live_benchmarks(client: TestClient) -> None:
    set_up_programme(client)
    _define(client, "CA2-SECOND")
    _define(
        client,
        "CA5-AGREEMENTS",
        assumption="CA5",
        measure="unit",
        combination="sum",
        baseline={"value": 0, "date": "2017-01-01"},
        targets=[{"value": 4, "date": "2019-12-31"}],
    )
    _define(client, "CA2-RETIRED")
    _record(client, CODE, "BGD", "2019-Q4", 20)
    _record(client, "CA2-SECOND", "BGD", "2019-Q4", 17)
    _record(client, "CA5-AGREEMENTS", "VNM", "2019", 3)
    before_retirement = log_head(client)
    assert client.post("/benchmarks/CA2-RETIRED/retirement", json={"reason": "merged"}).status_code == 200

    rollup = _get(client, "/progress/assumptions", as_of="2019-12-31")
    assert [item["assumption"] for item in rollup["assumptions"]] == [f"CA{n}" for n in range(1, 11)]
    assert all(item["text"] for item in rollup["assumptions"])
    by_code = {item["assumption"]: item for item in rollup["assumptions"]}
    assert [(b["benchmark"], b["status"], b["combined"]) for b in by_code["CA2"]["benchmarks"]] == [
        ("CA2-INSPECTION", "achieved", 20),
        ("CA2-SECOND", "off_track", 17),
    ]
    assert [(b["benchmark"], b["status"], b["combined"]) for b in by_code["CA5"]["benchmarks"]] == [
        ("CA5-AGREEMENTS", "at_risk", 3)
    ]
    statuses = ["achieved", "on_track", "at_risk", "off_track", "no_data", "not_assessed"]
    assert by_code["CA2"]["summary"] == {
        "benchmarks": 2,
        "by_status": {s: int(s in ("achieved", "off_track")) for s in statuses},
    }
    assert by_code["CA5"]["summary"] == {"benchmarks": 1, "by_status": {s: int(s == "at_risk") for s in statuses}}
    for code in ("CA1", "CA3", "CA4", "CA6", "CA7", "CA8", "CA9", "CA10"):
        assert by_code[code]["benchmarks"] == []
        assert by_code[code]["summary"] == {"benchmarks": 0, "by_status": dict.fromkeys(statuses, 0)}

    earlier = _get(client, "/progress/assumptions", as_of="2019-12-31", at=before_retirement)
    ca2_then = next(item for item in earlier["assumptions"] if item["assumption"] == "CA2")
    assert [b["benchmark"] for b in ca2_then["benchmarks"]] == ["CA2-INSPECTION", "CA2-RETIRED", "CA2-SECOND"]
    assert ca2_then["summary"]["by_status"]["no_data"] == 1


def test_a_rollup_of_many_benchmarks_agrees_with_each_benchmarks_state(client: TestClient) -> None:
    """Enough benchmarks that PostgreSQL splits the roll-up's lookups over two
    connections: every benchmark's figure must still be its own state's."""
    set_up_programme(client)
    codes = [CODE] + [f"CA{n % 10 + 1}-MANY-{n}" for n in range(11)]
    for code in codes[1:]:
        _define(client, code, assumption=code.split("-")[0])
    positions = []
    for index, code in enumerate(codes):
        for country, quarter in (("BGD", "2019-Q1"), ("VNM", "2019-Q3")):
            observation = _record(client, code, country, quarter, 10 + (3 * index + len(country)) % 15)
        positions.append(log_head(client))
        if index % 3 == 0:  # a later correction, so that earlier positions know another value
            response = client.post(
                f"/observations/{observation}/corrections",
                json={"value": 5, "reason": "re-counted"},
                headers=if_match(client, observation),
            )
            assert response.status_code == 200, response.text
    for at in (positions[2], positions[7], log_head(client)):
        for as_of in ("2019-03-31", "2019-12-31"):
            rollup = _get(client, "/progress/assumptions", as_of=as_of, at=at)
            figures = {
                b["benchmark"]: (b["combined"], b["status"], b["countries_reporting"])
                for item in rollup["assumptions"]
                for b in item["benchmarks"]
            }
            assert len(figures) == len(codes)
            for code in codes:
                state = _state(client, code, as_of=as_of, at=at)
                assert figures[code] == (state["combined"], state["status"], state["countries_reporting"]), (code, at)


def test_many_roll_ups_at_once_all_answer(client: TestClient) -> None:
    """More roll-ups at once than the pool has connections (each may split its
    lookups over a second one) all answer, and alike."""
    set_up_programme(client)
    for n in range(9):
        _define(client, f"CA{n + 1}-MANY", assumption=f"CA{n + 1}")
        _record(client, f"CA{n + 1}-MANY", "BGD", "2019-Q2", 10 + n)
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(
            pool.map(lambda _: client.get("/progress/assumptions", params={"as_of": "2019-12-31"}), range(80))
        )
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.text for answer in answers}) == 1


# -- country profile -----------------------------------------------------------------


def test_a_country_profile_lists_each_benchmarks_value_in_force(client: TestClient) -> None:
    set_up_programme(client)
    _define(
        client,
        "CA5-AGREEMENTS",
        assumption="CA5",
        measure="unit",
        combination="sum",
        baseline={"value": 0, "date": "2017-01-01"},
        targets=[{"value": 4, "date": "2019-12-31"}],
    )
    _record(client, CODE, "BGD", "2019-Q2", 12)
    _record(client, CODE, "BGD", "2019-Q4", 21)
    _record(client, CODE, "VNM", "2019-Q4", 19)
    _record(client, "CA5-AGREEMENTS", "VNM", "2019", 3)

    profile = _get(client, "/progress/countries/BGD", as_of="2019-09-30")
    assert (profile["country"], profile["as_of"]) == ("BGD", "2019-09-30")
    rows = {item["benchmark"]: item for item in profile["benchmarks"]}
    assert list(rows) == [CODE, "CA5-AGREEMENTS"]
    assert (rows[CODE]["value"], rows[CODE]["valid_date"], rows[CODE]["assumption"]) == (12, "2019-06-30", "CA2")
    assert rows[CODE]["programme_combined"] == 12 and rows[CODE]["programme_status"] == "off_track"
    no_value = rows["CA5-AGREEMENTS"]
    assert (no_value["value"], no_value["valid_date"], no_value["known_at"]) == (None, None, None)
    vnm = _get(client, "/progress/countries/VNM", as_of="2019-12-31")
    year_end = {item["benchmark"]: item for item in vnm["benchmarks"]}
    assert (year_end[CODE]["value"], year_end["CA5-AGREEMENTS"]["value"]) == (19, 3)
    assert year_end[CODE]["programme_combined"] == 20 and year_end[CODE]["programme_status"] == "achieved"


def test_a_country_outside_the_programme_has_no_profile(client: TestClient) -> None:
    set_up_programme(client)
    before_selection = log_head(client)
    assert client.post("/scope/countries", json=country_body("KHM")).status_code == 201
    assert _get(client, "/progress/countries/KHM")["country"] == "KHM"
    for iso3, params in (("ETH", {}), ("Ethiopia", {}), ("KHM", {"at": before_selection})):
        assert_problem(client.get(f"/progress/countries/{iso3}", params=params), 404)
    assert_problem(client.get("/progress/countries/XXX"), 422, "iso3")  # names no country at all
    assert _get(client, "/progress/countries/bgd")["country"] == "BGD"  # a selected one, as people write it


# -- errors ----------------------------------------------------------------------------


def test_a_position_beyond_the_head_is_refused(client: TestClient) -> None:
    set_up_programme(client)
    for url in ENDPOINTS:
        assert_problem(client.get(url, params={"at": log_head(client) + 1}), 422, "at")
        assert_problem(client.get(url, params={"at": -1}), 422, "at")
        assert_problem(client.get(url, params={"at": 1, "known_at": "2019-01-01T00:00:00"}), 422, "at")


@pytest.mark.parametrize("as_of", ["2019-13-01", "2019-02-30", "30/09/2019", "tomorrow"])
def test_an_impossible_valid_date_is_refused(client: TestClient, as_of: str) -> None:
    set_up_programme(client)
    for url in (f"/benchmarks/{CODE}/state", "/progress/assumptions", "/progress/countries/BGD"):
        assert_problem(client.get(url, params={"as_of": as_of}), 422, "as_of")


def test_a_benchmark_is_not_found_where_it_is_not_yet_defined(client: TestClient) -> None:
    set_up_programme(client)
    before = log_head(client)
    _define(client, "CA2-LATER")
    assert _state(client, "CA2-LATER")["benchmark"] == "CA2-LATER"
    for url in ("/benchmarks/NO-SUCH/state", "/benchmarks/NO-SUCH/series"):
        assert_problem(client.get(url), 404)
    for url in ("/benchmarks/CA2-LATER/state", "/benchmarks/CA2-LATER/series"):
        problem = assert_problem(client.get(url, params={"at": before}), 404)
        assert str(before) in problem["detail"]


@pytest.fixture
def tolerant_client(
    services: MeasurementServices, measurement: Measurement, tokens: dict[Role, str]
) -> Iterator[TestClient]:
    """A client that answers a 500 instead of raising the server's exception."""
    with TestClient(create_app(services=services), raise_server_exceptions=False) as test_client:
        test_client.auth = ActingInTheRoleNeeded(tokens)
        yield test_client


ODD_QUERIES: list[dict[str, Any]] = [
    {},
    {"as_of": "0001-01-01"},
    {"as_of": "9999-12-31"},
    {"at": 0},
    {"at": 2**63},
    {"at": 10**30},
    {"at": "1e3"},
    {"known_at": "0001-01-01T00:00:00"},
    {"known_at": "9999-12-31T23:59:59"},
    {"known_at": "2019-06-30"},
    {"known_at": "yesterday"},
    {"as_of": "2019-06-30T10:00:00"},
    {"start": "0001-Q1", "end": "0001-Q4"},
    {"start": "9998-Q1", "end": "9998-Q4"},
    {"start": "0000-Q1"},
    {"start": "2019-00"},
    {"end": "x" * 11},
    {"step": ""},
]


def test_no_query_makes_the_progress_endpoints_fail(tolerant_client: TestClient) -> None:
    set_up_programme(tolerant_client)
    _record(tolerant_client, CODE, "BGD", "2019-Q2", 12)
    urls = [*ENDPOINTS, "/benchmarks/a.b/state", "/benchmarks/%20/series", "/progress/countries/%E2%82%AC"]
    failures = [
        (url, params, response.status_code)
        for url in urls
        for params in ODD_QUERIES
        if (response := tolerant_client.get(url, params=params)).status_code >= 500
        or not (response.status_code == 200 or response.headers["content-type"].startswith("application/problem+json"))
    ]
    assert failures == []
