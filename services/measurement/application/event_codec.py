"""The stored form of a batch's `Observation.Recorded` events, made in fewer
steps than the application's mapper takes, byte for byte the same.

`Mapper.to_stored_event` copies the event's attributes but its id and
version, and has the transcoder's JSON encoder write them, calling back into
Python for each value JSON has no type for (the event's time and id, the
period's first and last days). json's C encoder also writes every key of
every object anew and makes a string of each token: a batch import spent
more time there than in the domain's checks.

Here an event's state is written as that encoder writes it, one attribute
at a time: JSON text is compositional (with no indent and no sorting, an
object is `{`, then each key's and value's texts joined by `:` and `,`, then
`}`), so each part can be written on its own and the parts joined. The keys'
texts are made once. The four transcoded values are written as the
transcoder's `{"_type_": ..., "_data_": ...}` objects, by its own
transcodings. A value JSON has a type for is written as the C encoder
writes it: a text by its `encode_basestring`, an int and a finite float by
their `__repr__`, None as `null`; a list of objects of the expected keys
(disaggregated values, evidence) item by item the same way; anything else
by the encoder itself (json's C encoder made once with the transcoder's
settings, without the check for cycles: an event's state is a tree). The
texts a batch's rows share (the benchmark, the country, the period and its
days, a disaggregation's dimension and category, the evidence) are written
once per batch. An encoder that would not give the mapper's bytes (another
transcoder, a compressor or a cipher, an event class version) is not made:
the mapper is used, as it is for an event whose attributes are not those
of `Recorded` in their order."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent, Transcoding
from eventsourcing.utils import get_topic

from services.measurement.domain.observations import Observation

# The attributes of a Recorded event JSON has no type for, and the type each has.
_TRANSCODED = (("timestamp", datetime), ("observation_id", UUID), ("period_start", date), ("period_end", date))
# A Recorded event's attributes, in the order `Observation.recorded` gives them (the stored state: all but
# the first two).
_ATTRIBUTES = (
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "observation_id",
    "benchmark",
    "assumption",
    "country",
    "sector",
    "period",
    "period_start",
    "period_end",
    "value",
    "disaggregations",
    "evidence",
    "comment",
    "principal",
)
_DISAGGREGATION_KEYS = ("dimension", "category", "value")
_EVIDENCE_KEYS = ("title", "url")

Encode = Callable[[Sequence[Observation.Recorded]], list[bytes | None]]


class RecordedEncoder:
    def __init__(self, mapper: Mapper[UUID]) -> None:
        self.mapper = mapper
        self._encode: Encode | None = _encoder(mapper)

    def stored(self, events: Sequence[Observation.Recorded]) -> list[StoredEvent]:
        """What `mapper.to_stored_event` gives for each event."""
        encode = self._encode
        if encode is None:
            return [self.mapper.to_stored_event(event) for event in events]
        topic = _RECORDED_TOPIC
        return [
            self.mapper.to_stored_event(event)  # a value of a type not expected here: the mapper's way
            if state is None
            else StoredEvent(
                originator_id=event.originator_id,
                originator_version=event.originator_version,
                topic=topic,
                state=state,
            )
            for event, state in zip(events, encode(events), strict=True)
        ]


_RECORDED_TOPIC = get_topic(Observation.Recorded)


@lru_cache(maxsize=8)
def recorded_encoder(mapper: Mapper[UUID]) -> RecordedEncoder:
    """The encoder of the application whose mapper this is (made once)."""
    return RecordedEncoder(mapper)


def _encoder(mapper: Mapper[UUID]) -> Encode | None:
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
    if any(kind not in transcoder.types for _, kind in _TRANSCODED):
        return None
    chunks = c_make_encoder(None, settings.default, encode_basestring, None, ":", ",", False, False, True)
    return _StateWriter(chunks, transcoder.types).states


class _StateWriter:
    """Writes Recorded events' states as the transcoder's encoder writes them (see the module's docstring)."""

    def __init__(self, chunks: Callable[[Any, int], Sequence[str]], types: dict[type, Transcoding]) -> None:
        self.chunks = chunks
        self.moment, self.identity, self.day = types[datetime], types[UUID], types[date]
        # The state's text but for its values': the keys' texts made once, and the transcoder's objects for
        # the event's time and id but for their data. An event's text is these joined with its values'.
        heads = {
            "timestamp": self._transcoded_head(self.moment),
            "observation_id": self._transcoded_head(self.identity),
        }
        pieces, before = [], "{"
        for name in _ATTRIBUTES[2:]:
            head = heads.get(name)
            pieces.append(before + encode_basestring(name) + ":" + (head or ""))
            before = "}," if head else ","
        pieces.append(before[:-1] + "}")
        self.pieces = tuple(pieces)
        # A disaggregated value's text up to its value's, and an evidence's, with a %s for each text's.
        dimension, category, value = map(encode_basestring, _DISAGGREGATION_KEYS)
        self.disaggregation_head = f"{{{dimension}:%s,{category}:%s,{value}:"
        title, url = map(encode_basestring, _EVIDENCE_KEYS)
        self.evidence_item = f"{{{title}:%s,{url}:%s}}"

    @staticmethod
    def _transcoded_head(transcoding: Transcoding) -> str:
        """The text of the transcoder's object for a value, up to its `_data_`'s value."""
        kind, name, data = map(encode_basestring, ("_type_", transcoding.name, "_data_"))
        return f"{{{kind}:{name},{data}:"

    def json(self, value: Any) -> str:
        """What the encoder writes for `value`."""
        return "".join(self.chunks(value, 0))

    def states(self, events: Sequence[Observation.Recorded]) -> list[bytes | None]:
        """Each event's stored state, or None for one the mapper is to write."""
        # Texts written once per batch, by value (a batch's rows share most of them): `text or write`, as
        # no JSON text is empty.
        texts: dict[Any, str] = {}
        days: dict[date, str] = {}
        heads: dict[tuple[Any, Any], str] = {}
        items: dict[tuple[Any, Any], str] = {}
        shared, day, scalar = self._shared, self._day, self._scalar
        moment, identity = self.moment.encode, self.identity.encode
        p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15 = self.pieces
        states: list[bytes | None] = []
        for event in events:
            attributes = event.__dict__
            if tuple(attributes) != _ATTRIBUTES:
                states.append(None)
                continue
            timestamp, observation_id = attributes["timestamp"], attributes["observation_id"]
            start, end = attributes["period_start"], attributes["period_end"]
            if type(timestamp) is not datetime or type(observation_id) is not UUID:
                states.append(None)  # the mapper's encoder looks their types up: its way
                continue
            if type(start) is not date or type(end) is not date:
                states.append(None)
                continue
            try:
                parts = (
                    p0,
                    scalar(moment(timestamp)),
                    p1,
                    texts.get(attributes["originator_topic"]) or shared(texts, attributes["originator_topic"]),
                    p2,
                    scalar(identity(observation_id)),
                    p3,
                    texts.get(attributes["benchmark"]) or shared(texts, attributes["benchmark"]),
                    p4,
                    texts.get(attributes["assumption"]) or shared(texts, attributes["assumption"]),
                    p5,
                    texts.get(attributes["country"]) or shared(texts, attributes["country"]),
                    p6,
                    texts.get(attributes["sector"]) or shared(texts, attributes["sector"]),
                    p7,
                    texts.get(attributes["period"]) or shared(texts, attributes["period"]),
                    p8,
                    days.get(start) or day(days, start),
                    p9,
                    days.get(end) or day(days, end),
                    p10,
                    scalar(attributes["value"]),
                    p11,
                    self._disaggregations(attributes["disaggregations"], heads),
                    p12,
                    self._evidence(attributes["evidence"], items),
                    p13,
                    scalar(attributes["comment"]),
                    p14,
                    texts.get(attributes["principal"]) or shared(texts, attributes["principal"]),
                    p15,
                )
            except (TypeError, RecursionError):  # a value of a type not expected here: the mapper's way
                states.append(None)
                continue
            states.append("".join(parts).encode("utf8"))
        return states

    def _scalar(self, value: Any) -> str:
        """What the encoder writes for `value`: as json's C encoder writes a finite float, a text, None or an
        int (float's repr, its encode_basestring, null, int's repr); anything else, by the encoder."""
        kind = type(value)
        if kind is float and math.isfinite(value):
            return repr(value)
        if kind is str:
            return encode_basestring(value)
        if value is None:
            return "null"
        if kind is int:
            return repr(value)
        return self.json(value)

    def _shared(self, written: dict[Any, str], value: Any) -> str:
        """The text of a value, kept if its equals have the same text: a text (whose equals have its
        characters), None, or a tuple of texts; values of other types may be equal but written otherwise,
        as 1, 1.0 and True are."""
        text = self._scalar(value)
        if _kept(value):
            written[value] = text
        return text

    def _day(self, days: dict[date, str], day: date) -> str:
        """The transcoder's object for a day."""
        days[day] = text = self.json({"_type_": self.day.name, "_data_": self.day.encode(day)})
        return text

    def _disaggregations(self, values: Any, heads: dict[tuple[Any, Any], str]) -> str:
        """Disaggregated values, each's text up to its value's written once per batch."""
        if type(values) is not list:
            return self.json(values)
        written = []
        for item in values:
            if type(item) is not dict or tuple(item) != _DISAGGREGATION_KEYS:
                written.append(self.json(item))
                continue
            pair = (item["dimension"], item["category"])
            head = heads.get(pair)
            if head is None:
                head = self.disaggregation_head % tuple(map(self._scalar, pair))
                if _kept(pair[0]) and _kept(pair[1]):
                    heads[pair] = head
            written.append(head + self._scalar(item["value"]) + "}")
        return "[" + ",".join(written) + "]"

    def _evidence(self, values: Any, items: dict[tuple[Any, Any], str]) -> str:
        if type(values) is not list:
            return self.json(values)
        written = []
        for item in values:
            if type(item) is not dict or tuple(item) != _EVIDENCE_KEYS:
                written.append(self.json(item))
                continue
            pair = (item["title"], item["url"])
            text = items.get(pair)
            if text is None:
                text = self.evidence_item % tuple(map(self._scalar, pair))
                if _kept(pair[0]) and _kept(pair[1]):
                    items[pair] = text
            written.append(text)
        return "[" + ",".join(written) + "]"


def _kept(value: Any) -> bool:
    return value is None or (isinstance(value, str) and type(value).__eq__ is str.__eq__)
