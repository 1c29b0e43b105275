"""The baselines bench/ingest.py measures the service against: small FastAPI apps
on the same stack, served exactly as the service is (uvicorn, a factory, the
same workers and log level), that read the same request bodies with the
service's own schemas (so they carry the same HTTP and validation costs) and
do the least a durable write needs.

* `minimal`: POST /observations -> `ObservationCreate` -> one SQLAlchemy Core
  INSERT + COMMIT of a row shaped like `stored_events`.
* `copy`: POST /observations/batch -> `ObservationBatch`, each row read as an
  `ObservationCreate` -> one COPY (SQLite: one executemany INSERT) + COMMIT.
* `eventsourcing`: POST /observations -> `ObservationCreate` -> the
  `eventsourcing` library's own Application (its PostgreSQL or SQLite
  recorder) saves one new aggregate.

Serve one:  python -m bench.baselines KIND --port P --workers W --database-url URL
(the bench does this, and serves the service itself the same way: KIND
`service` is what `stocktake serve` runs; the URL goes to the workers through
the environment)."""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import uvicorn
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from fastapi import FastAPI, status
from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, MetaData, Table, Text, Uuid, insert
from sqlalchemy.engine import make_url

from services.common.database import Database
from services.measurement.entrypoints.http.schemas.imports import ObservationBatch
from services.measurement.entrypoints.http.schemas.observations import ObservationCreate

URL_VARIABLE = "STOCKTAKE_BASELINE_DATABASE_URL"
TOPIC = "bench.baselines:Recorded"
metadata = MetaData()
minimal_events = Table(
    "bench_minimal_events",
    metadata,
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("originator_id", Uuid, nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("topic", Text, nullable=False),
    Column("state", LargeBinary, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, index=True),
)


def _database() -> Database:
    return Database(os.environ[URL_VARIABLE])


def create_tables(url: str) -> None:
    """The minimal and COPY baselines' table, made (afresh) before they are served."""
    database = Database(url)
    try:
        metadata.drop_all(database.engine)
        metadata.create_all(database.engine)
    finally:
        database.dispose()


def _row(body: ObservationCreate) -> dict[str, Any]:
    return {
        "originator_id": uuid.uuid4(),
        "originator_version": 1,
        "topic": TOPIC,
        "state": body.model_dump_json().encode(),
        "recorded_at": datetime.now(UTC),
    }


def minimal_app() -> FastAPI:
    state: dict[str, Database] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["database"] = _database()
        yield
        state["database"].dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/observations", status_code=status.HTTP_201_CREATED)
    def record(body: ObservationCreate) -> dict[str, Any]:
        row = _row(body)
        with state["database"].transaction() as connection:
            position = connection.execute(insert(minimal_events).values(row).returning(minimal_events.c.position))
            return {"id": str(row["originator_id"]), "position": position.scalar_one()}

    return app


def copy_app() -> FastAPI:
    state: dict[str, Database] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["database"] = _database()
        yield
        state["database"].dispose()

    app = FastAPI(lifespan=lifespan)
    columns = [column.name for column in minimal_events.columns if column.name != "position"]

    @app.post("/observations/batch")
    def import_batch(body: ObservationBatch) -> dict[str, Any]:
        rows = [_row(ObservationCreate.model_validate(item)) for item in body.observations]
        database = state["database"]
        with database.transaction() as connection:
            if database.is_postgresql:
                cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
                with cursor.copy(f"COPY {minimal_events.name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[name] for name in columns])
            else:
                connection.execute(insert(minimal_events), rows)
        return {"counts": {"imported": len(rows)}}

    return app


class Recorded(Aggregate):
    """An observation as the library's own aggregate (one `Created` event)."""

    def __init__(self, observation: dict[str, Any]) -> None:
        self.observation = observation


class Observations(Application[uuid.UUID]):
    def record(self, observation: dict[str, Any]) -> uuid.UUID:
        aggregate = Recorded(observation)
        self.save(aggregate)
        return aggregate.id


def eventsourcing_app() -> FastAPI:
    url = make_url(os.environ[URL_VARIABLE])
    if url.get_backend_name() == "sqlite":
        # A file of its own: the library's SQLite recorder names its table stored_events, as the service does.
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{url.database}.eventsourcing"}
    else:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(url.database),
            "POSTGRES_HOST": url.host or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres",
            "POSTGRES_PASSWORD": url.password or "",
        }
    state: dict[str, Observations] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["application"] = Observations(env=env)
        yield
        state["application"].close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/observations", status_code=status.HTTP_201_CREATED)
    def record(body: ObservationCreate) -> dict[str, Any]:
        return {"id": str(state["application"].record(body.model_dump(mode="json")))}

    return app


FACTORIES = {
    "service": "services.measurement.entrypoints.http.app:serving_app",
    "minimal": "bench.baselines:minimal_app",
    "copy": "bench.baselines:copy_app",
    "eventsourcing": "bench.baselines:eventsourcing_app",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=sorted(FACTORIES))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    os.environ[URL_VARIABLE] = args.database_url
    os.environ["STOCKTAKE_DATABASE_URL"] = args.database_url  # as `stocktake serve` passes it to the service
    # As `stocktake serve` runs the service (services/measurement/entrypoints/cli.py), but for the health
    # check: on a busy machine a worker still importing misses uvicorn's 5 s and is killed, again and again.
    uvicorn.run(
        FACTORIES[args.kind],
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        timeout_worker_healthcheck=60,
    )


if __name__ == "__main__":
    main()
