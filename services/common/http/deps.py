"""FastAPI dependencies both services use, as `Annotated` aliases."""

from __future__ import annotations

import json
import re
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.common.errors import FieldPath, InvalidCommandError

POSITION_HEADER = "Stocktake-Log-Position"


# C0 control characters but tab, newline and carriage return, and unpaired
# surrogates (which no UTF-8 text holds, but a JSON escape can).
_UNFIT_FOR_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _unfit(text: str) -> str | None:
    found = _UNFIT_FOR_TEXT.search(text)
    if found is None:
        return None
    kind = "an unpaired surrogate" if found.group() >= "\ud800" else "a control character"
    return f"{kind} (U+{ord(found.group()):04X})"


async def refuse_nul_characters(request: Request) -> None:
    """No text the API reads may hold a NUL or another control character (tab
    and newline aside) or an unpaired surrogate: PostgreSQL cannot store a NUL
    nor UTF-8 a surrogate, and both stores must answer alike. Query and path
    parameters and the strings of a JSON body are checked."""
    for location, values in (("query", request.query_params), ("path", request.path_params)):
        for name, value in values.items():
            if (unfit := _unfit(str(value))) is not None:
                raise InvalidCommandError.at((name,), f"The {location} parameter {name!r} holds {unfit}.", location)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return
    body = await request.body()
    if not any(marker in body for marker in (b"\\u", b"\xed", b"\x00")):
        # JSON refuses raw control characters in its strings, so in UTF-8 only an escape (\u0000) can
        # make one, and only bytes ED A0..BF (json.loads reads bytes with surrogatepass) a raw surrogate;
        # UTF-16 and UTF-32 bodies (which json.loads reads too) hold NUL bytes. A body with none of
        # these has nothing to look for: most bodies, and walking a batch's is not cheap.
        return
    try:
        document = json.loads(body)
    except ValueError:
        return  # not JSON: the operation's own reading says so
    if (found := _first_unfit_text(document, ())) is not None:
        path, unfit = found
        raise InvalidCommandError.at(path, f"Text may not hold {unfit}; remove it.")


def _first_unfit_text(value: Any, path: FieldPath) -> tuple[FieldPath, str] | None:
    if isinstance(value, str):
        unfit = _unfit(value)
        return None if unfit is None else (path, unfit)
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = [(key, key) for key in value]  # a member's name is text too
        items += list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, item in items:
        found = _first_unfit_text(item, (*path, key))
        if found is not None:
            return found
    return None


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


def version_answer(service: str, request: Request) -> dict[str, Any]:
    """`GET /version` of either service: its name, the installed package's version and its API's."""
    try:
        package = version("stocktake")
    except PackageNotFoundError:
        package = "unknown"
    return {"service": service, "version": package, "api_version": request.app.version}
