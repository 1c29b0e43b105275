"""Speed of the transparency log, on PostgreSQL, side by side in one run.

What it does:
1. Makes a fresh database (`stocktake_bench_audit`), migrates it, records the
   framework, benchmarks, countries and sectors through the application
   (bench/projections.py's set-up), then appends `Observation.Recorded`
   events to the log through the event store's own `insert_events`, 5,000 per
   transaction, so that the Merkle nodes are written as in service.
2. At each size asked (default 100,000 and 1,000,000 events):
   - the store's read rate: every event read back in log order
     (`select_logged`, 20,000 per query, as the rebuild reads them);
   - `audit verify`'s rate: every leaf recomputed from the stored events and
     compared with its stored leaf hash, and the root recomputed and compared
     with the stored tree's; the ratio of the two.
3. At the largest size: inclusion proofs of random positions in the latest
   tree, p50/p95, as the application answers them (one snapshot, one query
   for the tree size, one for the O(log n) nodes, the checkpoint signed),
   and over HTTP (TestClient, the auditor's key).
4. The cost of the tree on the write path: single-event transactions through
   `insert_events` on two stores made alike (`stocktake_bench_audit_tree_on`
   and `_off`, `--write-base` events each), one with the event store as it
   is, one with its tree part switched off (`switch_tree_off`: the head read
   alone, no node written), alternating one by one; the store written
   without the tree is checked to hold no node afterwards.

Usage: python bench/audit.py [--sizes 100000,1000000] [--proofs 1000] [--single 2000] [--write-base 100000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.projections import fresh_database, set_up
from services.common.access import Principal, Role
from services.common.transparency.merkle import NewNode
from services.measurement.adapters.event_store import EventLogRecorder
from services.measurement.application.commands import Measurement
from services.measurement.bootstrap import MeasurementServices, bootstrap
from services.measurement.domain.benchmarks import Benchmark
from services.measurement.domain.observations import Observation
from services.measurement.domain.scope import ProgrammeScope
from services.measurement.entrypoints.cli import run_migrations
from services.measurement.entrypoints.http.app import create_app
from services.measurement.settings import Settings

console = Console(width=150)
PRINCIPAL = "bench-audit"
BATCH = 5_000
READ_PAGE = 20_000


def templates(app: Measurement, codes: list[str], countries: list[str], count: int = 2_000) -> list[StoredEvent]:
    """Real `Observation.Recorded` events as the API stores them; the load reuses their payloads under new
    stream ids (a stored payload does not hold its stream id), so it costs the domain nothing per event."""
    rng = random.Random(2021)
    scope: ProgrammeScope = app.repository.get(ProgrammeScope.create_id("GSC-POA-2017-21"))
    benchmark: Benchmark = app.repository.get(Benchmark.create_id(codes[0]))
    stored: list[StoredEvent] = []
    for index in range(count):
        observation = Observation.record(
            observation_id=uuid4(),
            benchmark=benchmark,
            scope=scope,
            country=rng.choice(countries),
            sector=None,
            period=f"20{17 + index % 5}-{1 + index % 12:02d}",
            value=round(rng.uniform(0, 100), 1),
            disaggregations=[],
            evidence=[],
            comment=f"bench observation {index}",
            principal=PRINCIPAL,
        )
        stored.extend(app.mapper.to_stored_event(event) for event in observation.collect_events())
    return stored


def fresh(template: StoredEvent) -> StoredEvent:
    return StoredEvent(originator_id=uuid4(), originator_version=1, topic=template.topic, state=template.state)


def load(app: Measurement, samples: list[StoredEvent], until: int) -> float:
    """Appends events through insert_events, BATCH per transaction, until the log holds `until`."""
    started = time.perf_counter()
    head = app.event_log.max_notification_id() or 0
    while head < until:
        count = min(BATCH, until - head)
        with app.database.transaction():
            app.event_log.insert_events([fresh(samples[(head + i) % len(samples)]) for i in range(count)])
        head += count
        if head % 100_000 < BATCH:
            console.print(f"  log holds {head:,} events ({time.perf_counter() - started:.0f} s)")
    return time.perf_counter() - started


def read_rate(app: Measurement) -> tuple[int, float]:
    started = time.perf_counter()
    count, after = 0, 0
    while True:
        page = app.event_log.select_logged(after=after, limit=READ_PAGE)
        if not page:
            break
        count += len(page)
        after = page[-1].position
    return count, time.perf_counter() - started


def verify_rate(services: MeasurementServices) -> tuple[int, float]:
    started = time.perf_counter()
    report = services.transparency.verify()
    seconds = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"verify failed on an untouched log: {report.problems}")
    return report.events, seconds


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def proof_latency(services: MeasurementServices, head: int, count: int) -> tuple[list[float], list[float]]:
    rng = random.Random(7)
    in_app = []
    for _ in range(count):
        position = rng.randrange(1, head + 1)
        started = time.perf_counter()
        services.transparency.inclusion(position)
        in_app.append(time.perf_counter() - started)
    token = services.api_keys.issue("bench-auditor", Role.AUDITOR, frozenset(), None, "bench").token
    over_http = []
    with TestClient(create_app(services=services)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        for _ in range(count):
            position = rng.randrange(1, head + 1)
            started = time.perf_counter()
            response = client.get("/transparency/inclusion", params={"position": position})
            over_http.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return in_app, over_http


# The log's head alone, in the rows `head_and_border` reads: what the write path read before the tree.
HEAD_ONLY_SQL = "SELECT -1, coalesce(max(position), 0), NULL FROM stored_events"


def switch_tree_off(recorder: EventLogRecorder) -> None:
    """The event store with the tree's part of the write path switched off, and nothing else changed: the
    head read alone (as before the tree), no node written. On this one object, so that the application
    above it (group commit, projections) is the same. The leaf hashes the application begins before the
    log's lock are still begun (a few microseconds an event, outside the lock)."""

    def no_nodes(*_: Any) -> list[NewNode]:
        return []

    def no_border(*_: Any) -> dict[tuple[int, int], bytes]:
        return {}

    recorder.head_and_border_sql = HEAD_ONLY_SQL
    setattr(recorder, "_tree_nodes", no_nodes)  # noqa: B010  (instance attributes, on purpose)
    setattr(recorder, "_border_after", no_border)  # noqa: B010


