"""What a verification found, and the sentence that says it.

An edition is verified by making it again from its pins and comparing each
rendering's SHA-256 with the stored one. That needs the rules of the
generator that made its content (editions.GENERATORS) and the layout of the
template it was rendered with: the JSON rendering is the content itself
(canonical JSON), so it needs no template; HTML, CSV and XLSX are made
again only with the template this service renders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class VerificationStatus(StrEnum):
    MATCH = "match"  # every rendering made again is the one stored
    MISMATCH = "mismatch"  # a rendering made again differs
    CONTENT_MATCH = "content_match"  # the content (JSON) made again is the one stored; the rest was not made
    CANNOT_VERIFY = "cannot_verify"  # made by a generator whose rules this service does not keep


def status_of(stored: Mapping[str, str], remade: Mapping[str, str] | None) -> VerificationStatus:
    """From the stored digests and those of the renderings made again (None:
    nothing could be made again)."""
    if remade is None:
        return VerificationStatus.CANNOT_VERIFY
    if any(stored.get(fmt) != digest for fmt, digest in remade.items()):
        return VerificationStatus.MISMATCH
    if set(remade) < set(stored):
        return VerificationStatus.CONTENT_MATCH
    return VerificationStatus.MATCH


@dataclass(frozen=True)
class Versions:
    """The generator and template an edition pinned, and this service's."""

    pinned_generator: str
    current_generator: str
    pinned_template: str
    current_template: str

    def note(self) -> str:
        """Which versions made the edition, when they are not this service's; empty when they are."""
        notes = []
        if self.pinned_generator != self.current_generator:
            notes.append(
                f"made by generator {self.pinned_generator}; this service is generator {self.current_generator}"
            )
        if self.pinned_template != self.current_template:
            notes.append(
                f"rendered with template {self.pinned_template}; this service renders template {self.current_template}"
            )
        return "; ".join(notes)


def explain(
    status: VerificationStatus,
    versions: Versions,
    kept_generators: list[str],
    not_remade: list[str],
    first_difference: str | None,
) -> str:
    """The verification's answer in one sentence, naming the versions when they explain it."""
    if status is VerificationStatus.CANNOT_VERIFY:
        return (
            f"Cannot verify: made by generator {versions.pinned_generator}; this service is generator "
            f"{versions.current_generator}, which makes editions again by the rules of "
            f"{', '.join(kept_generators)} only. Nothing was made again."
        )
    note = versions.note()
    suffix = f" ({note})" if note else ""
    if status is VerificationStatus.MISMATCH:
        return f"Mismatch: made again from its pins, the edition differs first at {first_difference}{suffix}."
    if status is VerificationStatus.CONTENT_MATCH:
        return (
            f"Content match: the content (the JSON rendering) made again from the pins is byte for byte the one "
            f"stored{suffix}; the {', '.join(fmt.upper() for fmt in not_remade)} renderings need the template "
            "they were made with, so they were not made again."
        )
    return f"Match: every rendering made again from the pins is byte for byte the one stored{suffix}."
