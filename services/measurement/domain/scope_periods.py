"""When a country or a sector is in the programme's scope: the periods
between its selections and deselections, each decision taking effect at its
valid date. The write side checks observations against it
(domain/scope.py); the as-of queries keep the cells in scope at D, from
the decisions known at P.

The rule
    A cell's decisions alternate (selected, deselected, selected ...) and
    come in valid-date order. A selection from F puts the cell in scope on
    F and every day after, until the day a deselection takes effect (the
    first day out of scope). A cell of a benchmark (country, sector) is in
    scope at D when its country is (or it is international: no country)
    and its sector is (or it names none)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import NamedTuple

# The programme's first day (GB.329/INS/3/2: the programme of action
# 2017-21): the valid date of a selection recorded before selections had one.
PROGRAMME_START = date(2017, 1, 1)


class ScopeKind(StrEnum):
    COUNTRY = "country"
    SECTOR = "sector"


class ScopeDecision(NamedTuple):
    """A selection (`selected`) or deselection of one country or sector, from `valid_from`."""

    kind: ScopeKind
    code: str
    selected: bool
    valid_from: date
    reason: str | None = None


@dataclass(frozen=True)
class ScopePeriod:
    """Days in scope: from `start` until the day before `until` (None: still in scope)."""

    start: date
    until: date | None = None
    ended_because: str | None = None

    @property
    def last_day(self) -> date | None:
        return None if self.until is None else self.until - timedelta(days=1)

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.until is None or day < self.until)

    def describe(self) -> str:
        return f"from {self.start}" if self.last_day is None else f"from {self.start} to {self.last_day}"


class CellsInScope(NamedTuple):
    """The countries and sectors in scope on one day."""

    countries: frozenset[str]
    sectors: frozenset[str]

    def admit(self, country: str, sector: str) -> bool:
        """Whether a benchmark's cell is in scope ("" for no country, no sector)."""
        return (not country or country in self.countries) and (not sector or sector in self.sectors)


def describe_periods(periods: Sequence[ScopePeriod]) -> str:
    return " and ".join(period.describe() for period in periods)


class ScopeTimeline:
    """The in-scope periods of every country and sector, from decisions in log order."""

    def __init__(self, decisions: Iterable[ScopeDecision] = ()) -> None:
        self._periods: dict[tuple[ScopeKind, str], list[ScopePeriod]] = {}
        for decision in decisions:
            self.add(decision)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScopeTimeline) and self._periods == other._periods

    __hash__ = None  # type: ignore[assignment]

    def add(self, decision: ScopeDecision) -> None:
        periods = self._periods.setdefault((decision.kind, decision.code), [])
        if decision.selected:
            periods.append(ScopePeriod(decision.valid_from))
        elif periods and periods[-1].until is None:
            periods[-1] = ScopePeriod(periods[-1].start, decision.valid_from, decision.reason)

    def periods(self, kind: ScopeKind, code: str) -> list[ScopePeriod]:
        return list(self._periods.get((kind, code), ()))

    def ever_selected(self, kind: ScopeKind) -> list[str]:
        return sorted(code for (k, code) in self._periods if k is kind)

    def admits(self, kind: ScopeKind, code: str, day: date) -> bool:
        return any(period.covers(day) for period in self._periods.get((kind, code), ()))

    def in_scope(self, kind: ScopeKind, day: date) -> list[str]:
        return sorted(code for (k, code), periods in self._periods.items() if k is kind and _any_covers(periods, day))

    def cells_in_scope(self, day: date) -> CellsInScope:
        """Which cells of a benchmark are in scope at `day`."""
        return CellsInScope(
            frozenset(self.in_scope(ScopeKind.COUNTRY, day)), frozenset(self.in_scope(ScopeKind.SECTOR, day))
        )

    def current(self, kind: ScopeKind, code: str) -> ScopePeriod | None:
        """The cell's last period if it has not ended (the cell is selected now)."""
        periods = self._periods.get((kind, code))
        return periods[-1] if periods and periods[-1].until is None else None

    def last_deselection(self, kind: ScopeKind, code: str) -> date | None:
        periods = self._periods.get((kind, code))
        return periods[-1].until if periods else None

    def busiest_from(self, kind: ScopeKind, start: date) -> list[str]:
        """The most codes of `kind` in scope together on any day from `start` on."""
        days = {start} | {p.start for periods in self._by_kind(kind) for p in periods if p.start > start}
        return max((self.in_scope(kind, day) for day in sorted(days)), key=len)

    def _by_kind(self, kind: ScopeKind) -> list[list[ScopePeriod]]:
        return [periods for (k, _), periods in self._periods.items() if k is kind]


def _any_covers(periods: Sequence[ScopePeriod], day: date) -> bool:
    return any(period.covers(day) for period in periods)
