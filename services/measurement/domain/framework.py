"""The programme framework (areas of action, critical assumptions, expected
changes, workplan deliverables, P&B and SDG alignment, roadmap milestones).

It is history like everything else: each revision of the framework document
is a `RevisionLoaded` event on the framework's stream, so a later revision
never hides what the programme was measured against before."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.common.errors import ConflictError, FieldPath, InvalidCommandError
from services.measurement.domain.values import Period

PROGRAMME = "GSC-POA-2017-21"  # the one programme this service measures
STOCKTAKE_NAMESPACE = uuid5(NAMESPACE_URL, "https://github.com/stocktake/ids")


@dataclass(frozen=True)
class ProgrammeWindow:
    """The stretch of valid dates the programme measures: from its start
    (the framework's `period.start`) to its final report to the Governing
    Body (the last roadmap milestone's end), so that figures for the final
    report's year can still be recorded and read."""

    start: date
    end: date

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    def check_holds(self, period: Period, today: date, path: FieldPath, location: str = "body") -> None:
        """A period (of an observation, or an `as_of`) must have begun by
        `today` and lie within the window: a value for a period to come is a
        forecast, and one outside the programme is no measure of it."""
        if period.start > today:
            raise InvalidCommandError.at(
                path,
                f"{period.label} starts after today ({today.isoformat()}): give a period that has begun "
                f"(and lies within the programme's window, {self}).",
                location,
            )
        if period.start < self.start or period.end > self.end:
            raise InvalidCommandError.at(
                path,
                f"{period.label} is outside the programme's window, {self} (from its start to its final "
                "report to the Governing Body): give a period within it.",
                location,
            )

    @classmethod
    def of(cls, document: FrameworkDocument) -> ProgrammeWindow:
        """The window a framework document gives (`PROGRAMME_WINDOW` is this for the roadmap's)."""
        framework = document.content["framework"]
        ends = [framework["period"]["end"]] + [
            m["period"]["end"] for m in document.content["milestones"] if m["period"]
        ]
        return cls(date.fromisoformat(framework["period"]["start"]), date.fromisoformat(max(ends)))


# GB.329/INS/3/2: the programme runs from 2017 (para. 8) to its final report to
# the Governing Body in October 2022 (paras 9 and 12). Checked against the
# framework file by a test; a constant, so that checking a period costs no read.
PROGRAMME_WINDOW = ProgrammeWindow(date(2017, 1, 1), date(2022, 10, 31))


@dataclass(frozen=True)
class FrameworkDocument:
    """Read-only view of one framework revision's document."""

    content: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.content["framework"]["code"])

    @property
    def version(self) -> int:
        return int(self.content["framework"]["version"])

    def assumption_codes(self) -> list[str]:
        return [a["code"] for a in self.content["critical_assumptions"]]

    def deliverable_codes(self) -> list[str]:
        return [d["code"] for d in self.content["deliverables"]]

    def pb_indicator_ids(self) -> list[str]:
        """Every P&B indicator the alignment names, as 'BIENNIUM:CODE'."""
        ids: list[str] = []
        for row in self.content["pb_alignment"]:
            for code in [*row["direct_indicators"], *row["indirect_indicators"]]:
                ids.append(f"{row['biennium']}:{code}")
        return ids


class Framework(Aggregate):
    """One stream per framework code: `Registered`, then one `RevisionLoaded`
    event per revision of its document."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return uuid5(STOCKTAKE_NAMESPACE, f"framework:{code}")

    # Each event's class name and attributes are stored (topic and state):
    # renaming or moving one needs a registered old topic or an upcaster.
    # @dataclass shows type checkers the constructor that eventsourcing's
    # metaclass gives every event anyway (it skips a second dataclass pass).
    @dataclass(frozen=True)
    class Registered(Aggregate.Created):
        code: str
        principal: str

    @dataclass(frozen=True)
    class RevisionLoaded(Aggregate.Event):
        version: int
        digest: str
        document: dict[str, Any]
        principal: str

    @event(Registered)
    def __init__(self, code: str, principal: str) -> None:
        self.code = code
        self.revision = 0
        self.document: FrameworkDocument | None = None
        self.digests: dict[int, str] = {}

    def load_revision(self, version: int, digest: str, document: dict[str, Any], principal: str) -> None:
        self.check_is_newer(version, digest)
        self._load_revision(version=version, digest=digest, document=copy.deepcopy(document), principal=principal)

    def check_is_newer(self, version: int, digest: str) -> None:
        if self.has_revision(version, digest):
            raise ConflictError(f"Framework {self.code} version {version} is already loaded, with this content.")
        if version in self.digests:
            raise ConflictError(
                f"Framework {self.code} version {version} is already loaded with other "
                "content. A revised document needs a higher framework.version."
            )
        if version <= self.revision:
            raise ConflictError(
                f"Framework {self.code} is at version {self.revision}; version {version} "
                "cannot be loaded over it. Give a revised document a higher "
                "framework.version."
            )

    def has_revision(self, version: int, digest: str) -> bool:
        return self.digests.get(version) == digest

    @event(RevisionLoaded)
    def _load_revision(self, version: int, digest: str, document: dict[str, Any], principal: str) -> None:
        self.revision = version
        self.document = FrameworkDocument(document)
        self.digests = {**self.digests, version: digest}
