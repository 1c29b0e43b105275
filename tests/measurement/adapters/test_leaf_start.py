"""The event store begins each event's leaf hash before the log's lock (in the saving request's thread)
and finishes it under the lock with the position and recorded time: the same hash as the leaf made whole."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from services.measurement.adapters.event_store import finished_leaf_hashes, leaf_starts
from services.measurement.adapters.merkle_nodes import event_leaf_hash

texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
stored_events = st.builds(
    StoredEvent,
    originator_id=st.uuids(),
    originator_version=st.integers(0, 2**53 - 1),
    topic=texts,
    state=texts.map(lambda text: text.encode("utf-8")),
)
moments = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
) | st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 1, 1)).map(
    lambda m: m.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=5)))
)


@settings(max_examples=500)
@given(events=st.lists(stored_events, max_size=5), first=st.integers(1, 2**53 - 10), recorded_at=moments)
def test_a_leaf_hash_begun_before_the_lock_is_the_leaf_hash(
    events: list[StoredEvent], first: int, recorded_at: datetime
) -> None:
    expected = [
        event_leaf_hash(
            position=position,
            originator_id=event.originator_id,
            version=event.originator_version,
            topic=event.topic,
            recorded_at=recorded_at,
            state=event.state,
        )
        for position, event in enumerate(events, first)
    ]
    starts = leaf_starts(events)
    assert finished_leaf_hashes(starts, first, recorded_at) == expected
    # Finished again (a group written anew, save by save, after its transaction failed): the same hashes.
    assert finished_leaf_hashes(starts, first, recorded_at) == expected


def test_a_stream_id_given_as_text_is_hashed_as_the_row_stores_it() -> None:
    stream = uuid.uuid4()
    moment = datetime(2021, 3, 31, 12, tzinfo=UTC)
    as_text = StoredEvent(originator_id=str(stream).upper(), originator_version=1, topic="T", state=b'{"a":"\\u00e9"}')
    expected = event_leaf_hash(
        position=7, originator_id=stream, version=1, topic="T", recorded_at=moment, state=as_text.state
    )
    assert finished_leaf_hashes(leaf_starts([as_text]), 7, moment) == [expected]
