"""Pinned exports (domain/exports.py): made by a programme manager from
measurement's answers at pinned positions, as report editions are (the same
reads, the same checkpoint pin), stored with the SHA-256 of each rendering,
read in each format (a country office sees its own countries' cells of a
contribution), and verified by making them again from their pins."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from services.common.access import Permission, Principal
from services.common.errors import InvalidCommandError, NotFoundError, ServiceUnavailableError
from services.reporting.adapters.exports import Exports
from services.reporting.adapters.measurement_client import MeasurementClient
from services.reporting.application.editions import sha256
from services.reporting.application.pinned_reads import read_checkpoint, read_pinned
from services.reporting.domain import assemble, contribution, iati
from services.reporting.domain.access import check_may_verify
from services.reporting.domain.editions import CheckpointPin
from services.reporting.domain.exports import (
    EXPORT_GENERATOR_VERSION,
    EXPORT_TEMPLATE_VERSION,
    FORMATS,
    Export,
    ExportFormat,
    ExportKind,
    biennium_end,
    check_biennium,
    check_format,
    check_request,
    export_title,
)
from services.reporting.rendering.exports import render_all, render_export
from services.reporting.rendering.iati import IatiSchemaError

Content = dict[str, Any]
Answer = Mapping[str, Any]


@dataclass(frozen=True)
class ExportRequest:
    kind: ExportKind
    biennium: str | None = None
    as_of: date | None = None  # the biennium's end for a contribution; required for an IATI activity
    known_at: int | None = None  # a log position; the head when None


def pins_of(export: Export) -> dict[str, Any]:
    checkpoint = export.checkpoint
    return {
        "kind": export.kind.value,
        "title": export.title,
        "biennium": export.biennium,
        "as_of": export.as_of.isoformat(),
        "position": export.position,
        "checkpoint": {"size": checkpoint.size, "root_hash": checkpoint.root_hash, "note": checkpoint.note},
        "framework": export.framework,
        "template_version": export.template_version,
        "generator_version": export.generator_version,
    }


class ExportProblemError(InvalidCommandError):
    """The figures at the requested pins cannot be exported as the standard
    requires (an IATI rule, or its schema): nothing was stored."""


class ExportsService:
    def __init__(
        self,
        exports: Exports,
        measurement: MeasurementClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.exports = exports
        self.measurement = measurement
        self.clock = clock

    # -- making ----------------------------------------------------------

    def _as_of(self, request: ExportRequest) -> date:
        check_request(request.kind, request.biennium)
        if request.as_of is not None:
            return request.as_of
        if request.biennium is not None:
            return biennium_end(request.biennium)
        raise InvalidCommandError.at(("as_of",), "An iati-activity export needs `as_of`, the valid date it reports on.")

    def create(self, principal: Principal, token: str, request: ExportRequest) -> dict[str, Any]:
        """A new export, pinned and stored with its renderings' digests."""
        principal.check_may(Permission.MANAGE_REPORTS)
        as_of = self._as_of(request)
        report, framework = read_pinned(self.measurement, token, as_of, request.known_at, series=False)
        if request.biennium is not None:
            check_biennium(request.biennium, contribution.aligned_bienniums(framework))
        position = int(report["position"])
        version = report["framework"]
        export = Export(
            id=str(uuid.uuid4()),
            kind=request.kind,
            title=export_title(request.kind, as_of, request.biennium),
            biennium=request.biennium,
            as_of=as_of,
            position=position,
            framework=f"{version['code']} v{version['version']}",
            template_version=EXPORT_TEMPLATE_VERSION,
            generator_version=EXPORT_GENERATOR_VERSION,
            checkpoint=read_checkpoint(self.measurement, token, position),
            created_by=principal.name,
            created_at=self.clock(),
        )
        made = self._renderings(export, self._content(token, export, report, framework))
        self.exports.add(export, made["json"], {fmt: (sha256(data), len(data)) for fmt, data in made.items()})
        return self.view(export)

    def _content(self, token: str, export: Export, report: Answer, framework: Answer) -> Content:
        pins = pins_of(export)
        if export.kind is ExportKind.PI_CONTRIBUTION:
            return contribution.content(pins, framework, report)
        return self._iati_content(token, pins, export, report, framework)

    def _iati_content(self, token: str, pins: Content, export: Export, report: Answer, framework: Answer) -> Content:
        programme = assemble.programme(framework)
        start = date.fromisoformat(str(programme["period"]["start"]))
        readings: list[tuple[iati.Period, Answer]] = []
        for period in iati.periods(start, export.as_of):
            if period[1] == export.as_of:
                readings.append((period, report))
            else:
                readings.append((period, self.measurement.report(token, period[1], export.position, series=False)))
        assumptions = [(str(a["code"]), str(a["text"])) for a in framework["critical_assumptions"]]
        dimensions = _DisaggregationReader(self.measurement, token).dimensions(readings)
        content = iati.content(
            pins, programme, assumptions, self._log_time(token, export.position), readings, dimensions
        )
        violations = iati.rule_violations(content)
        if violations:
            raise ExportProblemError(
                "The figures at these pins break IATI 2.03's rules for results, so no IATI export was made: "
                + "; ".join(violations)
                + ". Correct the observations or the benchmark's definition in measurement, then export again."
            )
        return content

    def _log_time(self, token: str, position: int) -> str:
        """When the log recorded the event at `position`: the activity's
        last update, a time the pins fix (never the clock)."""
        events = self.measurement.read(token, "/log", {"after": position - 1, "limit": 1})["events"]
        if not events or int(events[0]["position"]) != position:
            raise ServiceUnavailableError(
                f"The measurement service did not answer the event at position {position}; nothing was done, "
                "retry shortly."
            )
        recorded = datetime.fromisoformat(str(events[0]["recorded_at"])).astimezone(UTC)
        return recorded.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")

    @staticmethod
    def _renderings(export: Export, content: Content) -> dict[str, bytes]:
        try:
            return render_all(export.kind, content)
        except IatiSchemaError as error:
            raise ExportProblemError(
                "The IATI activity made from these pins does not validate against the IATI 2.03 schema, so it "
                f"was not stored: {'; '.join(error.errors[:5])}."
            ) from None

    def bienniums(self, token: str) -> list[str]:
        """The bienniums the framework (as known now) aligns the programme with."""
        return contribution.aligned_bienniums(self.measurement.read(token, "/framework"))

    # -- reading ---------------------------------------------------------

    def _export(self, export_id: str) -> Export:
        export = self.exports.get(export_id)
        if export is None:
            raise NotFoundError(f"There is no export {export_id}.")
        return export

    def view(self, export: Export) -> dict[str, Any]:
        return {
            "id": export.id,
            **pins_of(export),
            "formats": [fmt.value for fmt in FORMATS[export.kind]],
            "created_by": export.created_by,
            "created_at": export.created_at,
            "sha256": self.exports.digests(export.id),
        }

    def get(self, principal: Principal, export_id: str) -> dict[str, Any]:
        principal.check_may(Permission.READ_REPORTS)
        return self.view(self._export(export_id))

    def list(self, principal: Principal, kind: ExportKind | None) -> dict[str, Any]:
        principal.check_may(Permission.READ_REPORTS)
        return {"items": [self.view(export) for export in self.exports.all(kind)]}

    def rendering(self, principal: Principal, export_id: str, fmt: ExportFormat) -> tuple[Export, bytes]:
        """The export in `fmt`: the stored bytes' twin for a caller who sees
        every country; a country office's own cells of a contribution."""
        principal.check_may(Permission.READ_REPORTS)
        export = self._export(export_id)
        check_format(export.kind, fmt)
        stored = self.exports.content(export_id)
        assert stored is not None
        content: Content = json.loads(stored)
        if export.kind is ExportKind.PI_CONTRIBUTION and not principal.reads_every_country:
            content = contribution.visible_to(content, principal.countries)
        return export, self._renderings_of(export, content, fmt)

    @staticmethod
    def _renderings_of(export: Export, content: Content, fmt: ExportFormat) -> bytes:
        try:
            return render_export(export.kind, content, fmt)
        except IatiSchemaError as error:  # validated when made: only a changed schema file could get here
            raise ExportProblemError(
                f"Export {export.id} no longer validates against the IATI 2.03 schema this service ships, so it "
                f"is not served: {'; '.join(error.errors[:5])}."
            ) from None

    # -- verification ----------------------------------------------------

    def verify(self, principal: Principal, token: str, export_id: str) -> dict[str, Any]:
        """Makes the export again from its pins and compares each rendering's SHA-256 with the stored one."""
        check_may_verify(principal)
        export = self._export(export_id)
        report, framework = read_pinned(self.measurement, token, export.as_of, export.position, series=False)
        served = read_checkpoint(self.measurement, token, export.position)
        made = self._renderings(export, self._content(token, export, report, framework))
        stored_digests = self.exports.digests(export_id)
        formats = [
            {
                "format": fmt,
                "stored": stored_digests.get(fmt),
                "regenerated": sha256(data),
                "match": stored_digests.get(fmt) == sha256(data),
            }
            for fmt, data in made.items()
        ]
        return {
            "export": export_id,
            "match": all(item["match"] for item in formats) and served == export.checkpoint,
            "formats": formats,
            "checkpoint": {
                "pinned": _tree(export.checkpoint),
                "served": _tree(served),
                "match": served == export.checkpoint,
            },
            "generator_version": {"pinned": export.generator_version, "current": EXPORT_GENERATOR_VERSION},
            "template_version": {"pinned": export.template_version, "current": EXPORT_TEMPLATE_VERSION},
        }


