"""Programme scope (roadmap paras 8 and 11): the sectoral supply chains
selected (at most four in scope at the same time), the countries where
country-level activities take place, and the GSC focal point of each ILO
Regional Office. Selections and deselections take effect at a valid date
(domain/scope_periods.py has the rule)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.common.errors import ConflictError, FieldPath, InvalidCommandError, NotFoundError
from services.measurement.domain.framework import STOCKTAKE_NAMESPACE
from services.measurement.domain.scope_periods import (
    PROGRAMME_START,
    ScopeDecision,
    ScopeKind,
    ScopeTimeline,
    describe_periods,
)
from services.measurement.domain.values import Period

MAX_SECTORS = 4  # para 8: "specific (maximum four) sectoral GSCs", in scope at the same time


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


def _selected_at_the_programme_start(state: dict[str, Any]) -> None:
    """Upcasts a selection of version 1, which had no valid date: it took effect at the programme's start."""
    state["valid_from"] = PROGRAMME_START


class ProgrammeScope(Aggregate):
    """One stream for the programme: scope decisions are few and must be
    checked against each other (the sector limit, the order of a cell's
    decisions), so they live together."""

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
        valid_from: date

        class_version = 2
        upcast_v1_v2 = staticmethod(_selected_at_the_programme_start)

    @dataclass(frozen=True)
    class CountrySelected(Aggregate.Event):
        iso3: str
        name: str
        region: str
        criteria: Criteria
        principal: str
        valid_from: date

        class_version = 2
        upcast_v1_v2 = staticmethod(_selected_at_the_programme_start)

    @dataclass(frozen=True)
    class SectorDeselected(Aggregate.Event):
        code: str
        valid_from: date  # the first day out of scope
        reason: str
        principal: str

    @dataclass(frozen=True)
    class CountryDeselected(Aggregate.Event):
        iso3: str
        valid_from: date  # the first day out of scope
        reason: str
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
        # Every sector and country ever selected, as last selected.
        self.sectors: dict[str, dict[str, Any]] = {}
        self.countries: dict[str, dict[str, Any]] = {}
        self.focal_points: dict[str, dict[str, Any]] = {}
        self.decisions: tuple[ScopeDecision, ...] = ()
        self.timeline = ScopeTimeline()

    def _decide(self, decision: ScopeDecision) -> None:
        # A new timeline, not a changed one: an aggregate read at an earlier
        # position (a cached reference) keeps its own.
        self.decisions = (*self.decisions, decision)
        self.timeline = ScopeTimeline(self.decisions)

    def _check_selection(self, kind: ScopeKind, code: str, label: str, valid_from: date) -> None:
        current = self.timeline.current(kind, code)
        if current is not None:
            raise ConflictError(f"{label} is already selected (in scope {current.describe()}).")
        left = self.timeline.last_deselection(kind, code)
        if left is not None and valid_from < left:
            raise InvalidCommandError.at(
                ("valid_from",),
                f"{label} left the scope on {left}: select it again from that day or later, not from {valid_from}.",
            )

    def _check_deselection(self, kind: ScopeKind, code: str, label: str, valid_from: date, reason: str) -> None:
        current = self.timeline.current(kind, code)
        if current is None:
            periods = self.timeline.periods(kind, code)
            raise ConflictError(f"{label} is not in scope now (it was in scope {describe_periods(periods)}).")
        if valid_from <= current.start:
            raise InvalidCommandError.at(
                ("valid_from",),
                f"{label} is in scope from {current.start}: it can leave the scope the day after at the earliest, "
                f"not on {valid_from}.",
            )
        if not reason.strip():
            raise InvalidCommandError.at(
                ("reason",), "Give the reason for this deselection: it is kept with the history."
            )

    def select_sector(
        self, code: str, name: str, rationale: str, principal: str, valid_from: date = PROGRAMME_START
    ) -> None:
        self._check_selection(ScopeKind.SECTOR, code, f"Sector {code!r}", valid_from)
        together = self.timeline.busiest_from(ScopeKind.SECTOR, valid_from)
        if len(together) >= MAX_SECTORS:
            raise ConflictError(
                f"The roadmap (para. 8) allows at most {MAX_SECTORS} sectoral supply chains in scope at the same "
                f"time, and {len(together)} are in scope together from {valid_from} on ({', '.join(together)}): "
                "deselect one first, or select this one from a day when fewer are."
            )
        self._select_sector(code=code, name=name, rationale=rationale, principal=principal, valid_from=valid_from)

    @event(SectorSelected)
    def _select_sector(self, code: str, name: str, rationale: str, principal: str, valid_from: date) -> None:
        self.sectors = {**self.sectors, code: {"code": code, "name": name, "rationale": rationale}}
        self._decide(ScopeDecision(ScopeKind.SECTOR, code, True, valid_from))

    def deselect_sector(self, code: str, valid_from: date, reason: str, principal: str) -> None:
        if code not in self.sectors:
            raise NotFoundError(f"Sector {code!r} was never selected (selected: {self._listed(self.sectors)}).")
        self._check_deselection(ScopeKind.SECTOR, code, f"Sector {code!r}", valid_from, reason)
        self._deselect_sector(code=code, valid_from=valid_from, reason=reason, principal=principal)

    @event(SectorDeselected)
    def _deselect_sector(self, code: str, valid_from: date, reason: str, principal: str) -> None:
        self._decide(ScopeDecision(ScopeKind.SECTOR, code, False, valid_from, reason))

    def select_country(
        self,
        iso3: str,
        name: str,
        region: IloRegion,
        criteria: Criteria,
        principal: str,
        valid_from: date = PROGRAMME_START,
    ) -> None:
        self._check_selection(ScopeKind.COUNTRY, iso3, f"Country {iso3}", valid_from)
        missing = [c.value for c in SelectionCriterion if c.value not in criteria]
        if missing:
            raise InvalidCommandError.at(
                ("criteria",), f"Record all three selection criteria of para. 8; missing: {', '.join(missing)}."
            )
        self._select_country(
            iso3=iso3,
            name=name,
            region=region.value,
            criteria=copy.deepcopy(criteria),
            principal=principal,
            valid_from=valid_from,
        )

    @event(CountrySelected)
    def _select_country(
        self, iso3: str, name: str, region: str, criteria: Criteria, principal: str, valid_from: date
    ) -> None:
        self.countries = {
            **self.countries,
            iso3: {"iso3": iso3, "name": name, "region": region, "criteria": criteria},
        }
        self._decide(ScopeDecision(ScopeKind.COUNTRY, iso3, True, valid_from))

    def deselect_country(self, iso3: str, valid_from: date, reason: str, principal: str) -> None:
        if iso3 not in self.countries:
            raise NotFoundError(
                f"{iso3} was never a selected programme country (selected: {self._listed(self.countries)})."
            )
        self._check_deselection(ScopeKind.COUNTRY, iso3, f"Country {iso3}", valid_from, reason)
        self._deselect_country(iso3=iso3, valid_from=valid_from, reason=reason, principal=principal)

    @event(CountryDeselected)
    def _deselect_country(self, iso3: str, valid_from: date, reason: str, principal: str) -> None:
        self._decide(ScopeDecision(ScopeKind.COUNTRY, iso3, False, valid_from, reason))

    def nominate_focal_point(self, region: IloRegion, name: str, email: str, principal: str) -> None:
        self._nominate_focal_point(region=region.value, name=name, email=email, principal=principal)

    @event(FocalPointNominated)
    def _nominate_focal_point(self, region: str, name: str, email: str, principal: str) -> None:
        self.focal_points = {**self.focal_points, region: {"region": region, "name": name, "email": email}}

    @staticmethod
    def _listed(selected: dict[str, Any]) -> str:
        return ", ".join(sorted(selected)) or "none yet"

    def check_country(self, iso3: str, period: Period | None) -> None:
        """The country is in scope on the valid date of an observation for `period` (None: it was ever selected)."""
        if iso3 not in self.countries:
            raise InvalidCommandError.at(
                ("country",), f"{iso3} is not a selected programme country (selected: {self._listed(self.countries)})."
            )
        self._check_in_scope(ScopeKind.COUNTRY, iso3, iso3, period, ("country",))

    def check_sector(self, code: str, period: Period | None) -> None:
        """The sector is in scope on the valid date of an observation for `period` (None: it was ever selected)."""
        if code not in self.sectors:
            raise InvalidCommandError.at(
                ("sector",),
                f"{code!r} is not a selected sectoral supply chain (selected: {self._listed(self.sectors)}).",
            )
        self._check_in_scope(ScopeKind.SECTOR, code, f"Sector {code!r}", period, ("sector",))

    def _check_in_scope(self, kind: ScopeKind, code: str, label: str, period: Period | None, path: FieldPath) -> None:
        if period is not None and not self.timeline.admits(kind, code, period.valid_date):
            periods = describe_periods(self.timeline.periods(kind, code))
            raise InvalidCommandError.at(
                path,
                f"{label} is in the programme's scope {periods}; this observation is for {period.label} "
                f"(valid date {period.valid_date}), when it was not.",
            )
