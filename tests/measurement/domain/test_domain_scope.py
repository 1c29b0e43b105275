from __future__ import annotations

import copy

import pytest

from services.common.errors import ConflictError, InvalidCommandError
from services.measurement.domain.scope import MAX_SECTORS, Criteria, IloRegion, ProgrammeScope, SelectionCriterion
from services.measurement.domain.values import Period

PRINCIPAL = "pmt@ilo.org"


@pytest.fixture
def programme() -> ProgrammeScope:
    """A programme with nothing selected yet."""
    return ProgrammeScope(programme="GSC-POA-2017-21", principal=PRINCIPAL)


def select_sectors(programme: ProgrammeScope, *codes: str) -> None:
    for code in codes:
        programme.select_sector(code=code, name=code.title(), rationale=f"Why {code}.", principal=PRINCIPAL)


def select_viet_nam(programme: ProgrammeScope, criteria: Criteria) -> None:
    programme.select_country(
        iso3="VNM", name="Viet Nam", region=IloRegion.ASIA_PACIFIC, criteria=criteria, principal=PRINCIPAL
    )


def event_names(programme: ProgrammeScope) -> list[str]:
    return [type(e).__name__ for e in programme.collect_events()]


# --- opening ----------------------------------------------------------------------


def test_a_programme_scope_opens_empty(programme):
    assert (programme.sectors, programme.countries, programme.focal_points) == ({}, {}, {})
    assert event_names(programme) == ["Opened"]


def test_a_scope_id_is_derived_from_its_programme(programme):
    assert programme.id == ProgrammeScope.create_id("GSC-POA-2017-21")


# --- sectors ----------------------------------------------------------------------


def test_four_sectors_may_be_selected(programme):
    select_sectors(programme, "garment", "electronics", "agriculture", "automotive")

    assert list(programme.sectors) == ["garment", "electronics", "agriculture", "automotive"]
    assert event_names(programme) == ["Opened"] + ["SectorSelected"] * 4


def test_a_selected_sector_keeps_its_name_and_rationale(programme):
    programme.select_sector(code="garment", name="Garment", rationale="High deficits.", principal=PRINCIPAL)

    assert programme.sectors["garment"] == {"code": "garment", "name": "Garment", "rationale": "High deficits."}


def test_a_fifth_sector_is_refused_naming_the_limit(programme):
    select_sectors(programme, "garment", "electronics", "agriculture", "automotive")

    with pytest.raises(ConflictError) as caught:
        select_sectors(programme, "tourism")

    assert f"at most {MAX_SECTORS}" in caught.value.detail
    assert "para. 8" in caught.value.detail


def test_a_refused_fifth_sector_records_no_event(programme):
    select_sectors(programme, "garment", "electronics", "agriculture", "automotive")

    with pytest.raises(ConflictError):
        select_sectors(programme, "tourism")

    assert len(programme.collect_events()) == 1 + MAX_SECTORS
    assert "tourism" not in programme.sectors


def test_a_sector_cannot_be_selected_twice(programme):
    select_sectors(programme, "garment")

    with pytest.raises(ConflictError):
        select_sectors(programme, "garment")

    assert event_names(programme) == ["Opened", "SectorSelected"]


# --- countries --------------------------------------------------------------------


def test_a_country_meeting_the_three_criteria_is_selected(programme, criteria):
    select_viet_nam(programme, criteria)

    assert programme.countries["VNM"] == {
        "iso3": "VNM",
        "name": "Viet Nam",
        "region": "asia_pacific",
        "criteria": criteria,
    }
    assert event_names(programme) == ["Opened", "CountrySelected"]


def test_a_country_cannot_be_selected_twice(programme, criteria):
    select_viet_nam(programme, criteria)

    with pytest.raises(ConflictError):
        select_viet_nam(programme, copy.deepcopy(criteria))

    assert event_names(programme) == ["Opened", "CountrySelected"]


@pytest.mark.parametrize("missing", list(SelectionCriterion))
def test_a_country_needs_all_three_selection_criteria(programme, criteria, missing):
    incomplete = {name: value for name, value in criteria.items() if name != missing.value}

    with pytest.raises(InvalidCommandError) as caught:
        select_viet_nam(programme, incomplete)

    assert [problem.path for problem in caught.value.problems] == [("criteria",)]
    assert missing.value in caught.value.detail
    assert "VNM" not in programme.countries


def test_the_recorded_criteria_do_not_change_when_the_caller_changes_its_dict(programme, criteria):
    sent = copy.deepcopy(criteria)
    select_viet_nam(programme, sent)

    sent[SelectionCriterion.ILO_PRESENCE.value]["met"] = False

    assert programme.collect_events()[-1].criteria == criteria


# --- focal points -----------------------------------------------------------------


def test_a_focal_point_is_nominated_for_a_region(programme):
    programme.nominate_focal_point(IloRegion.AFRICA, name="A. Mensah", email="mensah@ilo.org", principal=PRINCIPAL)

    assert programme.focal_points == {"africa": {"region": "africa", "name": "A. Mensah", "email": "mensah@ilo.org"}}


def test_a_new_nomination_replaces_the_regions_focal_point(programme):
    programme.nominate_focal_point(IloRegion.AFRICA, name="A. Mensah", email="mensah@ilo.org", principal=PRINCIPAL)
    programme.nominate_focal_point(IloRegion.AFRICA, name="B. Diallo", email="diallo@ilo.org", principal=PRINCIPAL)

    assert programme.focal_points["africa"]["name"] == "B. Diallo"
    assert event_names(programme) == ["Opened", "FocalPointNominated", "FocalPointNominated"]


# --- checks used by observations --------------------------------------------------


def test_check_country_accepts_a_selected_country(programme, criteria):
    select_viet_nam(programme, criteria)

    programme.check_country("VNM", Period.parse("2019-Q2"))


def test_check_country_refuses_a_country_not_selected_at_path_country(programme, criteria):
    select_viet_nam(programme, criteria)

    with pytest.raises(InvalidCommandError) as caught:
        programme.check_country("BGD", Period.parse("2019-Q2"))

    assert [problem.path for problem in caught.value.problems] == [("country",)]
    assert "VNM" in caught.value.detail


def test_check_sector_accepts_a_selected_sector(programme):
    select_sectors(programme, "garment")

    programme.check_sector("garment", Period.parse("2019-Q2"))


def test_check_sector_refuses_a_sector_not_selected_at_path_sector(programme):
    select_sectors(programme, "garment")

    with pytest.raises(InvalidCommandError) as caught:
        programme.check_sector("tourism", Period.parse("2019-Q2"))

    assert [problem.path for problem in caught.value.problems] == [("sector",)]
    assert "garment" in caught.value.detail


# --- history ----------------------------------------------------------------------


def test_replaying_the_events_of_a_scope_rebuilds_its_state(programme, criteria):
    select_sectors(programme, "garment", "electronics")
    select_viet_nam(programme, criteria)
    programme.nominate_focal_point(IloRegion.AMERICAS, name="C. Rojas", email="rojas@ilo.org", principal=PRINCIPAL)
    events = programme.collect_events()

    replayed: ProgrammeScope | None = None
    for domain_event in events:
        replayed = domain_event.mutate(replayed)

    assert vars(replayed) == vars(programme)
