"""What a verification found, from the stored digests and those made again."""

from __future__ import annotations

import pytest

from services.reporting.domain.verification import VerificationStatus, Versions, explain, status_of

STORED = {"json": "j", "html": "h", "csv": "c", "xlsx": "x"}


@pytest.mark.parametrize(
    ("remade", "status"),
    [
        (None, VerificationStatus.CANNOT_VERIFY),
        (dict(STORED), VerificationStatus.MATCH),
        ({**STORED, "xlsx": "other"}, VerificationStatus.MISMATCH),
        ({"json": "j"}, VerificationStatus.CONTENT_MATCH),
        ({"json": "other"}, VerificationStatus.MISMATCH),
        ({**STORED, "pdf": "p"}, VerificationStatus.MISMATCH),  # made again, never stored
    ],
)
def test_the_status_follows_what_was_made_again(remade, status):
    assert status_of(STORED, remade) is status


def test_the_sentence_names_the_versions_only_when_they_are_not_the_services():
    same = Versions("gen/3", "gen/3", "3", "3")
    assert explain(VerificationStatus.MATCH, same, ["gen/3"], [], None) == (
        "Match: every rendering made again from the pins is byte for byte the one stored."
    )
    older = Versions("gen/2", "gen/3", "1", "3")
    mismatch = explain(VerificationStatus.MISMATCH, older, ["gen/2", "gen/3"], ["html"], "assumptions/CA2")
    assert mismatch == (
        "Mismatch: made again from its pins, the edition differs first at assumptions/CA2 (made by generator "
        "gen/2; this service is generator gen/3; rendered with template 1; this service renders template 3)."
    )
    gone = explain(VerificationStatus.CANNOT_VERIFY, Versions("gen/1", "gen/3", "1", "3"), ["gen/2", "gen/3"], [], None)
    assert gone.startswith("Cannot verify: made by generator gen/1; this service is generator gen/3")
    assert "gen/2, gen/3 only" in gone
