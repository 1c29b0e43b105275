"""The quick paths the event store and the verifiers take: the unchecked leaf
gives exactly `leaf_bytes`'s bytes, and the one-pass root is MTH."""

from __future__ import annotations

import hashlib
from datetime import UTC

from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.transparency.leaf import (
    MAX_INTEGER,
    leaf_bytes,
    leaf_bytes_around,
    leaf_bytes_between,
    leaf_bytes_unchecked,
)
from services.common.transparency.merkle import root_from_leaf_hashes
from services.common.transparency.stream import RootAccumulator

# Any valid Unicode text (no lone surrogates), control characters, U+2028/9 and astral ones included.
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
moments = st.datetimes(timezones=st.just(UTC)).map(lambda m: m.isoformat(timespec="microseconds"))
# A leaf's six fields, drawn for each test that compares two ways of making it.
leaf_fields = settings(max_examples=2000)(
    given(
        position=st.integers(0, MAX_INTEGER),
        stream_id=texts,
        version=st.integers(0, MAX_INTEGER),
        topic=texts,
        recorded_at=moments,
        payload=texts,
    )
)


@leaf_fields
def test_the_unchecked_leaf_is_byte_for_byte_the_canonical_one(
    position: int, stream_id: str, version: int, topic: str, recorded_at: str, payload: str
) -> None:
    fields = {
        "position": position,
        "stream_id": stream_id,
        "version": version,
        "topic": topic,
        "recorded_at": recorded_at,
        "payload": payload,
    }
    assert leaf_bytes_unchecked(**fields) == leaf_bytes(**fields)  # type: ignore[arg-type]


def test_every_control_character_is_escaped_as_rfc_8785_says() -> None:
    every = "".join(chr(c) for c in range(0x20)) + '"\\\x7f\u2028\ud7ff\ue000\U0001f600'
    fields = {
        "position": 1,
        "stream_id": every,
        "version": 0,
        "topic": every,
        "recorded_at": "2021-01-01T00:00:00Z",
        "payload": every,
    }
    assert leaf_bytes_unchecked(**fields) == leaf_bytes(**fields)  # type: ignore[arg-type]


def test_the_one_pass_root_is_the_tree_head_at_every_size() -> None:
    hashes = [hashlib.sha256(bytes([n % 256, n // 256])).digest() for n in range(300)]
    accumulator = RootAccumulator()
    assert accumulator.root() == root_from_leaf_hashes([])
    for size, leaf_hash in enumerate(hashes, start=1):
        accumulator.append(leaf_hash)
        assert accumulator.size == size
        assert accumulator.root() == root_from_leaf_hashes(hashes[:size])


@leaf_fields
def test_the_leaf_around_its_position_and_time_is_the_leaf(
    position: int, stream_id: str, version: int, topic: str, recorded_at: str, payload: str
) -> None:
    before, after = leaf_bytes_around(stream_id=stream_id, version=version, topic=topic, payload=payload)
    leaf = leaf_bytes(
        position=position, stream_id=stream_id, version=version, topic=topic, recorded_at=recorded_at, payload=payload
    )
    assert before + leaf_bytes_between(position, recorded_at) + after == leaf


def test_the_leaf_around_every_control_character() -> None:
    every = "".join(chr(c) for c in range(0x20)) + '"\\\x7f\u2028\ud7ff\ue000\U0001f600'
    before, after = leaf_bytes_around(stream_id=every, version=0, topic=every, payload=every)
    fields = {"stream_id": every, "version": 0, "topic": every, "payload": every}
    leaf = leaf_bytes(position=1, recorded_at="2021-01-01T00:00:00Z", **fields)  # type: ignore[arg-type]
    assert before + leaf_bytes_between(1, "2021-01-01T00:00:00Z") + after == leaf