def tree_nodes(services: MeasurementServices) -> int:
    with services.database.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM merkle_nodes")).scalar_one())


@dataclass
class WriteStore:
    services: MeasurementServices
    samples: list[StoredEvent]
    codes: list[str]
    office: Principal
    nodes: int | None = None  # with the tree switched off: the nodes it held then, which no write may add to

    def check_tree_off(self) -> None:
        """The switch must hold for whatever path a write takes (a group commit's, `insert_events`'s)."""
        if self.nodes is not None and tree_nodes(self.services) != self.nodes:
            sys.exit("The tree was not switched off: writes added Merkle nodes (see switch_tree_off).")


def settle(services: MeasurementServices) -> None:
    """VACUUM (ANALYZE) the log and its tree, as autovacuum would soon after a load: measured right after
    one, the store still doing that work (on twice the rows when the tree is on) gave figures that were
    the load's, not the write's."""
    with services.database.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("stored_events", "merkle_nodes"):
            connection.execute(text(f"VACUUM (ANALYZE) {table}"))


def store_for_writes(admin_url: str, name: str, base: int, tree: bool) -> WriteStore:
    """A fresh store set up as the main one and loaded to `base` events, by the event store with the tree
    (`tree`) or without it."""
    url = fresh_database(admin_url, name)
    settings = Settings(database_url=url, data_dir=Path(tempfile.mkdtemp(prefix="stocktake-bench-audit-")))
    run_migrations(settings)
    services = bootstrap(settings)
    app = services.measurement
    codes, countries = set_up(app)
    samples = templates(app, codes, countries, 200)
    nodes = tree_nodes(services)  # the set-up's, written with the tree
    if not tree:
        switch_tree_off(app.event_log)
    load(app, samples, base)
    settle(services)
    office = Principal.office("bench", countries)
    store = WriteStore(services, samples, [c for c in codes if c.endswith("-pct")], office)
    if not tree:
        store.nodes = nodes
        store.check_tree_off()
    return store


def _record(store: WriteStore, rng: random.Random) -> None:
    store.services.measurement.record_observation(
        benchmark=rng.choice(store.codes),
        country=rng.choice(sorted(store.office.countries)),
        sector=None,
        period=f"20{rng.randrange(17, 22)}-{rng.randrange(1, 13):02d}",
        value=round(rng.uniform(0, 100), 1),
        disaggregations=[],
        evidence=[],
        comment="bench",
        actor=store.office,
    )