def _tree(pin: CheckpointPin) -> dict[str, Any]:
    return {"size": pin.size, "root_hash": pin.root_hash}


class _DisaggregationReader:
    """The disaggregated values behind each cell's value: the payload of the
    event that gave it (its recording or the correction in force, at the
    cell's `known_at`), read from the log once per event."""

    def __init__(self, measurement: MeasurementClient, token: str) -> None:
        self.measurement = measurement
        self.token = token
        self.payloads: dict[int, list[Answer]] = {}

    def _disaggregations(self, position: int) -> list[Answer]:
        if position not in self.payloads:
            events = self.measurement.read(self.token, "/log", {"after": position - 1, "limit": 1})["events"]
            data = events[0]["data"] if events and int(events[0]["position"]) == position else {}
            self.payloads[position] = list(data.get("disaggregations") or [])
        return self.payloads[position]

    def dimensions(self, readings: list[tuple[iati.Period, Answer]]) -> dict[tuple[str, iati.Period], list[Content]]:
        found: dict[tuple[str, iati.Period], list[Content]] = {}
        for period, answer in readings:
            for entry in answer["benchmarks"]:
                if not entry.get("disaggregations") or entry["measure"] == "qualitative":
                    continue
                cells = [
                    (str(cell["valid_date"]), self._disaggregations(int(cell["known_at"])))
                    for cell in entry["countries"]
                ]
                found[(str(entry["benchmark"]), period)] = iati.combine_dimensions(str(entry["combination"]), cells)
        return found
