"""Report editions: made from measurement's answers at pinned positions,
stored with the SHA-256 of each rendering, approved, read (a country office
sees its own countries' cells and the programme's figures), verified by
making them again from their pins, and compared."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, cast

from services.common.access import Permission, Principal
from services.common.errors import (
    ConflictError,
    FieldProblem,
    InvalidCommandError,
    NotFoundError,
    ServiceUnavailableError,
)
from services.reporting.adapters.editions import Editions
from services.reporting.adapters.measurement_client import MeasurementClient
from services.reporting.domain import assemble
from services.reporting.domain.access import check_may_verify
from services.reporting.domain.content import Checkpoint, EditionPins, ReportContent, canonical_json
from services.reporting.domain.diff import diff, first_difference
from services.reporting.domain.editions import (
    GENERATOR_VERSION,
    CheckpointPin,
    Edition,
    EditionKind,
    EditionStatus,
    PreviousPin,
    check_within_programme,
    edition_as_of,
    edition_title,
)
from services.reporting.rendering import TEMPLATE_VERSION, Format, render
from services.reporting.rendering.workers import Renderer


@dataclass(frozen=True)
class EditionRequest:
    kind: EditionKind
    as_of: date | None = None
    known_at: int | None = None  # a log position; the head when None
    supersedes: str | None = None


def _checkpoint_of(pin: CheckpointPin | None) -> Checkpoint | None:
    return None if pin is None else {"size": pin.size, "root_hash": pin.root_hash, "note": pin.note}


def pins_of(edition: Edition) -> EditionPins:
    previous = edition.previous
    return {
        "kind": edition.kind.value,
        "title": edition.title,
        "as_of": edition.as_of.isoformat(),
        "position": edition.position,
        "checkpoint": _checkpoint_of(edition.checkpoint),
        "framework": edition.framework,
        "template_version": edition.template_version,
        "generator_version": edition.generator_version,
        "previous": None
        if previous is None
        else {"id": previous.id, "as_of": previous.as_of.isoformat(), "position": previous.position},
    }


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _visible(content: ReportContent, principal: Principal) -> ReportContent:
    """What a caller may see of an edition: a country office, its own
    countries' cells and restatements (every combined figure stays)."""
    if principal.reads_every_country:
        return content
    mine = principal.countries
    seen = cast(ReportContent, json.loads(canonical_json(content)))
    for assumption in seen["assumptions"]:
        for benchmark in assumption["benchmarks"]:
            benchmark["cells"] = [cell for cell in benchmark["cells"] if cell["country"] in mine]
    seen["restatements"] = [item for item in seen["restatements"] if item["country"] in mine]
    return seen


