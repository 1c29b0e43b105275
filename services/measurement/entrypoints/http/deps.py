"""FastAPI dependencies, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from services.measurement.application import Measurement
from services.measurement.domain.errors import InvalidCommandError

POSITION_HEADER = "Stocktake-Log-Position"


def get_measurement(request: Request) -> Measurement:
    application: Measurement = request.app.state.measurement
    return application


def get_principal() -> str:
    # Every event records the principal that caused it. Until API keys exist
    # (the "Country-office API" issue) every HTTP caller is this one principal.
    return "anonymous"


MeasurementDep = Annotated[Measurement, Depends(get_measurement)]
PrincipalDep = Annotated[str, Depends(get_principal)]


def refuse_nul_characters(request: Request) -> None:
    """No text the API reads may hold a NUL character: PostgreSQL cannot store
    or compare one, and no code, country or name needs it."""
    for location, values in (("query", request.query_params), ("path", request.path_params)):
        for name, value in values.items():
            if "\x00" in str(value):
                raise InvalidCommandError.at((name,), f"The {location} parameter {name!r} holds a NUL character.", location)


def answer_at(response: Response, position: int) -> None:
    """Every read says which log position it reflects, in a header too."""
    response.headers[POSITION_HEADER] = str(position)
