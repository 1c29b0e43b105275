"""The import's event encoder (`application/event_codec.py`): for any
events, in any batch, the stored events are the mapper's, or the encoder
fails as the mapper does (equal values of other types, such as 1, 1.0 and
True, in one batch included). Values of types JSON has (texts of any
characters, ints of any size, floats including -0.0, NaN and the
infinities, booleans, None), the transcoder's types, lists and dicts in any
key order, attributes missing or in another order: the events a later
version of the domain, or a bug, might give."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.measurement.application.commands import Measurement
from services.measurement.application.event_codec import RecordedEncoder
from services.measurement.domain.observations import Observation
from services.measurement.domain.values import Dimension

ATTRIBUTES = (
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

texts = st.one_of(
    st.sampled_from(["sex", "female", "BGD", "2019-Q2", "", "1", "null", '"', "\\", "\u2028", "é", "\U0001f600"]),
    st.text(),
    st.sampled_from(list(Dimension)),  # a str subclass, as pydantic gives a disaggregation's dimension
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 1.0, -0.0, 0.0, 1e16, 1e-7, 5e-324, True, False, 10**12, 18.5]),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)
scalars = st.one_of(st.none(), texts, numbers, st.decimals(allow_nan=False), st.uuids())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)
days = st.one_of(st.dates(), st.sampled_from([date(2019, 6, 30), date(2019, 4, 1)]))
moments = st.one_of(
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), None])),
    st.just(datetime(2026, 12, 4, 18, 0, 0, 123456, tzinfo=UTC)),
    st.just(datetime(2026, 12, 4, 18, 0, 0, 0, tzinfo=UTC)),
)
# Values of another type than the domain gives, for the mapper's encoder to write.
other_types = {
    "timestamp": st.one_of(st.dates(), texts),
    "observation_id": st.one_of(texts, st.integers()),
    "period_start": st.one_of(st.datetimes(), texts),
    "period_end": st.one_of(st.datetimes(), st.none()),
}


def _item(keys: tuple[str, ...], parts: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A list of dicts with these keys in this order, mostly; sometimes in another order, with a key more or
    less, or not a dict."""
    item = st.tuples(*(parts for _ in keys)).map(lambda found: dict(zip(keys, found, strict=True)))
    odd = st.one_of(
        st.permutations(keys).flatmap(
            lambda order: st.tuples(*(parts for _ in order)).map(lambda found: dict(zip(order, found, strict=True)))
        ),
        values,
    )
    return st.one_of(st.lists(st.one_of(item, item, item, odd), max_size=4), values)


disaggregations = _item(("dimension", "category", "value"), st.one_of(texts, texts, numbers))
evidence = _item(("title", "url"), st.one_of(texts, texts, scalars))


@st.composite
def recorded_events(draw: st.DrawFn) -> Observation.Recorded:
    attributes: dict[str, Any] = {
        "originator_id": draw(st.uuids()),
        "originator_version": 1,
        "timestamp": draw(moments),
        "originator_topic": draw(st.one_of(st.just("services.measurement.domain.observations:Observation"), texts)),
        "observation_id": draw(st.uuids()),
        "benchmark": draw(st.one_of(st.sampled_from(["CA2-INSPECTION", "CA5"]), values)),
        "assumption": draw(st.one_of(st.just("CA2"), values)),
        "country": draw(st.one_of(st.sampled_from(["BGD", "VNM", None]), values)),
        "sector": draw(st.one_of(st.sampled_from(["garments", None]), values)),
        "period": draw(st.one_of(st.sampled_from(["2019-Q2", "2019-06-30"]), values)),
        "period_start": draw(days),
        "period_end": draw(days),
        "value": draw(st.one_of(numbers, texts, values)),
        "disaggregations": draw(disaggregations),
        "evidence": draw(evidence),
        "comment": draw(st.one_of(st.none(), texts, values)),
        "principal": draw(st.one_of(st.just("test-office"), texts)),
    }
    if draw(st.integers(0, 9)) == 0:
        name = draw(st.sampled_from(sorted(other_types)))
        attributes[name] = draw(other_types[name])
    names = list(ATTRIBUTES)
    if draw(st.integers(0, 19)) == 0:  # another order, or an attribute less or more
        names = draw(st.permutations(names))
        if draw(st.booleans()):
            names.pop()
        else:
            attributes["class_version"] = 2
            names.append("class_version")
    event = object.__new__(Observation.Recorded)
    event.__dict__.update({name: attributes[name] for name in names})
    return event


def _outcome(encode: Any, given: Any) -> Any:
    try:
        return encode(given)
    except Exception as error:  # the same failure, whatever it is
        return type(error)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(recorded_events(), min_size=1, max_size=6))
def test_every_stored_event_is_the_mappers(bare_measurement: Measurement, batch: list[Observation.Recorded]) -> None:
    mapper = bare_measurement.mapper
    encoder = RecordedEncoder(mapper)
    expected = [_outcome(mapper.to_stored_event, event) for event in batch]
    refused = {outcome for outcome in expected if isinstance(outcome, type)}
    if refused:  # the mapper refuses one: so does the encoder, as the mapper refuses one of them
        assert _outcome(encoder.stored, batch) in refused
        return
    assert encoder.stored(batch) == expected


def test_texts_a_batch_shares_are_not_taken_for_equal_values_written_otherwise(
    bare_measurement: Measurement,
) -> None:
    """1, 1.0 and True are equal (and so are 0.0 and -0.0, "sex" and Dimension.SEX) but only some are
    written alike: each event of one batch is written as the mapper writes it alone."""
    mapper = bare_measurement.mapper
    base = {
        "originator_id": UUID(int=1),
        "originator_version": 1,
        "timestamp": datetime(2026, 12, 4, tzinfo=UTC),
        "originator_topic": "services.measurement.domain.observations:Observation",
        "observation_id": UUID(int=1),
        "benchmark": "CA2",
        "assumption": "CA2",
        "country": "BGD",
        "sector": None,
        "period": "2019",
        "period_start": date(2019, 1, 1),
        "period_end": date(2019, 12, 31),
        "value": 1,
        "disaggregations": [],
        "evidence": [],
        "comment": None,
        "principal": "test-office",
    }
    batch = []
    for shared in [1, 1.0, True, 0.0, -0.0, "sex", Dimension.SEX, math.inf, Decimal("1.0"), None, "1"]:
        event = object.__new__(Observation.Recorded)
        event.__dict__.update(
            base,
            benchmark=shared,
            country=shared,
            value=shared,
            comment=shared,
            disaggregations=[{"dimension": shared, "category": shared, "value": shared}],
            evidence=[{"title": shared, "url": shared}],
        )
        batch.append(event)
    assert RecordedEncoder(mapper).stored(batch) == [mapper.to_stored_event(event) for event in batch]
