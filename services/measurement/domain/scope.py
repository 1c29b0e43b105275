"""Programme scope (roadmap paras 8 and 11): the sectoral supply chains
selected (at most four), the countries where country-level activities take
place, and the GSC focal point of each ILO Regional Office."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.common.errors import ConflictError, InvalidCommandError
from services.measurement.domain.framework import STOCKTAKE_NAMESPACE

MAX_SECTORS = 4  # para 8: "specific (maximum four) sectoral GSCs"


class IloRegion(StrEnum):
    AFRICA = "africa"
    AMERICAS = "americas"
    ARAB_STATES = "arab_states"
    ASIA_PACIFIC = "asia_pacific"
    EUROPE_CENTRAL_ASIA = "europe_central_asia"


class SelectionCriterion(StrEnum):
    """The three country selection criteria of para 8."""

    DECENT_WORK_DEFICITS = "decent_work_deficits"
    POLITICAL_COMMITMENT = "political_commitment"
    ILO_PRESENCE = "ilo_presence"


Criteria = dict[str, dict[str, Any]]  # criterion -> {"met": bool, "evidence": str}


class ProgrammeScope(Aggregate):
    """One stream for the programme: scope decisions are few and must be
    checked against each other (the sector limit), so they live together."""

    @staticmethod
    def create_id(programme: str) -> UUID:
        return uuid5(STOCKTAKE_NAMESPACE, f"scope:{programme}")

    # Each event's class name and attributes are stored (topic and state):
    # renaming or moving one needs a registered old topic or an upcaster.
    # @dataclass shows type checkers the constructor that eventsourcing's
    # metaclass gives every event anyway (it skips a second dataclass pass).
    @dataclass(frozen=True)
    class Opened(Aggregate.Created):
        programme: str
        principal: str

    @dataclass(frozen=True)
    class SectorSelected(Aggregate.Event):
        code: str
        name: str
        rationale: str
        principal: str

    @dataclass(frozen=True)
    class CountrySelected(Aggregate.Event):
        iso3: str
        name: str
        region: str
        criteria: Criteria
        principal: str

    @dataclass(frozen=True)
    class FocalPointNominated(Aggregate.Event):
        region: str
        name: str
        email: str
        principal: str

    @event(Opened)
    def __init__(self, programme: str, principal: str) -> None:
        self.programme = programme
        self.sectors: dict[str, dict[str, Any]] = {}
        self.countries: dict[str, dict[str, Any]] = {}
        self.focal_points: dict[str, dict[str, Any]] = {}

    def select_sector(self, code: str, name: str, rationale: str, principal: str) -> None:
        if code in self.sectors:
            raise ConflictError(f"Sector {code!r} is already selected.")
        if len(self.sectors) >= MAX_SECTORS:
            selected = ", ".join(sorted(self.sectors))
            raise ConflictError(
                f"The roadmap (para. 8) allows at most {MAX_SECTORS} sectoral supply chains, "
                f"and {MAX_SECTORS} are selected already ({selected})."
            )
        self._select_sector(code=code, name=name, rationale=rationale, principal=principal)

    @event(SectorSelected)
    def _select_sector(self, code: str, name: str, rationale: str, principal: str) -> None:
        self.sectors = {**self.sectors, code: {"code": code, "name": name, "rationale": rationale}}

    def select_country(self, iso3: str, name: str, region: IloRegion, criteria: Criteria, principal: str) -> None:
        if iso3 in self.countries:
            raise ConflictError(f"Country {iso3} is already selected.")
        missing = [c.value for c in SelectionCriterion if c.value not in criteria]
        if missing:
            raise InvalidCommandError.at(
                ("criteria",), f"Record all three selection criteria of para. 8; missing: {', '.join(missing)}."
            )
        self._select_country(
            iso3=iso3, name=name, region=region.value, criteria=copy.deepcopy(criteria), principal=principal
        )

    @event(CountrySelected)
    def _select_country(self, iso3: str, name: str, region: str, criteria: Criteria, principal: str) -> None:
        self.countries = {
            **self.countries,
            iso3: {"iso3": iso3, "name": name, "region": region, "criteria": criteria},
        }

    def nominate_focal_point(self, region: IloRegion, name: str, email: str, principal: str) -> None:
        self._nominate_focal_point(region=region.value, name=name, email=email, principal=principal)

    @event(FocalPointNominated)
    def _nominate_focal_point(self, region: str, name: str, email: str, principal: str) -> None:
        self.focal_points = {**self.focal_points, region: {"region": region, "name": name, "email": email}}

    def check_country(self, iso3: str) -> None:
        if iso3 not in self.countries:
            selected = ", ".join(sorted(self.countries)) or "none yet"
            raise InvalidCommandError.at(
                ("country",), f"{iso3} is not a selected programme country (selected: {selected})."
            )

    def check_sector(self, code: str) -> None:
        if code not in self.sectors:
            selected = ", ".join(sorted(self.sectors)) or "none yet"
            raise InvalidCommandError.at(
                ("sector",), f"{code!r} is not a selected sectoral supply chain (selected: {selected})."
            )
