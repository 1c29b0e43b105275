"""Report editions: their kinds, their pins and their lifecycle.

An edition is pinned when it is created (valid date `as_of`, log position,
the log's signed checkpoint at that position, framework version, template
version, generator version, and the previous edition of its kind that
restatements compare with) and never changes
after: a revision is a new edition that names the one it supersedes. Its
lifecycle is draft -> approved (by a programme manager, who and when
recorded); a draft may be deleted, an approved edition may not."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from services.common.errors import ConflictError, InvalidCommandError

# The version of the code that builds an edition's content: bump it whenever
# the same measurement answers would give another content.
# 2: restatements per (country, sector) cell, with the sector, and a second
# observation for the same valid date told from a correction.
# 3: the pins name the log's signed checkpoint at the edition's position.
# 4: the workplan's delivery and the roadmap's milestones (content.workplan).
GENERATOR_VERSION = "stocktake-reporting/4"


@dataclass(frozen=True)
class Generator:
    """How a generator version made an edition's content from measurement's answers."""

    version: str
    pins_checkpoint: bool  # its pins name the log's signed checkpoint
    reads_workplan: bool  # its content has the workplan (None before)


# The generators whose editions this code still makes again from the same
# answers, each by its own rules: 3 made the content as 4 does, but with no
# workplan (None); 2 as 3, but its pins had no checkpoint. 1 is not kept: it
# keyed restatements by country alone, a rule this code no longer has, so
# its editions cannot be verified here.
GENERATORS: dict[str, Generator] = {
    generator.version: generator
    for generator in (
        Generator("stocktake-reporting/2", pins_checkpoint=False, reads_workplan=False),
        Generator("stocktake-reporting/3", pins_checkpoint=True, reads_workplan=False),
        Generator(GENERATOR_VERSION, pins_checkpoint=True, reads_workplan=True),
    )
}


class EditionKind(StrEnum):
    MID_TERM = "mid-term"
    FINAL_ASSESSMENT = "final-assessment"
    FINAL = "final"
    CUSTOM = "custom"


# The roadmap's reports and the valid date each is made as of
# (GB.329/INS/3/2; the framework file's milestones, version 2):
# - mid-term: presented to the Governing Body in October 2019 (para. 12;
#   para. 9 says November: milestone M8 notes the discrepancy, version 1's
#   M12 and M8): as of 31 October 2019, the earlier of the two;
# - final consolidated assessment: the last three months of 2021 (para. 9,
#   M9): as of 31 December 2021;
# - final report: October 2022 (paras 9 and 12, M10; version 1 also had it
#   as M13): as of 31 October 2022.
KIND_AS_OF: dict[EditionKind, date] = {
    EditionKind.MID_TERM: date(2019, 10, 31),
    EditionKind.FINAL_ASSESSMENT: date(2021, 12, 31),
    EditionKind.FINAL: date(2022, 10, 31),
}
KIND_TITLES: dict[EditionKind, str] = {
    EditionKind.MID_TERM: "Mid-term stocktaking report",
    EditionKind.FINAL_ASSESSMENT: "Final consolidated assessment of progress",
    EditionKind.FINAL: "Final report",
    EditionKind.CUSTOM: "Stocktaking report",
}


class EditionStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


def edition_as_of(kind: EditionKind, as_of: date | None) -> date:
    """The valid date of an edition of `kind`: fixed by the roadmap for its
    reports, given by the caller for a custom one."""
    fixed = KIND_AS_OF.get(kind)
    if fixed is None:
        if as_of is None:
            raise InvalidCommandError.at(("as_of",), "A custom edition needs `as_of`, the valid date it reports on.")
        return as_of
    if as_of is not None and as_of != fixed:
        raise InvalidCommandError.at(
            ("as_of",),
            f"A {kind} edition is as of {fixed.isoformat()} (the roadmap's date); leave `as_of` out, "
            f"or make a custom edition for {as_of.isoformat()}.",
        )
    return fixed


def check_within_programme(as_of: date, programme_start: date) -> None:
    if as_of < programme_start:
        raise InvalidCommandError.at(
            ("as_of",),
            f"{as_of.isoformat()} is before the programme started ({programme_start.isoformat()}): "
            "there is no progress to report then.",
        )


def edition_title(kind: EditionKind, as_of: date) -> str:
    return f"{KIND_TITLES[kind]} (as of {as_of.isoformat()})"


@dataclass(frozen=True)
class PreviousPin:
    id: str
    as_of: date
    position: int


@dataclass(frozen=True)
class CheckpointPin:
    """The log's signed checkpoint (C2SP note) of the tree of `size` events,
    as measurement served it when the edition was made: `size` is the
    edition's position, so the tree covers every event its figures were
    read from. An auditor checks the note with the log's verifier key."""

    size: int
    root_hash: str  # base64, as in the note
    note: str


@dataclass(frozen=True)
class Edition:
    id: str
    kind: EditionKind
    title: str
    as_of: date
    position: int
    framework: str
    template_version: str
    generator_version: str
    previous: PreviousPin | None
    supersedes: str | None
    status: EditionStatus
    created_by: str
    created_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    # None only for editions made before editions pinned a checkpoint.
    checkpoint: CheckpointPin | None = None

    def approved(self, by: str, at: datetime) -> Edition:
        if self.status is EditionStatus.APPROVED:
            raise ConflictError(f"Edition {self.id} was already approved, by {self.approved_by} at {self.approved_at}.")
        return replace(self, status=EditionStatus.APPROVED, approved_by=by, approved_at=at)

    def check_may_delete(self) -> None:
        if self.status is EditionStatus.APPROVED:
            raise ConflictError(
                f"Edition {self.id} is approved: an approved edition is never deleted. "
                "To correct it, create a new edition that supersedes it."
            )
