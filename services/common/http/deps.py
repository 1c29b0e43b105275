"""FastAPI dependencies both services use, as `Annotated` aliases."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.common.errors import InvalidCommandError

POSITION_HEADER = "Stocktake-Log-Position"


def refuse_nul_characters(request: Request) -> None:
    """No text the API reads may hold a NUL character: PostgreSQL cannot store
    or compare one, and no code, country or name needs it."""
    for location, values in (("query", request.query_params), ("path", request.path_params)):
        for name, value in values.items():
            if "\x00" in str(value):
                raise InvalidCommandError.at(
                    (name,), f"The {location} parameter {name!r} holds a NUL character.", location
                )


_ETAG = re.compile(r'(W/)?"([0-9]{1,9})"')
# No stream has version 0: what a weak tag stands for, as If-Match compares
# strongly (RFC 9110 §13.1.1) and a weak tag never matches.
NEVER_MATCHES = 0


def based_on(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=200,
            description='The ETag of the version this change is based on, e.g. "3" (required)',
        ),
    ] = None,
) -> list[int] | None:
    """The versions named by If-Match (empty for `*`; a weak tag names none),
    None when it is absent."""
    if if_match is None:
        return None
    if if_match.strip() == "*":
        return []
    versions = []
    for tag in if_match.split(","):
        match = _ETAG.fullmatch(tag.strip())
        if match is None:
            raise InvalidCommandError.at(
                ("If-Match",),
                f'If-Match must hold ETags as this API sends them, e.g. "3"; got {tag.strip()!r}.',
                "header",
            )
        versions.append(NEVER_MATCHES if match.group(1) else int(match.group(2)))
    return versions


BasedOnDep = Annotated[list[int] | None, Depends(based_on)]


def answer_at(response: Response, position: int) -> None:
    """Every read says which log position it reflects, in a header too."""
    response.headers[POSITION_HEADER] = str(position)


def created(schema: type[BaseModel], answer: dict[str, Any], location: str | None = None) -> JSONResponse:
    """A 201 with the answer in its schema, its position, and its Location and
    ETag where it has them (a response a retry can be given again whole)."""
    response = JSONResponse(schema.model_validate(answer).model_dump(mode="json"), status_code=201)
    answer_at(response, answer["position"])
    if location is not None:
        response.headers["Location"] = location
    if "version" in answer:
        response.headers["ETag"] = f'"{answer["version"]}"'
    return response
