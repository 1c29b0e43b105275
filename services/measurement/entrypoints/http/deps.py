"""FastAPI dependencies of the measurement service, as `Annotated` aliases
(those both services use are in `services.common.http.deps`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.measurement.application.commands import Measurement


async def get_measurement(request: Request) -> Measurement:  # async: no I/O, so no hop to a worker thread
    application: Measurement = request.app.state.measurement
    return application


MeasurementDep = Annotated[Measurement, Depends(get_measurement)]
