"""The canonical byte form of a logged event (RFC 8785 JSON). Refusals first."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.transparency import leaf as leaf_module
from services.common.transparency.leaf import LEAF_MEMBERS, MAX_INTEGER, leaf_bytes
from services.common.transparency.merkle import hash_leaf

EVENT: dict[str, Any] = {
    "position": 7,
    "stream_id": "4f1c",
    "version": 2,
    "topic": "ObservationRecorded",
    "recorded_at": "2021-03-31T12:00:00Z",
    "payload": '{"value":1}',
}
EXPECTED = (
    b'{"payload":"{\\"value\\":1}","position":7,"recorded_at":"2021-03-31T12:00:00Z","stream_id":"4f1c",'
    b'"topic":"ObservationRecorded","version":2}'
)


# --- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"position": -1}, "position must be an integer from 0 to 2\\*\\*53 - 1, not -1"),
        ({"position": MAX_INTEGER + 1}, "position must be an integer"),
        ({"position": True}, "position must be an integer"),
        ({"position": 7.0}, "position must be an integer"),
        ({"version": -2}, "version must be an integer"),
        ({"version": "2"}, "version must be an integer"),
        ({"stream_id": 4}, "stream_id must be a string, not int"),
        ({"topic": None}, "topic must be a string, not NoneType"),
        ({"payload": b"{}"}, "payload must be a string, not bytes"),
        ({"payload": '{"a":"\ud800"}'}, "payload is not valid Unicode text"),
        ({"recorded_at": "yesterday"}, "recorded_at must be an ISO-8601 timestamp, not 'yesterday'"),
        ({"recorded_at": "2021-03-31T12:00:00"}, "recorded_at must be in UTC"),
        ({"recorded_at": "2021-03-31"}, "recorded_at must be in UTC"),
        ({"recorded_at": "2021-03-31T14:00:00+02:00"}, "recorded_at must be in UTC"),
    ],
)
def test_fields_that_cannot_be_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        leaf_bytes(**{**EVENT, **change})


def test_the_fields_are_keyword_only_and_all_required() -> None:
    with pytest.raises(TypeError):
        leaf_bytes(*EVENT.values())  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        leaf_bytes(**{name: value for name, value in EVENT.items() if name != "payload"})


# --- the form ----------------------------------------------------------------------------------------------------


def test_the_documented_example_is_byte_for_byte() -> None:
    assert leaf_bytes(**EVENT) == EXPECTED
    assert len(EXPECTED) == 138
    assert "is the 138 bytes" in (leaf_module.__doc__ or "")
    assert hash_leaf(EXPECTED) == hashlib.sha256(b"\x00" + EXPECTED).digest()


def test_members_are_exactly_the_six_in_code_unit_order() -> None:
    decoded = json.loads(leaf_bytes(**EVENT))
    assert list(decoded) == ["payload", "position", "recorded_at", "stream_id", "topic", "version"]
    assert set(decoded) == set(LEAF_MEMBERS)


def test_strings_escape_only_quote_backslash_and_control_characters() -> None:
    payload = '{"note":"tab\\there","city":"Genève","emoji":"🙂","sep":"\u2028"}'
    stream_id = 'quote" back\\ ctl\x01\x1f new\nline del\x7f'
    leaf = leaf_bytes(**{**EVENT, "payload": payload, "stream_id": stream_id})
    assert b'"stream_id":"quote\\" back\\\\ ctl\\u0001\\u001f new\\nline del\x7f"' in leaf
    assert "Genève".encode() in leaf and "🙂".encode() in leaf and "\u2028".encode() in leaf
    assert b'"payload":"{\\"note\\":\\"tab\\\\there\\"' in leaf


def test_the_payload_is_committed_to_as_its_exact_text() -> None:
    spaced, compact = '{"value": 1}', '{"value":1}'
    assert leaf_bytes(**{**EVENT, "payload": spaced}) != leaf_bytes(**{**EVENT, "payload": compact})
    assert json.loads(leaf_bytes(**{**EVENT, "payload": spaced}))["payload"] == spaced


@pytest.mark.parametrize(
    "recorded_at", ["2021-03-31T12:00:00Z", "2021-03-31T12:00:00.123456+00:00", "2021-03-31T12:00:00.5-00:00"]
)
def test_utc_timestamps_are_kept_exactly_as_given(recorded_at: str) -> None:
    assert json.loads(leaf_bytes(**{**EVENT, "recorded_at": recorded_at}))["recorded_at"] == recorded_at


def test_integers_at_the_edges_of_the_range() -> None:
    assert b'"position":0,' in leaf_bytes(**{**EVENT, "position": 0})
    assert b'"position":9007199254740991,' in leaf_bytes(**{**EVENT, "position": MAX_INTEGER})


text = st.text(st.characters(codec="utf-8"))


@given(
    position=st.integers(0, MAX_INTEGER),
    version=st.integers(0, MAX_INTEGER),
    stream_id=text,
    topic=text,
    payload=text,
)
def test_the_leaf_decodes_to_exactly_its_fields_and_is_canonical(
    position: int, version: int, stream_id: str, topic: str, payload: str
) -> None:
    fields: dict[str, Any] = {
        "position": position,
        "stream_id": stream_id,
        "version": version,
        "topic": topic,
        "recorded_at": "2021-03-31T12:00:00Z",
        "payload": payload,
    }
    leaf = leaf_bytes(**fields)
    assert json.loads(leaf) == fields
    assert b"\n" not in leaf  # newlines in strings are escaped, and there is no whitespace between tokens
    assert leaf == json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
