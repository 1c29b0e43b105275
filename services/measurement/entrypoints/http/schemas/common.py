"""Building blocks shared by the request and response schemas."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from services.common.errors import InvalidCommandError
from services.measurement.adapters.countries import closest_countries, iso3_of
from services.measurement.domain.framework import PROGRAMME_WINDOW
from services.measurement.domain.values import MAX_TEXT_VALUE_LENGTH, Period

MAX_REASON_LENGTH = 2000
MAX_TITLE_LENGTH = 300
MAX_DESCRIPTION_LENGTH = 10_000
MAX_LIST_LENGTH = 100


class RequestModel(BaseModel):
    """Unknown fields are refused; values are not coerced across JSON types
    (strings stay strings, see `Value`, `IsoDate` and `StrictBool`)."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=False)


def _json_value(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("Give a number, or a text for ordinal, nominal and qualitative benchmarks.")
    if isinstance(value, str) and len(value) > MAX_TEXT_VALUE_LENGTH:
        raise ValueError(f"A text value is at most {MAX_TEXT_VALUE_LENGTH} characters.")
    return value


Value = Annotated[
    Any,
    BeforeValidator(_json_value),
    WithJsonSchema({"oneOf": [{"type": "number"}, {"type": "string", "maxLength": MAX_TEXT_VALUE_LENGTH}]}),
]


def _iso_date(value: Any) -> Any:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("Give a date as YYYY-MM-DD.")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
IsoDate = Annotated[date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="Letters, digits, . _ -")]
Reason = Annotated[str, Field(min_length=1, max_length=MAX_REASON_LENGTH, description="Why; kept in the history")]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("Give a text that is not only spaces.")
    return value


# A name or title: something to read, so not only spaces.
Title = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TITLE_LENGTH, json_schema_extra={"pattern": r"\S"}),
    AfterValidator(_not_blank),
]
Text = Annotated[str, Field(max_length=MAX_DESCRIPTION_LENGTH)]
MAX_COUNTRY_LENGTH = 100


def _country(value: Any) -> Any:
    """A country as people write it ("bgd", "BD", "Bangladesh"), as its alpha-3 code."""
    if not isinstance(value, str) or len(value) > MAX_COUNTRY_LENGTH:
        return value  # the type and length checks say what is wrong
    iso3 = iso3_of(value)
    if iso3 is not None:
        return iso3
    closest = closest_countries(value)
    hint = f"; did you mean {' or '.join(closest)}?" if closest else "."
    raise ValueError(
        f"{value!r} is not a country: give its ISO 3166-1 alpha-3 code (BGD), alpha-2 code (BD) or English "
        f"name (Bangladesh){hint}"
    )


Country = Annotated[
    str,
    BeforeValidator(_country),
    Field(max_length=MAX_COUNTRY_LENGTH),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_COUNTRY_LENGTH,
            "description": "A country: its ISO 3166-1 alpha-3 code in any case (BGD, bgd), its alpha-2 code (BD) "
            "or its English name (Bangladesh); read as the alpha-3 code",
            "examples": ["BGD"],
        }
    ),
]
# The largest position the store can hold (a signed 64-bit integer).
MAX_POSITION = 2**63 - 1
LogPosition = Annotated[int, Field(ge=0, le=MAX_POSITION, description="Log position")]


def query_period(text: str, parameter: str) -> Period:
    """A query parameter's period (`as_of`, `active_in`): one that has begun, within the programme's window."""
    try:
        period = Period.parse(text, (parameter,))
    except InvalidCommandError as error:
        raise InvalidCommandError.at((parameter,), error.detail, "query") from None
    PROGRAMME_WINDOW.check_holds(period, datetime.now(UTC).date(), (parameter,), "query")
    return period
