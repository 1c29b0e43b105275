"""A country in a query or a path is read as in a body (issue 12): its alpha-3
code in any case, its alpha-2 code or its English name; one that names no
country is a 422 with the closest names."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import assert_problem, observation_body, set_up_programme

AS_BGD = ("BGD", "bgd", "BD", "bd", "Bangladesh", "bangladesh", " Bangladesh ")


def _programme_with_two_countries(client: TestClient) -> None:
    set_up_programme(client)
    for country in ("BGD", "VNM"):
        assert client.post("/observations", json=observation_body(country=country)).status_code == 201


def test_observations_and_exports_are_filtered_by_a_country_as_people_write_it(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    _programme_with_two_countries(client)
    export = client.get("/exports/observations.csv", params={"country": "BGD", "as_of": "2019-12-31"})
    assert export.status_code == 200, export.text
    for written in AS_BGD:
        with subtests.test(msg=written):
            items = client.get("/observations", params={"country": written}).json()["items"]
            assert [item["country"] for item in items] == ["BGD"]
            same = client.get("/exports/observations.csv", params={"country": written, "as_of": "2019-12-31"})
            assert same.content == export.content


def test_a_country_profile_is_found_by_a_country_as_people_write_it(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    _programme_with_two_countries(client)
    profile = client.get("/progress/countries/BGD", params={"as_of": "2019-12-31"}).json()
    assert profile["country"] == "BGD"
    for written in AS_BGD:
        with subtests.test(msg=written):
            answer = client.get(f"/progress/countries/{written}", params={"as_of": "2019-12-31"})
            assert (answer.status_code, answer.json()) == (200, profile)


def test_a_country_parameter_that_names_nothing_gets_the_closest_names(client: TestClient) -> None:
    _programme_with_two_countries(client)
    for response, pointer in (
        (client.get("/observations", params={"country": "Bangldesh"}), "country"),
        (client.get("/exports/observations.csv", params={"country": "Bangldesh"}), "country"),
        (client.get("/progress/countries/Bangldesh"), "iso3"),
    ):
        problem = assert_problem(response, 422, pointer)
        assert "did you mean Bangladesh (BGD)?" in problem["detail"]
