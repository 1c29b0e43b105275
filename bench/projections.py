"""Speed of the as-of queries and of the read-model rebuild, on PostgreSQL
(or SQLite, `--store sqlite`), with 1,000,000 observations.

What it does, in one run:
1. Makes a fresh database, migrates it, records the framework, 30 benchmarks
   (3 per critical assumption: percentage/mean, unit/sum, ordinal/count of
   countries meeting a threshold), 50 countries and 4 sectors through the
   application, as the API would.
2. Bulk-loads the observations (default 1,000,000 `Observation.Recorded`
   events, plus 5% corrections and 1% retractions, 5% of the observations
   backdated) by building the same domain events the API builds and appending
   them to the log in batches of 20,000 per transaction. This loader lives here,
   outside the service: it skips the per-request projection, so the read
   models are then built by a rebuild.
3. Rebuild: replays the whole log into fresh read models and swaps them in,
   timed in events/s, beside the library's own read-and-deserialise rate of
   the same log (recorder.select_notifications + mapper.to_domain_event, in
   one process). The rebuild splits the log by stream over one process per
   CPU (at most 4; `--workers`); the figure says how many it used.
4. Queries at random (valid date D, log position P): p50/p95 of a benchmark
   state and of the CA1..CA10 roll-up, each beside a naive full replay of the
   log up to P computing the same answer (a few samples: it is slow); the
   answers are checked equal.

A benchmark does not declare itself sector-specific (the domain has no such
notion), so by default every observation names one of the 4 sectors at
random: each (benchmark, country) is then up to 4 cells, the worst case for
the lookups (one per cell). `--sectors none` records every observation with
no sector (one cell per benchmark and country), as an office would for
benchmarks that are not about a sector; the table's title says which.

`--store sqlite` runs the same on an SQLite file, `NAME.sqlite3` (NAME from
`--database`) in `--sqlite-folder`; the rebuild is then one process.

Usage: python bench/projections.py [--observations N] [--queries N]
       [--sectors every|none] [--database NAME] [--store postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pycountry
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.common.database import normalise_url
from services.measurement.adapters.framework_file import read_framework_file
from services.measurement.application.commands import Measurement
from services.measurement.application.queries import catalogue, progress
from services.measurement.application.rebuild import MAX_WORKERS, rebuild
from services.measurement.bootstrap import bootstrap
from services.measurement.domain.benchmarks import Benchmark
from services.measurement.domain.observations import Observation
from services.measurement.domain.progress import BenchmarkSpec, CountryValue, assess
from services.measurement.domain.scope import IloRegion, ProgrammeScope
from services.measurement.domain.values import Combination, Measure
from services.measurement.entrypoints.cli import run_migrations
from services.measurement.settings import Settings

console = Console()
PRINCIPAL = "bench-loader"
MONTHS = [f"{year}-{month:02d}" for year in range(2017, 2022) for month in range(1, 13)]
SECTORS = ["garments", "agri-food", "electronics", "automotive"]
CRITERIA = {
    c: {"met": True, "evidence": "bench"} for c in ("decent_work_deficits", "political_commitment", "ilo_presence")
}
BATCH = 20_000


def fresh_database(admin_url: str, name: str) -> str:
    engine = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(normalise_url(admin_url)).set(database=name).render_as_string(hide_password=False)


def fresh_sqlite_file(folder: str, name: str) -> str:
    path = Path(folder) / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def set_up(app: Measurement) -> tuple[list[str], list[str]]:
    document, digest = read_framework_file()
    app.load_framework(document, digest, PRINCIPAL)
    for sector in SECTORS:
        app.select_sector(sector, sector, "bench", PRINCIPAL)
    countries = [c.alpha_3 for c in list(pycountry.countries)[:50]]
    for iso3 in countries:
        app.select_country(iso3, IloRegion.ASIA_PACIFIC, CRITERIA, PRINCIPAL)
    codes = []
    for ca in range(1, 11):
        for kind in ("pct", "count", "stage"):
            code = f"BENCH-CA{ca}-{kind}"
            codes.append(code)
            common: dict[str, Any] = {
                "code": code,
                "assumption": f"CA{ca}",
                "title": code,
                "description": "bench",
                "unit_label": None,
                "disaggregations": [],
                "deliverables": [],
                "pb_indicators": [],
                "principal": PRINCIPAL,
                "ascending": True,
            }
            if kind == "pct":
                app.define_benchmark(
                    **common,
                    measure=Measure.PERCENTAGE,
                    levels=[],
                    combination=Combination.MEAN,
                    threshold=None,
                    baseline={"value": 20, "date": date(2017, 1, 1)},
                    targets=[
                        {"value": 40, "date": date(2019, 12, 31), "label": "mid"},
                        {"value": 60, "date": date(2021, 12, 31), "label": "final"},
                    ],
                )
            elif kind == "count":
                app.define_benchmark(
                    **common,
                    measure=Measure.UNIT,
                    levels=[],
                    combination=Combination.SUM,
                    threshold=None,
                    baseline={"value": 0, "date": date(2017, 1, 1)},
                    targets=[{"value": 5000, "date": date(2021, 12, 31), "label": "final"}],
                )
            else:
                app.define_benchmark(
                    **common,
                    measure=Measure.ORDINAL,
                    levels=["none", "emerging", "functioning", "effective"],
                    combination=Combination.COUNT_MEETING_THRESHOLD,
                    threshold="functioning",
                    baseline={"value": 0, "date": date(2017, 1, 1)},
                    targets=[{"value": 30, "date": date(2021, 12, 31), "label": "final"}],
                )
    return codes, countries


def bulk_load(
    app: Measurement, codes: list[str], countries: list[str], total: int, seed: int, sectors: bool = True
) -> float:
    """Appends the events straight to the log, `BATCH` per transaction
    (`sectors`: each observation names one of SECTORS, else none)."""
    rng = random.Random(seed)
    benchmarks: dict[str, Benchmark] = {code: app.repository.get(Benchmark.create_id(code)) for code in codes}
    scope: ProgrammeScope = app.repository.get(ProgrammeScope.create_id("GSC-POA-2017-21"))
    kept: list[Observation] = []
    pending: list[Any] = []
    started = time.perf_counter()

    def flush() -> None:
        stored = [app.mapper.to_stored_event(event) for event in pending]
        with app.database.transaction():
            app.event_log.insert_events(stored)
        pending.clear()

    for index in range(total):
        month_index = min(len(MONTHS) - 1, index * len(MONTHS) // total)
        if rng.random() < 0.05:
            month_index = rng.randrange(0, month_index + 1)  # backdated
        benchmark = benchmarks[rng.choice(codes)]
        if benchmark.measure is Measure.PERCENTAGE:
            value: Any = round(rng.uniform(0, 100), 1)
        elif benchmark.measure is Measure.UNIT:
            value = rng.randrange(0, 200)
        else:
            value = rng.choice(benchmark.levels)
        observation = Observation.record(
            observation_id=uuid4(),
            benchmark=benchmark,
            scope=scope,
            country=rng.choice(countries),
            sector=rng.choice(SECTORS) if sectors else None,
            period=MONTHS[month_index],
            value=value,
            disaggregations=[],
            evidence=[],
            comment=None,
            principal=PRINCIPAL,
        )
        pending.extend(observation.collect_events())
        if rng.random() < 0.06:
            kept.append(observation)
        if len(kept) > 2000 or (index == total - 1 and kept):
            for earlier in kept:
                if rng.random() < 5 / 6:
                    correction = round(rng.uniform(0, 100), 1) if isinstance(earlier.value, float) else earlier.value
                    earlier.correct(
                        benchmark=benchmarks[earlier.benchmark],
                        value=correction,
                        disaggregations=None,
                        reason="bench",
                        principal=PRINCIPAL,
                    )
                else:
                    earlier.retract(reason="bench", principal=PRINCIPAL)
                pending.extend(earlier.collect_events())
            kept.clear()
        if len(pending) >= BATCH:
            flush()
            if index % 100_000 < BATCH:
                console.print(f"  loaded {index + 1:,} observations ({time.perf_counter() - started:.0f} s)")
    if pending:
        flush()
    return time.perf_counter() - started


def read_and_deserialise_rate(app: Measurement) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    start = 1
    while True:
        notifications = app.recorder.select_notifications(start, 5000)
        if not notifications:
            break
        for notification in notifications:
            app.mapper.to_domain_event(notification)
        count += len(notifications)
        start = notifications[-1].id + 1
    return count, time.perf_counter() - started


def naive_state(app: Measurement, code: str, as_of: date, position: int) -> dict[str, Any]:
    """Replays the whole log up to `position`, keeping nothing but Python dicts."""
    return naive_states(app, [code], as_of, position)[code]


def naive_rollup(app: Measurement, codes: list[str], as_of: date, position: int) -> dict[str, Any]:
    """The roll-up's figures (every benchmark's combined value and status) by
    one naive replay of the log up to `position`."""
    return naive_states(app, codes, as_of, position)


def naive_states(app: Measurement, codes: list[str], as_of: date, position: int) -> dict[str, dict[str, Any]]:
    definitions: dict[UUID, dict[str, Any]] = {}
    code_of = {Benchmark.create_id(code): code for code in codes}
    in_force: dict[UUID, dict[str, Any]] = {}
    start = 1
    while start <= position:
        notifications = app.recorder.select_notifications(start, 5000, stop=position)
        if not notifications:
            break
        for notification in notifications:
            event = app.mapper.to_domain_event(notification)
            if event.originator_id in code_of:
                definitions[event.originator_id] = {**definitions.get(event.originator_id, {}), **event.__dict__}
            elif isinstance(event, Observation.Recorded) and event.benchmark in codes:
                in_force[event.originator_id] = {
                    "benchmark": event.benchmark,
                    "cell": (event.country, event.sector or ""),
                    "valid_date": event.period_end,
                    "value": event.value,
                    "learned": notification.id,
                    "first": notification.id,
                }
            elif isinstance(event, Observation.Corrected) and event.originator_id in in_force:
                in_force[event.originator_id].update(value=event.value, learned=notification.id)
            elif isinstance(event, Observation.Retracted):
                in_force.pop(event.originator_id, None)
        start = notifications[-1].id + 1
    answers = {}
    for benchmark_id, definition in definitions.items():
        code = code_of[benchmark_id]
        best: dict[tuple[str, str], dict[str, Any]] = {}
        for item in in_force.values():
            if item["benchmark"] == code and item["valid_date"] <= as_of:
                current = best.get(item["cell"])
                # Per cell, the latest valid date; among equals, the observation first recorded last.
                if current is None or (item["valid_date"], item["first"]) > (current["valid_date"], current["first"]):
                    best[item["cell"]] = item
        values = [
            CountryValue(cell[0], o["valid_date"], o["value"], o["learned"], cell[1], o["first"])
            for cell, o in best.items()
        ]
        assessment = assess(BenchmarkSpec.from_state(definition), values, as_of)
        answers[code] = {"combined": assessment.combined, "status": assessment.status.value}
    return answers


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--replays", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--workers", type=int, default=None, help="rebuild processes (default: one per CPU, at most 4)")
    parser.add_argument(
        "--sectors",
        choices=("every", "none"),
        default="every",
        help="every observation names a random one of the 4 sectors (default), or none does",
    )
    parser.add_argument(
        "--database",
        default="stocktake_bench_projections",
        help="the database to (re)create on the server of --postgres-url, so that runs side by side do not collide",
    )
    parser.add_argument("--store", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--sqlite-folder", default="/tmp", help="where --store sqlite (re)creates its file, named after --database"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    if args.store == "sqlite":
        url = fresh_sqlite_file(args.sqlite_folder, args.database)
    else:
        url = fresh_database(args.postgres_url, args.database)
    settings = Settings(database_url=url)
    run_migrations(settings)
    services = bootstrap(settings)
    app = services.measurement
    codes, countries = set_up(app)
    console.print(f"Loading {args.observations:,} observations ...")
    load_seconds = bulk_load(app, codes, countries, args.observations, args.seed, args.sectors == "every")
    head = app.event_log.max_notification_id() or 0
    console.print(f"Loaded {head:,} events in {load_seconds:.0f} s ({head / load_seconds:,.0f} events/s)")
    with app.database.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()

    read_count, read_seconds = read_and_deserialise_rate(app)
    workers = 1 if args.store == "sqlite" else args.workers or min(os.cpu_count() or 1, MAX_WORKERS)
    started = time.perf_counter()
    report = rebuild(app, workers=workers)  # vacuums and analyses the tables it hands over
    rebuild_seconds = time.perf_counter() - started

    state_ms, rollup_ms = [], []
    assumptions = catalogue.framework(app)["document"]["critical_assumptions"]
    first_position = min(
        int(catalogue.benchmark_or_404(app.database, code)["history"][0]["position"]) for code in codes
    )
    samples = []
    for _ in range(args.queries):
        as_of = date(2017, 1, 1).fromordinal(rng.randint(date(2017, 1, 1).toordinal(), date(2021, 12, 31).toordinal()))
        position = rng.randint(first_position, head)
        code = rng.choice(codes)
        samples.append((code, as_of, position))
        started = time.perf_counter()
        progress.benchmark_state(app.database, code, as_of, position)
        state_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        progress.rollup(app.database, assumptions, as_of, position)
        rollup_ms.append((time.perf_counter() - started) * 1000)

    replay_ms, rollup_replay_ms = [], []
    for code, as_of, position in samples[: args.replays]:
        started = time.perf_counter()
        expected = naive_state(app, code, as_of, position)
        replay_ms.append((time.perf_counter() - started) * 1000)
        answer = progress.benchmark_state(app.database, code, as_of, position)
        assert (answer["combined"], answer["status"]) == (expected["combined"], expected["status"]), (answer, expected)

        started = time.perf_counter()
        expected_all = naive_rollup(app, codes, as_of, position)
        rollup_replay_ms.append((time.perf_counter() - started) * 1000)
        rollup = progress.rollup(app.database, assumptions, as_of, position)
        figures = {
            b["benchmark"]: {"combined": b["combined"], "status": b["status"]}
            for item in rollup["assumptions"]
            for b in item["benchmarks"]
        }
        assert figures == expected_all, (figures, expected_all)

    store = "SQLite" if args.store == "sqlite" else "PostgreSQL"
    sectors = "each observation in one of 4 sectors" if args.sectors == "every" else "no observation names a sector"
    table = Table(
        title=f"As-of queries and rebuild, {store}, {args.observations:,} observations ({head:,} events; {sectors})"
    )
    table.add_column("measure")
    table.add_column("figure", justify="right")
    table.add_column("beside", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("target")
    replay = statistics.median(replay_ms)
    rollup_replay = statistics.median(rollup_replay_ms)
    table.add_row(
        "benchmark state p50 / p95 (ms)",
        f"{percentile(state_ms, 0.5):.2f} / {percentile(state_ms, 0.95):.2f}",
        f"naive replay {replay:,.0f} ms",
        f"{replay / percentile(state_ms, 0.5):,.0f}x",
        "p95 < 20 ms, >= 1000x",
    )
    table.add_row(
        "CA roll-up p50 / p95 (ms)",
        f"{percentile(rollup_ms, 0.5):.2f} / {percentile(rollup_ms, 0.95):.2f}",
        f"naive roll-up replay {rollup_replay:,.0f} ms",
        f"{rollup_replay / percentile(rollup_ms, 0.5):,.0f}x",
        "p95 < 20 ms, >= 1000x",
    )
    rebuild_rate = report.events / rebuild_seconds
    read_rate = read_count / read_seconds
    table.add_row(
        "rebuild (events/s)",
        f"{rebuild_rate:,.0f}",
        f"read+deserialise {read_rate:,.0f}/s",
        f"{rebuild_rate / read_rate:.2f}x",
        ">= 0.5x",
    )
    console.print(table)
    console.print(
        f"Rebuild wrote {report.rows:,} rows in {rebuild_seconds:.1f} s with {workers} process(es) "
        f"({os.cpu_count()} CPUs); {args.queries} query samples; {len(replay_ms)} replays of a state and "
        f"{len(rollup_replay_ms)} of a roll-up, answers equal to the queries'."
    )
    services.close()


if __name__ == "__main__":
    main()