class Reporting:
    def __init__(
        self,
        editions: Editions,
        measurement: MeasurementClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        renderer: Renderer | None = None,
    ) -> None:
        self.editions = editions
        self.measurement = measurement
        self.clock = clock
        self.renderer = renderer or Renderer()

    # -- making ----------------------------------------------------------

    def _now(self, token: str, as_of: date, at: int | None) -> tuple[assemble.Answer, assemble.Answer]:
        """The report read at (as_of, at) with its series, and the framework at its position."""
        try:
            now = self.measurement.report(token, as_of, at, series=True)
        except InvalidCommandError as error:
            # Measurement names its query parameter `at`; our caller sent `known_at`.
            raise InvalidCommandError(
                error.detail, [FieldProblem(("known_at",), p.detail) for p in error.problems]
            ) from None
        framework = self.measurement.framework(token, int(now["position"]))
        check_within_programme(as_of, date.fromisoformat(str(framework["framework"]["period"]["start"])))
        return now, framework

    def _checkpoint(self, token: str, position: int) -> CheckpointPin:
        """The log's signed checkpoint of the tree of `position` events, as
        measurement serves it now (with the caller's key: read:checkpoints)."""
        answer = self.measurement.checkpoint(token, position)
        if int(answer["size"]) != position:
            # Pinning another tree would name events the figures were not read from.
            raise ServiceUnavailableError(
                f"The measurement service answered the checkpoint of size {answer['size']} when asked for "
                f"size {position}; nothing was done, retry shortly."
            )
        return CheckpointPin(position, str(answer["root_hash"]), str(answer["note"]))

    def _with_previous(
        self, token: str, framework: assemble.Answer, now: assemble.Answer, previous: PreviousPin | None
    ) -> assemble.Readings:
        """With the reads of the previous edition's valid date, as known then and as known now."""
        if previous is None:
            return assemble.Readings(framework, now)
        before = self.measurement.report(token, previous.as_of, previous.position, series=False)
        restated = self.measurement.report(token, previous.as_of, int(now["position"]), series=False)
        return assemble.Readings(framework, now, before, restated)

    def create(self, principal: Principal, token: str, request: EditionRequest) -> dict[str, Any]:
        """A new draft edition, pinned and stored with its renderings' digests."""
        principal.check_may(Permission.MANAGE_REPORTS)
        self._check_supersedes(request)
        as_of = edition_as_of(request.kind, request.as_of)
        # The head is only known once read, and the previous edition only
        # from it: each of measurement's reads is made once all the same.
        now, framework_answer = self._now(token, as_of, request.known_at)
        position = int(now["position"])
        previous = self.editions.previous_of(request.kind, position)
        pin = None if previous is None else PreviousPin(previous.id, previous.as_of, previous.position)
        readings = self._with_previous(token, framework_answer, now, pin)
        checkpoint = self._checkpoint(token, position)
        framework = now["framework"]
        edition = Edition(
            id=str(uuid.uuid4()),
            kind=request.kind,
            title=edition_title(request.kind, as_of),
            as_of=as_of,
            position=position,
            framework=f"{framework['code']} v{framework['version']}",
            template_version=TEMPLATE_VERSION,
            generator_version=GENERATOR_VERSION,
            previous=pin,
            supersedes=request.supersedes,
            status=EditionStatus.DRAFT,
            created_by=principal.name,
            created_at=self.clock(),
            checkpoint=checkpoint,
        )
        content = assemble.content(pins_of(edition), readings)
        made = self.renderer.all(content)
        self.editions.add(edition, made["json"], {fmt: (sha256(data), len(data)) for fmt, data in made.items()})
        return self.view(edition)

    def _check_supersedes(self, request: EditionRequest) -> None:
        if request.supersedes is None:
            return
        superseded = self.editions.get(request.supersedes)
        if superseded is None:
            raise InvalidCommandError.at(("supersedes",), f"There is no edition {request.supersedes} to supersede.")
        if superseded.kind is not request.kind:
            raise InvalidCommandError.at(
                ("supersedes",),
                f"Edition {superseded.id} is a {superseded.kind} edition; a revision is an edition of the same kind.",
            )

    # -- lifecycle -------------------------------------------------------

    def _edition(self, edition_id: str) -> Edition:
        edition = self.editions.get(edition_id)
        if edition is None:
            raise NotFoundError(f"There is no report edition {edition_id}.")
        return edition

    def approve(self, principal: Principal, edition_id: str) -> dict[str, Any]:
        principal.check_may(Permission.MANAGE_REPORTS)
        approved = self._edition(edition_id).approved(principal.name, self.clock())
        if not self.editions.approve(approved):
            raise ConflictError(f"Edition {edition_id} was approved meanwhile, by another request.")
        return self.view(approved)

    def delete(self, principal: Principal, edition_id: str) -> None:
        principal.check_may(Permission.MANAGE_REPORTS)
        self._edition(edition_id).check_may_delete()
        if not self.editions.delete_draft(edition_id):
            raise ConflictError(f"Edition {edition_id} was approved or deleted meanwhile; it was not deleted.")

    # -- reading ---------------------------------------------------------

    def view(self, edition: Edition) -> dict[str, Any]:
        return {
            "id": edition.id,
            **pins_of(edition),
            "supersedes": edition.supersedes,
            "superseded_by": self.editions.superseded_by(edition.id),
            "status": edition.status.value,
            "created_by": edition.created_by,
            "created_at": edition.created_at,
            "approved_by": edition.approved_by,
            "approved_at": edition.approved_at,
            "sha256": self.editions.digests(edition.id),
        }

    def get(self, principal: Principal, edition_id: str) -> dict[str, Any]:
        principal.check_may(Permission.READ_REPORTS)
        return self.view(self._edition(edition_id))

    def list(self, principal: Principal, kind: EditionKind | None) -> dict[str, Any]:
        principal.check_may(Permission.READ_REPORTS)
        return {"items": [self.view(edition) for edition in self.editions.all(kind)]}

    def _content(self, edition_id: str) -> ReportContent:
        self._edition(edition_id)
        stored = self.editions.content(edition_id)
        assert stored is not None
        return cast(ReportContent, json.loads(stored))

    def rendering(self, principal: Principal, edition_id: str, fmt: Format) -> bytes:
        """The edition in `fmt`: the stored bytes' twin for a caller who sees
        every country; a country office's own view otherwise."""
        principal.check_may(Permission.READ_REPORTS)
        return render(_visible(self._content(edition_id), principal), fmt)

    def compare(self, principal: Principal, edition_id: str, against: str) -> dict[str, Any]:
        """What changed from edition `against` (before) to `edition_id` (after)."""
        principal.check_may(Permission.READ_REPORTS)
        before = _visible(self._content(against), principal)
        after = _visible(self._content(edition_id), principal)
        return {"before": against, "after": edition_id, "assumptions": diff(before, after)}

    # -- verification ----------------------------------------------------

    def verify(self, principal: Principal, token: str, edition_id: str) -> dict[str, Any]:
        """Makes the edition again from its pins and compares each
        rendering's SHA-256 with the stored one."""
        check_may_verify(principal)
        edition = self._edition(edition_id)
        now, framework = self._now(token, edition.as_of, edition.position)
        readings = self._with_previous(token, framework, now, edition.previous)
        # Made with the checkpoint measurement serves now for the edition's
        # size: a log rewritten since the edition was made has another root.
        served = None if edition.checkpoint is None else self._checkpoint(token, edition.position)
        made = assemble.content(pins_of(replace(edition, checkpoint=served)), readings)
        stored_digests = self.editions.digests(edition_id)
        formats = []
        for fmt, data in self.renderer.all(made).items():
            stored = stored_digests.get(fmt)
            formats.append(
                {"format": fmt, "stored": stored, "regenerated": sha256(data), "match": stored == sha256(data)}
            )
        match = all(item["match"] for item in formats)
        return {
            "edition": edition_id,
            "match": match,
            "formats": formats,
            "first_difference": None if match else self._first_difference(edition, served, made),
            "checkpoint": {
                "pinned": _tree_of(edition.checkpoint),
                "served": _tree_of(served),
                "match": served == edition.checkpoint,
            },
            "generator_version": {"pinned": edition.generator_version, "current": GENERATOR_VERSION},
            "template_version": {"pinned": edition.template_version, "current": TEMPLATE_VERSION},
        }

    def _first_difference(self, edition: Edition, served: CheckpointPin | None, made: ReportContent) -> str:
        # The checkpoint first: another root at the edition's size means the
        # log it was read from was rewritten, the cause of whatever else differs.
        if served != edition.checkpoint:
            return "edition/checkpoint"
        stored_content = self._content(edition.id)
        return first_difference(stored_content, json.loads(canonical_json(made))) or "renderings only"


def _tree_of(pin: CheckpointPin | None) -> dict[str, Any] | None:
    return None if pin is None else {"size": pin.size, "root_hash": pin.root_hash}
