"""Ingest benchmark: the service's write path next to baselines on the same
stack, measured side by side in interleaved rounds on one machine.

Run:  python bench/ingest.py [--rounds 3] [--observations 3000] [--clients 16] [--workers 2]
                             [--batch-observations 20000] [--batch-size 1000] [--batch-clients 4]
                             [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]
                             [--warmup 200] [--sqlite] [--sqlite-only] [--probe 100] [--timeout 1800]

What is measured
----------------
For each store (PostgreSQL; SQLite too with `--sqlite`) four servers are
started one after the other by `python -m bench.baselines KIND`, each a real
uvicorn with W worker processes on a free 127.0.0.1 port, as `stocktake
serve` runs the service (but for a longer worker health check, which a busy
machine needs):

* **service**: the service's app on a fresh database (PostgreSQL: the
  database `stocktake_bench` or `--database`, dropped and created; SQLite: a temporary file),
  migrated, the framework loaded, one percentage benchmark defined and five
  countries selected over HTTP (the bodies of `tests/support.py`), a country
  office's key issued.
* the baselines of `bench/baselines.py`, on the same database, reading the
  same bodies with the service's own schemas: **minimal** (SQLAlchemy Core
  INSERT + COMMIT per POST), **eventsourcing** (the library's own
  Application behind FastAPI) and **COPY** (a batch as one COPY + COMMIT).

Each server is warmed up, then every round times, one after the other (the
order turns each round): N single POST /observations from C concurrent
clients (the service's with a fresh `Idempotency-Key` each and the office's
key) on the service, the minimal and the eventsourcing baseline; then M
distinct observations in batches of B from K clients through POST
/observations/batch on the service and on the COPY baseline. Every answer
must be 201 (200 and all B imported for a batch), or the run fails (exit 1).
Afterwards the service's store is checked: every observation is in the read
model and the log is gap-free.

Per phase: the rate (median over the rounds, and min-max: the spread),
p50/p99 latency per request (client side, full round trip; all rounds
pooled), and CPU per item (ms) of the server's process group and of
PostgreSQL, read from /proc. The ratios are taken per round (the two figures
side by side) and given as median and min-max.

Statements and commits per POST: after the timed rounds the service's app is
run in this process on the same store (one client, `--probe` POSTs with an
Idempotency-Key, then 2 batches) with every statement and commit counted
(PostgreSQL: at the psycopg driver, so the pipelined inserts count; SQLite:
SQLAlchemy's events; an executemany counts its rows, a COPY counts one).
Under load on PostgreSQL, pg_stat_database's transactions per observation
and what the log's write-lock holder was doing are sampled in the first round.

Both sides are durable: `SHOW synchronous_commit` must be `on` (exit 2 if
`off`); SQLite runs WAL with synchronous=FULL (`services/common/database.py`).
Other processes' CPU makes figures noisy: the machine's load before the run
is printed; compare ratios measured in the same run.
The script exits 0 whatever the ratios: it measures, it does not judge.
Exit 1: a request failed or the service misbehaved; 2: not durable or bad
arguments; 3: the hard time limit (`--timeout`) was hit. Only 127.0.0.1 is
ever contacted; every loop is bounded in count and time, and every server
subprocess (and its workers) is always stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # for tests.support, the bodies the tests use

import httpx  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

with warnings.catch_warnings():  # tests.support imports Starlette's TestClient, which warns about httpx
    warnings.simplefilter("ignore")
    from tests.support import benchmark_body, country_body, observation_body

from services.common.access import Role  # noqa: E402
from services.common.api_keys import ApiKeys  # noqa: E402
from services.common.database import Database  # noqa: E402
from services.measurement.adapters.countries import country_name  # noqa: E402

BENCH_DATABASE = "stocktake_bench"
HOST = "127.0.0.1"
COUNTRIES = {
    "BGD": "asia_pacific",
    "VNM": "asia_pacific",
    "ETH": "africa",
    "IND": "asia_pacific",
    "KHM": "asia_pacific",
}
TOPIC = "services.measurement.domain.observations:Observation.Recorded"
EXIT_FAILED, EXIT_REFUSED, EXIT_TIMEOUT = 1, 2, 3

console = Console(highlight=False, width=None if sys.stdout.isatty() else 132)


class BenchFailure(Exception):
    """The run cannot give a figure (exit 1)."""


class BenchTimeout(Exception):
    """The hard time limit was reached (exit 3)."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self, doing: str) -> None:
        if self.left() <= 0:
            raise BenchTimeout(f"hard time limit reached while {doing}")


# -- figures ------------------------------------------------------------------


@dataclass
class Rate:
    label: str
    count: int
    seconds: float
    latencies: list[float]
    note: str = ""
    cpu: dict[str, float] = field(default_factory=dict)
    checked: str = ""
    sessions: str = ""

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Timed:
    seconds: float
    latencies: list[float]
    cpu_before: CpuSample
    cpu_after: CpuSample


