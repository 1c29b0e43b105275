"""The stored form of a batch's `Observation.Recorded` events, made in fewer
steps than the application's mapper takes, byte for byte the same.

`Mapper.to_stored_event` copies the event's attributes but its id and
version, and has the transcoder's JSON encoder write them, calling back into
Python for each value JSON has no type for (the event's time and id, the
period's first and last days): a batch import spent more time there than in
the domain's checks. Here those four values are transcoded before the
encoder sees them, by the transcoder's own transcodings, and the encoder is
json's C encoder made once with the transcoder's settings (no separators
but "," and ":", text as itself, its `default` for any other value), without
the check for cycles (an event's state is a tree). An encoder that would not
give the mapper's bytes (another transcoder, a compressor or a cipher, an
event class version) is not made: the mapper is used."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from services.measurement.domain.observations import Observation

# The attributes of a Recorded event JSON has no type for, and the type each has.
_TRANSCODED = (("timestamp", datetime), ("observation_id", UUID), ("period_start", date), ("period_end", date))


class RecordedEncoder:
    def __init__(self, mapper: Mapper[UUID]) -> None:
        self.mapper = mapper
        self._encode: Callable[[Observation.Recorded], bytes] | None = _encoder(mapper)

    def stored(self, events: Sequence[Observation.Recorded]) -> list[StoredEvent]:
        """What `mapper.to_stored_event` gives for each event."""
        encode = self._encode
        if encode is None:
            return [self.mapper.to_stored_event(event) for event in events]
        topic = _RECORDED_TOPIC
        stored = []
        for event in events:
            try:
                state = encode(event)
            except (KeyError, RecursionError):  # a value of a type not expected here: the mapper's way
                stored.append(self.mapper.to_stored_event(event))
                continue
            stored.append(
                StoredEvent(
                    originator_id=event.originator_id,
                    originator_version=event.originator_version,
                    topic=topic,
                    state=state,
                )
            )
        return stored


_RECORDED_TOPIC = get_topic(Observation.Recorded)


@lru_cache(maxsize=8)
def recorded_encoder(mapper: Mapper[UUID]) -> RecordedEncoder:
    """The encoder of the application whose mapper this is (made once)."""
    return RecordedEncoder(mapper)


def _encoder(mapper: Mapper[UUID]) -> Callable[[Observation.Recorded], bytes] | None:
    transcoder = mapper.transcoder
    if (
        c_make_encoder is None
        or mapper.compressor is not None
        or mapper.cipher is not None
        or type(transcoder) is not JSONTranscoder
        or getattr(Observation.Recorded, "class_version", 1) != 1
    ):
        return None
    settings = transcoder.encoder
    if settings.ensure_ascii or settings.indent is not None or settings.sort_keys or settings.skipkeys:
        return None
    if (settings.item_separator, settings.key_separator) != (",", ":") or not settings.allow_nan:
        return None
    chunks = c_make_encoder(None, settings.default, encode_basestring, None, ":", ",", False, False, True)
    if any(kind not in transcoder.types for _, kind in _TRANSCODED):
        return None
    moment, identity, day = transcoder.types[datetime], transcoder.types[UUID], transcoder.types[date]
    moment_name, identity_name, day_name = moment.name, identity.name, day.name

    def encode(event: Observation.Recorded) -> bytes:
        state: dict[str, Any] = dict(event.__dict__)
        del state["originator_id"], state["originator_version"]
        timestamp, observation_id = state["timestamp"], state["observation_id"]
        start, end = state["period_start"], state["period_end"]
        if type(timestamp) is not datetime or type(observation_id) is not UUID:
            raise KeyError("timestamp")  # the mapper's encoder looks their types up: its way
        if type(start) is not date or type(end) is not date:
            raise KeyError("period")
        state["timestamp"] = {"_type_": moment_name, "_data_": moment.encode(timestamp)}
        state["observation_id"] = {"_type_": identity_name, "_data_": identity.encode(observation_id)}
        state["period_start"] = {"_type_": day_name, "_data_": day.encode(start)}
        state["period_end"] = {"_type_": day_name, "_data_": day.encode(end)}
        return "".join(chunks(state, 0)).encode("utf8")

    return encode