def single_writes(admin_url: str, base: int, total: int) -> tuple[dict[str, dict[str, list[float]]], list[WriteStore]]:
    """On two stores alike but for the tree, alternating one by one (the order swapped each time, so that
    whatever else the machine does falls on both): one-event transactions through `insert_events`, and
    observations recorded through the application (what a single POST does, less HTTP: the checks, the
    group-committed transaction, the projections)."""
    stores = {
        "with the tree": store_for_writes(admin_url, "stocktake_bench_audit_tree_on", base, tree=True),
        "without": store_for_writes(admin_url, "stocktake_bench_audit_tree_off", base, tree=False),
    }
    times: dict[str, dict[str, list[float]]] = {level: {name: [] for name in stores} for level in LEVELS}
    rng = random.Random(11)
    names = list(stores)
    for index in range(total):
        for name in names if index % 2 == 0 else names[::-1]:
            store = stores[name]
            event = fresh(rng.choice(store.samples))
            started = time.perf_counter()
            store.services.measurement.event_log.insert_events([event])  # its own transaction
            times[LEVELS[0]][name].append(time.perf_counter() - started)
            started = time.perf_counter()
            _record(store, rng)
            times[LEVELS[1]][name].append(time.perf_counter() - started)
    stores["without"].check_tree_off()
    return times, list(stores.values())


LEVELS = ("insert_events, one event", "record_observation (a POST less HTTP)")


def print_proofs(services: MeasurementServices, head: int, count: int) -> None:
    in_app, over_http = proof_latency(services, head, count)
    proofs = Table(title=f"Inclusion proof of a random position in the tree of {head:,} events ({count} each)")
    for column in ("answered", "p50", "p95", "max"):
        proofs.add_column(column, justify="right")
    for name, samples_ in (("by the application", in_app), ("over HTTP (TestClient)", over_http)):
        proofs.add_row(
            name,
            *(f"{1000 * value:.2f} ms" for value in (percentile(samples_, 0.5), percentile(samples_, 0.95))),
            f"{1000 * max(samples_):.2f} ms",
        )
    console.print(proofs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sizes", default="100000,1000000", help="log sizes to verify at, comma-separated")
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--single", type=int, default=2000, help="single-event transactions, each way")
    parser.add_argument("--write-base", type=int, default=100_000, help="events in each store of the write test")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(",") if size)

    url = fresh_database(args.postgres_url, "stocktake_bench_audit")
    settings = Settings(database_url=url, data_dir=Path(tempfile.mkdtemp(prefix="stocktake-bench-audit-")))
    run_migrations(settings)
    services = bootstrap(settings)
    app = services.measurement
    codes, countries = set_up(app)
    samples = templates(app, codes, countries)

    table = Table(title="Verifying the whole log vs reading it (PostgreSQL)")
    for column in ("events", "load (insert_events, 5,000/tx)", "store reads", "audit verify", "verify / read"):
        table.add_column(column, justify="right")
    for size in sizes:
        loaded = load(app, samples, size)
        settle(services)
        count, read_seconds = read_rate(app)
        verified, verify_seconds = verify_rate(services)
        assert verified == count
        read_per_s, verify_per_s = count / read_seconds, verified / verify_seconds
        table.add_row(
            f"{count:,}",
            f"{loaded:.0f} s",
            f"{read_per_s:,.0f} events/s ({read_seconds:.1f} s)",
            f"{verify_per_s:,.0f} events/s ({verify_seconds:.1f} s)",
            f"{verify_per_s / read_per_s:.2f}",
        )
    console.print(table)

    head = app.event_log.max_notification_id() or 0
    if not sizes:  # --sizes "": the write test alone
        args.proofs = 0
    if args.proofs:
        print_proofs(services, head, args.proofs)
    services.close()

    times, write_stores = single_writes(args.postgres_url, args.write_base, args.single)
    writes = Table(
        title=f"Single writes on two stores of {args.write_base:,} events, with and without the tree "
        f"({args.single:,} each, alternating)"
    )
    for column in ("write", "nodes", "mean", "p50", "p95", "per second", "with / without"):
        writes.add_column(column, justify="right")
    for level, by_store in times.items():
        means = {name: statistics.fmean(samples_) for name, samples_ in by_store.items()}
        for name, samples_ in by_store.items():
            writes.add_row(
                level,
                name,
                f"{1000 * means[name]:.3f} ms",
                f"{1000 * percentile(samples_, 0.5):.3f} ms",
                f"{1000 * percentile(samples_, 0.95):.3f} ms",
                f"{1 / means[name]:,.0f}",
                f"{means['without'] / means['with the tree']:.1%}" if name == "with the tree" else "",
            )
    console.print(writes)
    report = write_stores[0].services.transparency.verify()
    console.print(f"The tree of the store written with it is whole: {report.ok} ({report.events:,} events).")
    for store in write_stores:
        store.services.close()


if __name__ == "__main__":
    main()