def _timed_threads(count: int, threads: int, deadline: Deadline, make_worker: Callable[[], Any], doing: str) -> Timed:
    """Runs `count` operations over `threads` threads. `make_worker()` runs in
    each thread and returns (step, close): `step(i)` does operation i and
    raises to fail the run. Timing (and CPU accounting) starts once every
    thread is ready (connected) and ends before any connection is closed."""
    latencies: list[float] = [0.0] * count
    errors: list[BaseException] = []
    closers: list[Callable[[], None]] = []
    lock = threading.Lock()
    next_index = iter(range(count))
    stop = threading.Event()
    ready = threading.Barrier(threads + 1, timeout=max(1.0, min(60.0, deadline.left())))

    def take() -> int | None:
        with lock:
            return next(next_index, None)

    def run() -> None:
        try:
            step, close = make_worker()
            with lock:
                closers.append(close)
            ready.wait()
            while not stop.is_set():
                index = take()
                if index is None:
                    return
                if deadline.left() <= 0:
                    raise BenchTimeout(f"hard time limit reached while {doing}")
                started = time.perf_counter()
                step(index)
                latencies[index] = time.perf_counter() - started
        except threading.BrokenBarrierError:
            return
        except BaseException as error:  # reported by the main thread
            with lock:
                errors.append(error)
            stop.set()
            ready.abort()

    workers = [threading.Thread(target=run, name=f"bench-{i}", daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    try:
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait()
        cpu_before = CpuSample.take()
        started = time.perf_counter()
        for worker in workers:
            worker.join(timeout=max(0.1, deadline.left() + 5))
        elapsed = time.perf_counter() - started
        cpu_after = CpuSample.take()
        if any(worker.is_alive() for worker in workers):
            stop.set()
            raise BenchTimeout(f"hard time limit reached while {doing}")
        if errors:
            first = errors[0]
            raise first if isinstance(first, (BenchFailure, BenchTimeout)) else BenchFailure(f"{doing}: {first!r}")
        return Timed(elapsed, latencies, cpu_before, cpu_after)
    finally:
        stop.set()
        with lock:
            to_close = list(closers)
        for close in to_close:
            # Closing a broken connection must not hide the real error.
            with contextlib.suppress(Exception):
                close()


# -- CPU accounting (Linux /proc) ---------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stats() -> dict[int, tuple[str, int, float]]:
    """pid -> (command, process group, CPU seconds) of every visible process."""
    found: dict[int, tuple[str, int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        found[int(entry.name)] = (name, int(rest[2]), (int(rest[11]) + int(rest[12])) / _TICK)
    return found


def _machine_ticks() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields), idle


@dataclass
class CpuSample:
    machine: tuple[int, int]
    procs: dict[int, tuple[str, int, float]]
    own: float

    @classmethod
    def take(cls) -> CpuSample:
        times = os.times()
        try:
            return cls(_machine_ticks(), _proc_stats(), times.user + times.system)
        except OSError:
            return cls((0, 0), {}, times.user + times.system)


def cpu_between(before: CpuSample, after: CpuSample, server_group: int | None, seconds: float) -> dict[str, float]:
    """CPU seconds spent by this process, the server's process group and
    PostgreSQL during a phase, and how busy the whole machine was (0..1)."""

    def spent(match: Callable[[str, int], bool]) -> float:
        total = 0.0
        for pid, (name, group, cpu) in after.procs.items():
            if match(name, group):
                total += cpu - (before.procs[pid][2] if pid in before.procs else 0.0)
        return total

    total_ticks = after.machine[0] - before.machine[0]
    idle_ticks = after.machine[1] - before.machine[1]
    busy = (1 - idle_ticks / total_ticks) if total_ticks > 0 else float("nan")
    figures = {
        "client": after.own - before.own,
        "server": spent(lambda name, group: server_group is not None and group == server_group),
        "postgres": spent(lambda name, group: name.startswith("postgres")),
        "busy": busy,
        "seconds": seconds,
    }
    machine = busy * seconds * (os.cpu_count() or 1) if busy == busy else 0.0
    figures["other"] = max(0.0, machine - figures["client"] - figures["server"] - figures["postgres"])
    return figures


def background_load(seconds: float = 1.0) -> float:
    """How busy the machine is (0..1) before this script does anything."""
    try:
        before = _machine_ticks()
        time.sleep(seconds)
        after = _machine_ticks()
    except OSError:
        return float("nan")
    total = after[0] - before[0]
    return 1 - (after[1] - before[1]) / total if total > 0 else float("nan")


# -- PostgreSQL -----------------------------------------------------------------


def conninfo(url: str, database: str | None = None) -> str:
    """A libpq URL (psycopg) from a SQLAlchemy-style one, optionally on another database."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def check_loopback(url: str) -> None:
    host = make_url(url).host or "localhost"
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        raise SystemExit(_refuse(f"--postgres-url must point at this machine (127.0.0.1), not {host!r}."))


def _refuse(message: str) -> int:
    console.print(f"[red bold]Refusing to run:[/red bold] {message}")
    return EXIT_REFUSED


def durability(info: str) -> dict[str, str]:
    names = ("server_version", "synchronous_commit", "fsync", "wal_sync_method", "full_page_writes")
    with psycopg.connect(info, autocommit=True, connect_timeout=5) as connection:
        shown = {}
        for name in names:
            row = connection.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            shown[name] = str(row[0]) if row else "?"
        return shown


def recreate_database(admin_info: str, database: str) -> None:
    with psycopg.connect(admin_info, autocommit=True, connect_timeout=5) as connection:
        name = sql.Identifier(database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def checkpoint(info: str) -> None:
    """Starts each timed phase with the WAL flushed, so no phase inherits a checkpoint."""
    try:
        with psycopg.connect(info, autocommit=True, connect_timeout=5) as connection:
            connection.execute("CHECKPOINT")
    except psycopg.Error as error:  # not a superuser: the phases just share the risk
        console.print(f"[yellow]CHECKPOINT not run ({error.__class__.__name__}); phases may meet one.[/yellow]")


def stocktake_command() -> str:
    beside = Path(sys.executable).with_name("stocktake")
    found = str(beside) if beside.exists() else shutil.which("stocktake")
    if not found:
        raise SystemExit(_refuse("the `stocktake` command is not installed (pip install -e . in the venv)."))
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def run_cli(args: list[str], deadline: Deadline, log: Path) -> None:
    timeout = max(1.0, min(180.0, deadline.left()))
    with log.open("ab") as out:
        try:
            done = subprocess.run(
                [stocktake_command(), *args], cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            raise BenchTimeout(f"`stocktake {args[0]}` did not finish in {timeout:.0f} s") from None
    if done.returncode != 0:
        raise BenchFailure(f"`stocktake {' '.join(args[:1])}` failed ({done.returncode}):\n{_tail(log)}")


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


_servers: list[Server] = []


class Server:
    """The service, or a baseline, served by bench/baselines.py (as `stocktake
    serve` serves the service) as a subprocess in its own process group."""

    def __init__(self, database_url: str, workers: int, log: Path, kind: str = "service") -> None:
        self.port = free_port()
        self.log = log
        self.base_url = f"http://{HOST}:{self.port}"
        self._out = log.open("ab")
        where = ["--host", HOST, "--port", str(self.port), "--workers", str(workers), "--database-url", database_url]
        # The service answers its problem documents without a key; a baseline, its OpenAPI document.
        self.ready_path = "/problems/validation-error" if kind == "service" else "/openapi.json"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.baselines", kind, *where],
            cwd=REPO_ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        _servers.append(self)

    @property
    def group(self) -> int:
        return self.process.pid  # start_new_session: its own process group

    def wait_ready(self, deadline: Deadline, seconds: float = 60.0) -> None:
        until = time.monotonic() + min(seconds, max(0.0, deadline.left()))
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < until:
                if self.process.poll() is not None:
                    raise BenchFailure(f"the server exited ({self.process.returncode}):\n{_tail(self.log)}")
                try:
                    if client.get(self.ready_path).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        raise BenchFailure(f"the server did not answer on {self.base_url}:\n{_tail(self.log)}")

    def stop(self) -> None:
        if self in _servers:
            _servers.remove(self)
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)  # uvicorn stops its workers
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=20)
            # Anything left in its group (a stuck worker).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.group, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        finally:
            self._out.close()


def _kill_servers_now() -> None:
    for server in list(_servers):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(server.group, signal.SIGKILL)


def observation_bodies(count: int, code: str, seed: int, offset: int) -> list[bytes]:
    """Varied, valid observations (bytes, encoded before timing)."""
    bodies = []
    codes = list(COUNTRIES)
    for index in range(offset, offset + count):
        rng = random.Random(seed * 1_000_003 + index)
        year = 2017 + rng.randrange(5)
        kind = index % 10
        if kind < 7:
            period = f"{year}-Q{rng.randrange(1, 5)}"
        elif kind < 9:
            period = f"{year}-{rng.randrange(1, 13):02d}"
        else:
            period = str(year)
        body = observation_body(
            benchmark=code,
            country=codes[index % len(codes)],
            period=period,
            value=round(rng.uniform(0, 100), 1),
            disaggregations=[
                {"dimension": "sex", "category": "female", "value": round(rng.uniform(0, 100), 1)},
                {"dimension": "sex", "category": "male", "value": round(rng.uniform(0, 100), 1)},
            ],
            comment=f"ingest bench #{index}",
        )
        bodies.append(json.dumps(body).encode())
    return bodies


def issue_keys(database_url: str) -> dict[Role, str]:
    """A programme manager's key and a country office's (for the five
    countries), issued straight into the bench database before it is served."""
    database = Database(database_url)
    try:
        keys = ApiKeys(database, country_name)
        return {
            Role.PROGRAMME_MANAGER: keys.issue("bench-manager", Role.PROGRAMME_MANAGER, [], "bench", "bench").token,
            Role.COUNTRY_OFFICE: keys.issue(
                "bench-office", Role.COUNTRY_OFFICE, list(COUNTRIES), "bench", "bench"
            ).token,
        }
    finally:
        database.dispose()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def set_up_programme(base_url: str, keys: dict[Role, str], batch_benchmarks: int) -> tuple[str, list[str]]:
    """One percentage benchmark for single POSTs, `batch_benchmarks` more for
    batches (a batch row is one per benchmark, country and period), and the
    five countries; returns the benchmark codes."""
    benchmarks = [benchmark_body(measure="percentage")]
    benchmarks += [benchmark_body(measure="percentage", code=f"BATCH-{n}") for n in range(batch_benchmarks)]
    manager = _bearer(keys[Role.PROGRAMME_MANAGER])
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for benchmark in benchmarks:
            answer = client.post(
                "/benchmarks", json=benchmark, headers={**manager, "Idempotency-Key": str(uuid.uuid4())}
            )
            if answer.status_code != 201:
                raise BenchFailure(f"POST /benchmarks answered {answer.status_code}: {answer.text[:500]}")
        for iso3, region in COUNTRIES.items():
            answer = client.post(
                "/scope/countries",
                json=country_body(iso3, region),
                headers={**manager, "Idempotency-Key": str(uuid.uuid4())},
            )
            if answer.status_code != 201:
                raise BenchFailure(f"POST /scope/countries {iso3} answered {answer.status_code}: {answer.text[:500]}")
    return str(benchmarks[0]["code"]), [str(b["code"]) for b in benchmarks[1:]]


DAYS_PER_BENCHMARK = 5 * 365  # 2017-01-01 ... 2021-12-30: one day period per row


def batch_rows(count: int, codes: list[str], seed: int, offset: int = 0) -> list[dict[str, Any]]:
    """Distinct observations (each its own benchmark, country and day), as a
    country office's spreadsheet would hold them; `offset` skips as many."""
    rows = []
    countries = list(COUNTRIES)
    start = date(2017, 1, 1)
    for index in range(offset, offset + count):
        rng = random.Random(seed * 1_000_003 + index)
        slot, country = divmod(index, len(countries))
        code, day = divmod(slot, DAYS_PER_BENCHMARK)
        rows.append(
            observation_body(
                benchmark=codes[code],
                country=countries[country],
                period=(start + timedelta(days=day)).isoformat(),
                value=round(rng.uniform(0, 100), 1),
                disaggregations=[
                    {"dimension": "sex", "category": "female", "value": round(rng.uniform(0, 100), 1)},
                    {"dimension": "sex", "category": "male", "value": round(rng.uniform(0, 100), 1)},
                ],
                comment=f"batch bench #{index}",
            )
        )
    return rows


def batch_benchmarks_needed(count: int) -> int:
    return -(-count // (DAYS_PER_BENCHMARK * len(COUNTRIES)))


def post_batches(
    base_url: str, batches: list[bytes], sizes: list[int], clients: int, token: str, deadline: Deadline, doing: str
) -> Timed:
    def make_worker() -> tuple[Callable[[int], None], Callable[[], None]]:
        client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(120.0))

        def step(index: int) -> None:
            try:
                answer = client.post(
                    "/observations/batch",
                    content=batches[index],
                    headers={**_bearer(token), "Content-Type": "application/json"},
                )
            except httpx.HTTPError as error:
                raise BenchFailure(f"{doing}: batch {index} failed: {error!r}") from None
            if answer.status_code != 200 or answer.json()["counts"]["imported"] != sizes[index]:
                raise BenchFailure(f"{doing}: batch {index} answered {answer.status_code}: {answer.text[:800]}")

        return step, client.close

    return _timed_threads(len(batches), clients, deadline, make_worker, doing)


def post_observations(
    base_url: str, bodies: list[bytes], clients: int, token: str, deadline: Deadline, doing: str
) -> Timed:
    def make_worker() -> tuple[Callable[[int], None], Callable[[], None]]:
        client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(30.0))

        def step(index: int) -> None:
            try:
                answer = client.post(
                    "/observations",
                    content=bodies[index],
                    headers={
                        **_bearer(token),
                        "Content-Type": "application/json",
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                )
            except httpx.HTTPError as error:
                raise BenchFailure(f"{doing}: request {index} failed: {error!r}") from None
            if answer.status_code != 201:
                raise BenchFailure(f"{doing}: request {index} answered {answer.status_code}: {answer.text[:800]}")

        return step, client.close

    return _timed_threads(len(bodies), clients, deadline, make_worker, doing)


class SessionSampler:
    """Samples pg_stat_activity / pg_locks of the bench database every 100 ms
    while the API is timed: how many sessions wait on a lock, and what the
    session holding the log's write lock (the event store's table lock on
    stored_events, or an advisory lock) is doing -- running SQL, flushing
    WAL at commit, or "idle in transaction", i.e. waiting for the service's
    Python code between statements while every other writer waits."""

    QUERY = """
        SELECT
          (SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'),
          (SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'),
          (SELECT a.state || ':' || coalesce(a.wait_event_type, '') || ':' || coalesce(a.wait_event, '')
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND ((l.locktype = 'relation' AND l.relation = to_regclass('stored_events')
                     AND l.mode IN ('ExclusiveLock', 'AccessExclusiveLock', 'ShareRowExclusiveLock'))
                    OR l.locktype = 'advisory')
             LIMIT 1)
    """

    def __init__(self, info: str, deadline: Deadline) -> None:
        self.info = info
        self.deadline = deadline
        self.samples: list[tuple[int, int, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self.error: str | None = None
        self.transactions: int | None = None  # committed + rolled back in the bench database

    XACTS = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"

    def __enter__(self) -> SessionSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            with psycopg.connect(self.info, autocommit=True, connect_timeout=5) as connection:
                first = connection.execute(self.XACTS).fetchone()
                while not self._stop.is_set() and self.deadline.left() > 0 and len(self.samples) < 100_000:
                    row = connection.execute(self.QUERY).fetchone()
                    if row is not None:
                        self.samples.append((int(row[0]), int(row[1]), row[2]))
                    self._stop.wait(0.1)
                connection.execute("SELECT pg_stat_clear_snapshot()")
                last = connection.execute(self.XACTS).fetchone()
                if first and last:  # counts reach pg_stat_database within ~1 s: an approximation
                    self.transactions = int(last[0]) - int(first[0]) - len(self.samples) - 2
        except psycopg.Error as error:
            self.error = f"{error.__class__.__name__}: {error}"

    def summary(self, observations: int) -> str:
        if not self.samples:
            return f"no samples ({self.error})" if self.error else "no samples"
        n = len(self.samples)
        waiting = sum(s[0] for s in self.samples) / n
        busy = sum(s[1] for s in self.samples) / n
        kinds = {
            "idle in transaction (service code between statements)": 0,
            "flushing WAL (commit)": 0,
            "running SQL": 0,
            "nobody (lock free)": 0,
        }
        for _, _, holder in self.samples:
            if holder is None:
                kinds["nobody (lock free)"] += 1
            elif holder.startswith("idle in transaction"):
                kinds["idle in transaction (service code between statements)"] += 1
            elif ":IO:WAL" in holder or ":LWLock:WAL" in holder:
                kinds["flushing WAL (commit)"] += 1
            else:
                kinds["running SQL"] += 1
        held = ", ".join(f"{name} {count / n:.0%}" for name, count in kinds.items())
        transactions = (
            f"; ~{self.transactions / observations:.1f} database transactions per observation"
            if self.transactions is not None and observations
            else ""
        )
        return (
            f"{n} samples: on average {waiting:.1f} sessions waiting on a lock, {busy:.1f} not idle; "
            f"the log's write lock holder was: {held}{transactions}"
        )


def verify_postgres(info: str) -> Callable[[int], str]:
    def verify(expected: int) -> str:
        with psycopg.connect(info, autocommit=True, connect_timeout=5) as connection:
            row = connection.execute(
                "SELECT (SELECT count(*) FROM observations_view), count(*), coalesce(max(position), 0), "
                "avg(length(state)) FILTER (WHERE topic LIKE %s)::int FROM stored_events",
                ("%Observation.Recorded",),
            ).fetchone()
        assert row is not None
        observations, count, head, size = row
        if observations != expected:
            raise BenchFailure(f"{expected} observations answered 201 but the read model holds {observations}")
        if count != head:
            raise BenchFailure(f"the log has {count} events but its head is {head}: not gap-free")
        return f"{observations} in read model, log gap-free ({head}); event state ~{size} B"

    return verify


def verify_sqlite(path: Path) -> Callable[[int], str]:
    def verify(expected: int) -> str:
        connection = sqlite3.connect(path)
        try:
            observations = connection.execute("SELECT count(*) FROM observations_view").fetchone()[0]
            count, head = connection.execute(
                "SELECT count(*), coalesce(max(position), 0) FROM stored_events"
            ).fetchone()
        finally:
            connection.close()
        if observations != expected:
            raise BenchFailure(f"{expected} observations answered 201 but the SQLite read model holds {observations}")
        if count != head:
            raise BenchFailure(f"the SQLite log has {count} events but its head is {head}: not gap-free")
        return f"{observations} in read model, log gap-free ({head})"

    return verify


# -- report -------------------------------------------------------------------


# -- statements and commits per POST (the service's app in this process) --------


@dataclass
class Counts:
    statements: int = 0
    commits: int = 0


@contextlib.contextmanager
def counted(postgresql: bool) -> Any:
    """Counts every statement and commit made in this process meanwhile: at the
    psycopg driver on PostgreSQL (so the event store's pipelined INSERTs and
    COPYs count), through SQLAlchemy's events on SQLite. An executemany
    counts its rows (the server runs each), a COPY counts one."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    counts = Counts()
    patched: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, count: Callable[..., int], commit: bool = False) -> None:
        original = getattr(owner, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if commit:
                counts.commits += 1
            else:
                counts.statements += count(*args)
            return original(self, *args, **kwargs)

        patched.append((owner, name, original))
        setattr(owner, name, wrapper)

    def on_execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        counts.statements += len(parameters) if many else 1

    def on_commit(conn: Any) -> None:
        counts.commits += 1

    if postgresql:
        patch(psycopg.Cursor, "execute", lambda *args: 1)
        patch(psycopg.Cursor, "executemany", lambda query, params, *rest: len(list(params)))
        patch(psycopg.Cursor, "copy", lambda *args: 1)
        patch(psycopg.Connection, "commit", lambda *args: 0, commit=True)
    else:
        event.listen(Engine, "before_cursor_execute", on_execute)
        event.listen(Engine, "commit", on_commit)
    try:
        yield counts
    finally:
        for owner, name, original in patched:
            setattr(owner, name, original)
        if not postgresql:
            event.remove(Engine, "before_cursor_execute", on_execute)
            event.remove(Engine, "commit", on_commit)


def probe_statements(
    database_url: str, token: str, singles: list[bytes], batches: list[bytes], workdir: Path
) -> tuple[float, float, float, float]:
    """Statements and commits per single POST (with an Idempotency-Key) and per
    batch, one client at a time, through the service's app in this process."""
    from fastapi.testclient import TestClient

    from services.measurement.entrypoints.http.app import create_app
    from services.measurement.settings import Settings

    postgresql = database_url.startswith("postgresql")
    settings = Settings(database_url=database_url, data_dir=workdir / "probe")
    with TestClient(create_app(settings)) as client:
        headers = {**_bearer(token), "Content-Type": "application/json"}

        def post(path: str, body: bytes, status: int, **extra: str) -> None:
            answer = client.post(path, content=body, headers={**headers, **extra})
            if answer.status_code != status:
                raise BenchFailure(f"probe: {path} answered {answer.status_code}: {answer.text[:500]}")

        post("/observations", singles[0], 201, **{"Idempotency-Key": str(uuid.uuid4())})  # connections opened
        with counted(postgresql) as single:
            for body in singles[1:]:
                post("/observations", body, 201, **{"Idempotency-Key": str(uuid.uuid4())})
        with counted(postgresql) as batch:
            for body in batches:
                post("/observations/batch", body, 200)
    n, b = max(1, len(singles) - 1), max(1, len(batches))
    return single.statements / n, single.commits / n, batch.statements / b, batch.commits / b


# -- one store, interleaved rounds ----------------------------------------------


SINGLE_PHASES = ("service", "minimal", "eventsourcing")
BATCH_PHASES = ("service batches", "COPY batches")
SERVED = (("service", "service"), ("minimal", "minimal"), ("eventsourcing", "eventsourcing"), ("COPY batches", "copy"))


@dataclass
class StoreRun:
    store: str
    rates: dict[str, list[Rate]] = field(default_factory=dict)
    checked: str = ""
    sessions: str = ""
    per_post: tuple[float, float, float, float] | None = None

    def add(self, phase: str, rate: Rate) -> None:
        self.rates.setdefault(phase, []).append(rate)


def prepare_baselines(database_url: str) -> None:
    """The baselines' tables, made once before their servers start (two workers
    creating them at once would race)."""
    from bench import baselines

    baselines.create_tables(database_url)
    os.environ[baselines.URL_VARIABLE] = database_url
    from fastapi.testclient import TestClient

    with TestClient(baselines.eventsourcing_app()):  # its lifespan makes the library's tables
        pass


def run_store(
    store: str, database_url: str, pg_info: str | None, args: argparse.Namespace, deadline: Deadline, workdir: Path
) -> StoreRun:
    log = workdir / f"server-{store}.log"
    console.print(f"[bold]{store}[/bold]: migrate, load the framework, serve the service and 3 baselines")
    run_cli(["migrate", "--database-url", database_url], deadline, log)
    run_cli(["load-framework", "--database-url", database_url], deadline, log)
    keys = issue_keys(database_url)
    office = keys[Role.COUNTRY_OFFICE]
    prepare_baselines(database_url)
    batch_total = args.batch_size * (1 + 2) + args.rounds * args.batch_observations  # warm-up, probe, rounds
    run = StoreRun(store)

    def before_timing() -> None:
        if pg_info:  # each phase starts with the WAL flushed, so none inherits a checkpoint
            checkpoint(pg_info)

    servers: dict[str, Server] = {}
    try:
        # One after the other: workers that all start at once on a busy machine may miss uvicorn's health check.
        for name, kind in SERVED:
            servers[name] = Server(database_url, args.workers, log, kind)
            servers[name].wait_ready(deadline)
        servers["service batches"] = servers["service"]
        code, batch_codes = set_up_programme(servers["service"].base_url, keys, batch_benchmarks_needed(batch_total))
        warmup = observation_bodies(args.warmup, code, args.seed, 0)
        warm_batch = json.dumps({"observations": batch_rows(args.batch_size, batch_codes, args.seed)}).encode()
        for name in SINGLE_PHASES:
            post_observations(servers[name].base_url, warmup, args.clients, office, deadline, f"warming up {name}")
        for name in BATCH_PHASES:
            post_batches(servers[name].base_url, [warm_batch], [args.batch_size], 1, office, deadline, "warming up")
        phases = [*SINGLE_PHASES, *BATCH_PHASES]
        for round_ in range(args.rounds):
            offset = args.warmup + round_ * args.observations
            bodies = observation_bodies(args.observations, code, args.seed, offset)
            after = args.batch_size + round_ * args.batch_observations  # the warm-up's rows, earlier rounds'
            rows = batch_rows(args.batch_observations, batch_codes, args.seed, after)
            chunks = [rows[start : start + args.batch_size] for start in range(0, len(rows), args.batch_size)]
            batches = [json.dumps({"observations": chunk}).encode() for chunk in chunks]
            turned = phases[round_ % len(phases) :] + phases[: round_ % len(phases)]
            console.print(f"  round {round_ + 1}/{args.rounds}: {', '.join(turned)}")
            for phase in turned:
                server = servers[phase]
                before_timing()
                if phase in BATCH_PHASES:
                    timed = post_batches(
                        server.base_url, batches, [len(c) for c in chunks], args.batch_clients, office, deadline, phase
                    )
                    count = len(rows)
                elif phase == "service" and pg_info and round_ == 0:
                    with SessionSampler(pg_info, deadline) as sampler:
                        timed = post_observations(server.base_url, bodies, args.clients, office, deadline, phase)
                    run.sessions = sampler.summary(len(bodies))
                    count = len(bodies)
                else:
                    timed = post_observations(server.base_url, bodies, args.clients, office, deadline, phase)
                    count = len(bodies)
                cpu = cpu_between(timed.cpu_before, timed.cpu_after, server.group, timed.seconds)
                run.add(phase, Rate(phase, count, timed.seconds, timed.latencies, cpu=cpu))
    finally:
        for server in set(servers.values()):
            server.stop()
    singles = args.warmup + args.rounds * args.observations
    batched = args.batch_size + args.rounds * args.batch_observations
    if pg_info:
        run.checked = verify_postgres(pg_info)(singles + batched)
    else:
        run.checked = verify_sqlite(Path(make_url(database_url).database or ""))(singles + batched)
    probe_rows = batch_rows(2 * args.batch_size, batch_codes, args.seed, batch_total - 2 * args.batch_size)
    probe_batches = [
        json.dumps({"observations": probe_rows[start : start + args.batch_size]}).encode()
        for start in range(0, len(probe_rows), args.batch_size)
    ]
    probe_singles = observation_bodies(args.probe + 1, code, args.seed, singles)
    run.per_post = probe_statements(database_url, office, probe_singles, probe_batches, workdir)
    return run


# -- report -------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _pooled(rates: list[Rate]) -> Rate:
    latencies = [latency for rate in rates for latency in rate.latencies]
    return Rate(rates[0].label, sum(r.count for r in rates), sum(r.seconds for r in rates), latencies)


def _spread(values: list[float], digits: int = 0, suffix: str = "") -> str:
    median = statistics.median(values)
    low, high = min(values), max(values)
    return f"{median:,.{digits}f}{suffix} ({low:,.{digits}f}-{high:,.{digits}f})"


RATIOS = (
    ("service", "minimal", "P1': single POST / minimal INSERT endpoint", 0.6),
    ("service", "eventsourcing", "single POST / eventsourcing Application", 1.0),
    ("service batches", "COPY batches", "P2': batch / minimal COPY endpoint", 0.45),
    ("eventsourcing", "minimal", "(info) eventsourcing Application / minimal", None),
)


def report(run: StoreRun, args: argparse.Namespace) -> None:
    table = Table(
        title=f"{run.store}: {args.rounds} interleaved rounds, {args.workers} uvicorn workers, "
        f"{args.clients} clients x {args.observations} POSTs, {args.batch_clients} clients x "
        f"{args.batch_observations} rows in batches of {args.batch_size}; median (min-max)"
    )
    for column in ("phase", "items/s", "spread", "p50 ms", "p99 ms", "server CPU ms/item", "PostgreSQL CPU ms/item"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for phase, rates in run.rates.items():
        per_second = [rate.per_second for rate in rates]
        pooled = _pooled(rates)
        server = [rate.cpu["server"] / rate.count * 1000 for rate in rates]
        postgres = [rate.cpu["postgres"] / rate.count * 1000 for rate in rates]
        spread = (max(per_second) - min(per_second)) / statistics.median(per_second)
        table.add_row(
            phase,
            _spread(per_second),
            f"{spread:.0%}",
            _ms(pooled.percentile(50)),
            _ms(pooled.percentile(99)),
            _spread(server, 2),
            _spread(postgres, 2) if run.store == "PostgreSQL" else "-",
        )
    console.print()
    console.print(table)
    for mine, theirs, title, target in RATIOS:
        if mine not in run.rates or theirs not in run.rates:
            continue
        ratios = [a.per_second / b.per_second for a, b in zip(run.rates[mine], run.rates[theirs], strict=True)]
        verdict = ""
        if target is not None:
            verdict = " [green]met[/green]" if statistics.median(ratios) >= target else " [red]not met[/red]"
            verdict = f"   target >= {target}x:{verdict}"
        console.print(f"{title}: [bold]{_spread(ratios, 2, 'x')}[/bold]{verdict}")
    if run.per_post:
        statements, commits, batch_statements, batch_commits = run.per_post
        console.print(
            f"Statements per POST (1 client, Idempotency-Key): {statements:.1f}, commits {commits:.1f}; "
            f"per batch of {args.batch_size}: {batch_statements:.1f} statements, {batch_commits:.1f} commits"
        )
    if run.sessions:
        console.print(f"Under load (round 1): {run.sessions}")
    console.print(f"Checked: {run.checked}")
    machine = [rate.cpu["busy"] for rates in run.rates.values() for rate in rates]
    other = [rate.cpu["other"] / rate.seconds for rates in run.rates.values() for rate in rates]
    console.print(
        f"Machine busy during the phases: {_spread([b * 100 for b in machine], 0, '%')}; other processes' CPU: "
        f"{_spread(other, 2, ' cores')}"
    )


# -- main -----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an administrative connection; the bench database is created beside it",
    )
    parser.add_argument(
        "--database",
        default=BENCH_DATABASE,
        help=f"the PostgreSQL database to drop and create (default {BENCH_DATABASE}; two runs need two names)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--observations", type=int, default=3000, help="timed single POSTs per phase (default 3000)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients of single POSTs (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes per server (default 2)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed single POSTs per server first (default 200)")
    parser.add_argument(
        "--batch-observations",
        type=int,
        default=20_000,
        help="timed observations per batch phase (default 20000)",
    )
    parser.add_argument("--batch-size", type=int, default=1000, help="observations per batch (default 1000)")
    parser.add_argument("--batch-clients", type=int, default=4, help="concurrent batch clients (default 4)")
    parser.add_argument("--probe", type=int, default=100, help="POSTs whose statements are counted (default 100)")
    parser.add_argument("--sqlite", action="store_true", help="also run on an SQLite file")
    parser.add_argument("--sqlite-only", action="store_true", help="run on an SQLite file only")
    parser.add_argument("--seed", type=int, default=2017, help="seed of the varied observations")
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="hard limit on the whole run, seconds (default 1800)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 10 or not 1 <= args.probe <= 1000:
        parser.error("--rounds or --probe is out of range")
    for name in ("observations", "clients", "workers"):
        if not 1 <= getattr(args, name) <= (100_000 if name == "observations" else 64):
            parser.error(f"--{name} is out of range")
    if (
        not 1 <= args.batch_observations <= 200_000
        or not 1 <= args.batch_size <= 5000
        or not 1 <= args.batch_clients <= 8
    ):
        parser.error("--batch-observations, --batch-size or --batch-clients is out of range")
    if not 0 <= args.warmup <= 10_000 or not 10 <= args.timeout <= 7200:
        parser.error("--warmup or --timeout is out of range")
    return args


def _watchdog(seconds: float) -> threading.Timer:
    """The last resort: past the limit (+ grace), kill the servers and exit."""

    def fire() -> None:
        console.print(f"[red bold]Hard time limit ({seconds:.0f} s) exceeded: stopping.[/red bold]")
        _kill_servers_now()
        os._exit(EXIT_TIMEOUT)

    timer = threading.Timer(seconds + 30, fire)
    timer.daemon = True
    timer.start()
    return timer


def _postgres_settings(args: argparse.Namespace) -> dict[str, str] | int:
    admin = conninfo(args.postgres_url)
    try:
        settings = durability(admin)
    except psycopg.OperationalError as error:
        return _refuse(f"no PostgreSQL at {args.postgres_url}: {str(error).strip().splitlines()[0]}")
    if settings["synchronous_commit"] == "off":
        return _refuse("synchronous_commit is off: commits would not be durable, the figures meaningless.")
    recreate_database(admin, args.database)
    bench = conninfo(args.postgres_url, args.database)
    settings = durability(bench)  # as the servers will see it (role, database, PGOPTIONS)
    if settings["synchronous_commit"] == "off":
        return _refuse(f"synchronous_commit is off in {args.database}: commits would not be durable.")
    if settings["fsync"] != "on":
        console.print("[red bold]fsync is off: nothing is durable; the figures flatter every side.[/red bold]")
    return settings


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_loopback(args.postgres_url)
    deadline = Deadline(args.timeout)
    watchdog = _watchdog(args.timeout)
    workdir = Path(tempfile.mkdtemp(prefix="stocktake-bench-"))
    runs: list[StoreRun] = []
    try:
        load = background_load()
        loadavg = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
        console.print(
            f"{os.cpu_count()} CPUs; machine {load:.0%} busy before the run; load average {' '.join(loadavg)}; "
            f"logs in {workdir}"
        )
        if not args.sqlite_only:
            settings = _postgres_settings(args)
            if isinstance(settings, int):
                return settings
            console.print(
                f"PostgreSQL {settings['server_version']}: synchronous_commit={settings['synchronous_commit']}, "
                f"fsync={settings['fsync']}, wal_sync_method={settings['wal_sync_method']}"
            )
            bench = conninfo(args.postgres_url, args.database)
            service_url = make_url(bench).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
            runs.append(run_store("PostgreSQL", service_url, bench, args, deadline, workdir))
        if args.sqlite or args.sqlite_only:
            sqlite_url = f"sqlite:///{workdir / 'stocktake-bench.db'}"
            runs.append(run_store("SQLite", sqlite_url, None, args, deadline, workdir))
        for run in runs:
            report(run, args)
        shutil.rmtree(workdir, ignore_errors=True)  # kept only when something failed
        return 0
    except BenchTimeout as error:
        console.print(f"[red bold]Stopped:[/red bold] {error}")
        return EXIT_TIMEOUT
    except BenchFailure as error:
        console.print(f"[red bold]Benchmark failed:[/red bold] {error}")
        console.print(f"(server logs in {workdir})")
        return EXIT_FAILED
    finally:
        for server in list(_servers):
            server.stop()
        watchdog.cancel()


if __name__ == "__main__":
    sys.exit(main())
