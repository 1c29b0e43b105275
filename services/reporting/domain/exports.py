"""Pinned exports: what other systems read, made like a report edition.

An export is pinned when it is made (its valid date `as_of`, the log
position its figures were read at, the log's signed checkpoint there, the
framework version, and the versions of the code and layout that made it) and
never changes after: made again from the same pins, each rendering has the
same bytes. Two kinds:

- `pi-contribution`: the programme's contribution to the ILO programme and
  budget of one biennium (para. 14), for the Programme Implementation report
  (para. 13), as JSON, CSV and XLSX;
- `iati-activity`: the programme as one IATI 2.03 activity whose results
  carry every benchmark as an indicator, as XML (and its content as JSON)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.common.errors import InvalidCommandError
from services.reporting.domain.editions import CheckpointPin

# The version of the code that builds an export's content: bump it whenever
# the same measurement answers would give another content.
EXPORT_GENERATOR_VERSION = "stocktake-exports/1"
# The layout version of the renderings (columns, sheets, XML elements): bump
# it whenever a rendering's bytes change for the same content.
EXPORT_TEMPLATE_VERSION = "1"


class ExportKind(StrEnum):
    PI_CONTRIBUTION = "pi-contribution"
    IATI_ACTIVITY = "iati-activity"


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    XML = "xml"


FORMATS: dict[ExportKind, tuple[ExportFormat, ...]] = {
    ExportKind.PI_CONTRIBUTION: (ExportFormat.JSON, ExportFormat.CSV, ExportFormat.XLSX),
    ExportKind.IATI_ACTIVITY: (ExportFormat.JSON, ExportFormat.XML),
}

# A biennium of the ILO's programme and budget: this century's, as "2018-19".
_BIENNIUM = re.compile(r"(20[0-9][0-9])-([0-9][0-9])")


def biennium_end(biennium: str) -> date:
    """The last day of a biennium named as the framework names it ("2018-19": 31 December 2019)."""
    match = _BIENNIUM.fullmatch(biennium)
    if match is None:
        raise InvalidCommandError.at(
            ("biennium",), f"{biennium!r} is not a biennium of this century; write it as 2018-19."
        )
    first = int(match.group(1))
    if (first + 1) % 100 != int(match.group(2)):
        raise InvalidCommandError.at(
            ("biennium",), f"{biennium!r} is not a biennium: its second year must follow its first (e.g. 2018-19)."
        )
    return date(first + 1, 12, 31)


def check_biennium(biennium: str, aligned: list[str]) -> None:
    """A biennium the framework aligns the programme with (para. 14)."""
    biennium_end(biennium)
    if biennium not in aligned:
        raise InvalidCommandError.at(
            ("biennium",),
            f"The framework aligns the programme with the P&B of {', '.join(aligned) or 'no biennium'}; "
            f"there is no alignment for {biennium}.",
        )


def check_request(kind: ExportKind, biennium: str | None) -> None:
    if kind is ExportKind.PI_CONTRIBUTION and biennium is None:
        raise InvalidCommandError.at(("biennium",), "A pi-contribution export needs `biennium`, e.g. 2018-19.")
    if kind is ExportKind.IATI_ACTIVITY and biennium is not None:
        raise InvalidCommandError.at(
            ("biennium",), "An iati-activity export covers the whole programme: leave `biennium` out."
        )


def export_title(kind: ExportKind, as_of: date, biennium: str | None) -> str:
    if kind is ExportKind.PI_CONTRIBUTION:
        return f"Contribution to the Programme and Budget {biennium} (as of {as_of.isoformat()})"
    return f"IATI activity results (as of {as_of.isoformat()})"


def check_format(kind: ExportKind, fmt: ExportFormat) -> None:
    if fmt not in FORMATS[kind]:
        known = ", ".join(FORMATS[kind])
        raise InvalidCommandError.at(
            ("fmt",), f"A {kind} export is rendered as {known}; there is no {fmt} rendering of it.", "path"
        )


@dataclass(frozen=True)
class Export:
    id: str
    kind: ExportKind
    title: str
    biennium: str | None
    as_of: date
    position: int
    framework: str
    template_version: str
    generator_version: str
    checkpoint: CheckpointPin
    created_by: str
    created_at: datetime
