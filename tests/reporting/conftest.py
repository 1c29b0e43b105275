"""Both services, with real HTTP between them: measurement served by
uvicorn on a free port of 127.0.0.1 (in a thread of the test process, on
the test's store), and the reporting app, driven through its own ASGI
client, calling measurement at that address with httpx. Reporting's every
read of measurement is a real HTTP request over a socket, as in production;
only the test's requests to reporting skip the network."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from services.common.access import Role
from services.measurement.bootstrap import MeasurementServices
from services.measurement.entrypoints.http.app import create_app as create_measurement_app
from services.reporting.entrypoints.http.app import create_app as create_reporting_app
from services.reporting.settings import ReportingSettings
from tests.support import bearer


class ServedApp:
    """An ASGI app served by uvicorn on a free port of 127.0.0.1 (in a thread)."""

    def __init__(self, app: Any) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the served app did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


ServedMeasurement = ServedApp  # measurement's app, as the reporting tests serve it


@pytest.fixture
def served_measurement(services: MeasurementServices, client: TestClient) -> Iterator[ServedMeasurement]:
    """Measurement (framework loaded, keys issued by `client`'s fixtures) on a real port."""
    with ServedApp(create_measurement_app(services=services)) as served:
        yield served


@pytest.fixture
def reporting(database_url: str, served_measurement: ServedMeasurement) -> Iterator[TestClient]:
    """The reporting app, reading measurement over HTTP at its real address;
    requests carry no key unless a test gives one."""
    settings = ReportingSettings(database_url=database_url, measurement_url=served_measurement.url)
    with TestClient(create_reporting_app(settings)) as reporting_client:
        yield reporting_client


@pytest.fixture
def manager(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.PROGRAMME_MANAGER])
