"""Ingest benchmark: how fast the real HTTP API records observations, next to
the floor it has to beat (durable single-row inserts straight into PostgreSQL),
measured side by side in one run on one machine.

Run:  python bench/ingest.py [--observations 4000] [--clients 16] [--workers 2]
                             [--batch-observations 20000] [--batch-size 1000] [--batch-clients 4]
                             [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]
                             [--warmup 200] [--sqlite] [--timeout 300] [--seed 2017]

What is measured
----------------
1. **API** -- observations recorded per second through HTTP. The script
   (re)creates the database `stocktake_bench` (DROP ... WITH (FORCE), CREATE),
   runs `stocktake migrate` and `stocktake load-framework` against it, starts
   `stocktake serve --workers W` (a real uvicorn, W worker processes) on a free
   127.0.0.1 port, defines one percentage benchmark and selects BGD, VNM, ETH,
   IND and KHM over HTTP (the bodies of `tests/support.py`), warms up, then
   times N POST /observations (varied countries, periods, values, two
   disaggregated values, one evidence link, a fresh `Idempotency-Key` each)
   sent by C concurrent clients (threads, each with its own `httpx.Client`
   and keep-alive connection). Every answer must be 201, or the run fails
   (exit 1). Afterwards the store is checked: the observations are all in the
   read model and the log is gap-free. Each observation is one event, one
   `stored_events` row, one read-model row and one tracking update (at the
   time of writing), committed in one transaction.
2. **raw** -- the floor: single-row `INSERT` + `COMMIT` with psycopg 3 into a
   table shaped like `stored_events` (bigint key, uuid, int, text, ~400-byte
   bytea, timestamptz, the same unique constraint and index), N rows, with
   (a) C concurrent connections and (b) one connection. PostgreSQL can merge
   the WAL flushes of concurrent commits (group commit), so (a) is usually
   well above (b); (b) is roughly 1 / (one durable commit).
   An extra, informational row (c) repeats (a) with what the event store does
   on every write -- `LOCK TABLE ... IN EXCLUSIVE MODE` and `max(position)`
   to number events gap-free -- which serialises the writers: it shows the
   ceiling that design puts on any API built on it.
3. **batches** -- observations per second through `POST /observations/batch`
   (the bulk import a country office uses): M distinct observations (each its
   own benchmark, country and day, so none is "already present"), in
   batches of B, sent by K concurrent clients to the same server, every
   answer checked (200, all B imported). Beside it, the floor of a batch:
   psycopg `COPY` of M rows shaped like `stored_events` into the raw table,
   B rows per COPY, each COPY committed, one connection. Target: API
   batches >= 0.15x COPY. (A batch does far more per row than COPY: HTTP,
   JSON parsing, validation against the benchmark and scope, the event, the
   read-model rows, the per-row summary.) Keys: a programme manager's and a
   country office's key are issued straight into the bench database before
   it is served.
4. Both sides are durable: `SHOW synchronous_commit` must be `on` (the run
   refuses with exit 2 if it is `off`) and `SHOW fsync` is printed (a warning
   if off). Both are read on a connection to the bench database with this
   process's environment, which the server subprocess inherits (PGOPTIONS
   included).
`--sqlite` adds an API run against an SQLite file (WAL, `synchronous=FULL`,
as `adapters/database.py` sets it) and, for it, a raw single-connection
SQLite insert+commit floor with the same settings.

The raw phases run while no server is up; the API phase runs with the client
threads, the uvicorn workers and PostgreSQL all on this machine. For each
timed phase (from the moment every client is connected to the last answer)
the CPU table gives the CPU seconds of this script (the load generator), of
the server's process group, of PostgreSQL (its processes alive at the end of
the phase) and of every other process, and how busy the machine was, all
read from /proc. During the API phase on PostgreSQL a sampler (every 100 ms,
one extra connection) reads pg_stat_activity and pg_locks: how many sessions
wait on a lock, and what the holder of the log's write lock is doing.

How to read it
--------------
* `API / raw(C connections)` is the headline: the same concurrency on both
  sides. The target is API >= 0.5x raw, i.e. the service may spend at most
  as much again as the bare durable insert on HTTP, validation, the event
  store and the read model.
* `API / raw(1 connection)` says whether the API beats fully serialised
  commits. Row (c) is the ceiling of the event store's serialised numbering
  with no service code at all inside the lock.
* The sampler line says where a serialised API spends its lock: most
  sessions "waiting on a lock" with the holder mostly "idle in transaction"
  means the writers queue behind service code (Python, GIL, round trips)
  run while the log's lock is held; a holder mostly "flushing WAL" means
  the disk sets the pace.
* p50/p95 are per request (client side, full HTTP round trip) or per
  insert+commit (raw).
* Machine busy near 100% means the figures are CPU-bound on this box (the
  load generator included), not disk-bound. Other processes' CPU (a test
  run beside the bench, say) makes the figures noisy: the script warns when
  the machine is already busy before it starts; compare runs only when that
  column is near zero.
The script exits 0 whatever the ratio: it measures, it does not judge.
Exit 1: a request failed or the service misbehaved; 2: not durable or bad
arguments; 3: the hard time limit (`--timeout`, default 300 s) was hit.
Only 127.0.0.1 is ever contacted; every loop is bounded in count and time,
and the server subprocess (and its workers) is always stopped.
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
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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
RAW_TABLE = "bench_raw_events"
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


def recreate_database(admin_info: str) -> None:
    with psycopg.connect(admin_info, autocommit=True, connect_timeout=5) as connection:
        name = sql.Identifier(BENCH_DATABASE)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def checkpoint(info: str) -> None:
    """Starts each timed phase with the WAL flushed, so no phase inherits a checkpoint."""
    try:
        with psycopg.connect(info, autocommit=True, connect_timeout=5) as connection:
            connection.execute("CHECKPOINT")
    except psycopg.Error as error:  # not a superuser: the phases just share the risk
        console.print(f"[yellow]CHECKPOINT not run ({error.__class__.__name__}); phases may meet one.[/yellow]")


def raw_state(size: int = 400) -> bytes:
    """An Observation.Recorded-like JSON document, padded to `size` bytes."""
    document = json.dumps(
        {
            "benchmark": "CA2-INSPECTION",
            "assumption": "CA2",
            "country": "BGD",
            "sector": None,
            "period": "2019-Q2",
            "period_start": {"_type_": "date_iso", "_data_": "2019-04-01"},
            "period_end": {"_type_": "date_iso", "_data_": "2019-06-30"},
            "value": 12.5,
            "disaggregations": [{"dimension": "sex", "category": "female", "value": 11.0}],
            "evidence": [{"title": "Inspection report", "url": "https://example.org/report.pdf"}],
            "comment": "",
            "principal": "anonymous",
        },
        separators=(",", ":"),
    ).encode()
    return document + b" " * max(0, size - len(document))


def raw_inserts(
    info: str, rows: int, connections: int, deadline: Deadline, *, locked: bool, label: str, note: str = ""
) -> Rate:
    """`rows` single-row INSERT + COMMIT over `connections` connections."""
    state = raw_state()
    insert = sql.SQL(
        "INSERT INTO {} (position, originator_id, originator_version, topic, state, recorded_at) "
        "VALUES (%s, %s, %s, %s, %s, %s)"
    ).format(sql.Identifier(RAW_TABLE))
    lock = sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(RAW_TABLE))
    head = sql.SQL("SELECT coalesce(max(position), 0) FROM {}").format(sql.Identifier(RAW_TABLE))
    with psycopg.connect(info, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(RAW_TABLE)))
    checkpoint(info)

    def make_worker() -> tuple[Callable[[int], None], Callable[[], None]]:
        connection = psycopg.connect(info, connect_timeout=5)

        def step(index: int) -> None:
            if locked:  # what EventLogRecorder does: serialised, gap-free numbering
                connection.execute(lock)
                position = int(connection.execute(head).fetchone()[0]) + 1  # type: ignore[index]
            else:
                position = index + 1
            connection.execute(insert, (position, uuid.uuid4(), 1, TOPIC, state, datetime.now(UTC)))
            connection.commit()

        return step, connection.close

    timed = _timed_threads(rows, connections, deadline, make_worker, f"timing {label}")
    seconds, latencies = timed.seconds, timed.latencies
    cpu = cpu_between(timed.cpu_before, timed.cpu_after, None, seconds)
    with psycopg.connect(info, autocommit=True, connect_timeout=5) as connection:
        stored = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(RAW_TABLE))).fetchone()
    if stored is None or stored[0] != rows:
        raise BenchFailure(f"{label}: {rows} rows inserted but {stored} found")
    return Rate(label, rows, seconds, latencies, note, cpu)


def create_raw_table(info: str) -> None:
    with psycopg.connect(info, autocommit=True, connect_timeout=5) as connection:
        name = sql.Identifier(RAW_TABLE)
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
        connection.execute(
            sql.SQL(
                "CREATE TABLE {} (position bigint PRIMARY KEY, originator_id uuid NOT NULL, "
                "originator_version integer NOT NULL, topic text NOT NULL, state bytea NOT NULL, "
                "recorded_at timestamptz NOT NULL, UNIQUE (originator_id, originator_version))"
            ).format(name)
        )
        connection.execute(sql.SQL("CREATE INDEX ON {} (recorded_at)").format(name))


def drop_raw_table(info: str) -> None:
    with psycopg.connect(info, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(RAW_TABLE)))


def raw_sqlite(path: Path, rows: int, deadline: Deadline) -> Rate:
    """The SQLite floor: one connection, WAL, synchronous=FULL, INSERT + COMMIT."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute(
            f"CREATE TABLE {RAW_TABLE} (position INTEGER PRIMARY KEY, originator_id BLOB NOT NULL, "
            "originator_version INTEGER NOT NULL, topic TEXT NOT NULL, state BLOB NOT NULL, "
            "recorded_at TEXT NOT NULL, UNIQUE (originator_id, originator_version))"
        )
        connection.execute(f"CREATE INDEX raw_recorded_at ON {RAW_TABLE} (recorded_at)")
        state = raw_state()
        statement = f"INSERT INTO {RAW_TABLE} VALUES (?, ?, ?, ?, ?, ?)"
        latencies = []
        before = CpuSample.take()
        started = time.perf_counter()
        for index in range(rows):
            if index % 100 == 0:
                deadline.check("timing raw SQLite inserts")
            begun = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            values = (index + 1, uuid.uuid4().bytes, 1, TOPIC, state, datetime.now(UTC).isoformat())
            connection.execute(statement, values)
            connection.execute("COMMIT")
            latencies.append(time.perf_counter() - begun)
        seconds = time.perf_counter() - started
        cpu = cpu_between(before, CpuSample.take(), None, seconds)
    finally:
        connection.close()
    return Rate("raw SQLite, 1 connection", rows, seconds, latencies, "WAL, synchronous=FULL", cpu)


# -- the service ----------------------------------------------------------------


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
    """`stocktake serve` as a subprocess in its own process group."""

    def __init__(self, database_url: str, workers: int, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.base_url = f"http://{HOST}:{self.port}"
        self._out = log.open("ab")
        self.process = subprocess.Popen(
            [
                stocktake_command(),
                "serve",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--database-url",
                database_url,
            ],
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
                    if client.get("/problems/validation-error").status_code == 200:
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


def batch_rows(count: int, codes: list[str], seed: int) -> list[dict[str, Any]]:
    """Distinct observations (each its own benchmark, country and day), as a
    country office's spreadsheet would hold them."""
    rows = []
    countries = list(COUNTRIES)
    start = date(2017, 1, 1)
    for index in range(count):
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


def raw_copy(info: str, rows: int, batch: int, deadline: Deadline) -> Rate:
    """The floor of a batch: psycopg COPY of `rows` rows shaped like
    stored_events, `batch` rows per COPY, each COPY committed (one connection)."""
    state = raw_state()
    copy = sql.SQL(
        "COPY {} (position, originator_id, originator_version, topic, state, recorded_at) FROM STDIN"
    ).format(sql.Identifier(RAW_TABLE))
    with psycopg.connect(info, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(RAW_TABLE)))
    checkpoint(info)
    sizes = [min(batch, rows - start) for start in range(0, rows, batch)]

    def make_worker() -> tuple[Callable[[int], None], Callable[[], None]]:
        connection = psycopg.connect(info, connect_timeout=5)

        def step(index: int) -> None:
            first = index * batch
            with connection.cursor() as cursor, cursor.copy(copy) as writer:
                now = datetime.now(UTC)
                for position in range(first + 1, first + sizes[index] + 1):
                    writer.write_row((position, uuid.uuid4(), 1, TOPIC, state, now))
            connection.commit()

        return step, connection.close

    timed = _timed_threads(len(sizes), 1, deadline, make_worker, "timing raw COPY")
    cpu = cpu_between(timed.cpu_before, timed.cpu_after, None, timed.seconds)
    with psycopg.connect(info, autocommit=True, connect_timeout=5) as connection:
        stored = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(RAW_TABLE))).fetchone()
    if stored is None or stored[0] != rows:
        raise BenchFailure(f"raw COPY: {rows} rows copied but {stored} found")
    note = f"{batch} rows per COPY + COMMIT, 1 connection; p50/p95 per COPY"
    return Rate("raw PostgreSQL COPY", rows, timed.seconds, timed.latencies, note, cpu)


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


def api_rate(
    label: str,
    database_url: str,
    args: argparse.Namespace,
    deadline: Deadline,
    log: Path,
    verify: Callable[[int], str] | None,
    before_timing: Callable[[], None] | None = None,
    sample_sessions: str | None = None,
) -> tuple[Rate, Rate | None]:
    """The single-observation rate and, if asked, the batch rate, on one server."""
    console.print(f"[bold]{label}[/bold]: migrate, load the framework, serve ({args.workers} workers)")
    run_cli(["migrate", "--database-url", database_url], deadline, log)
    run_cli(["load-framework", "--database-url", database_url], deadline, log)
    keys = issue_keys(database_url)
    office = keys[Role.COUNTRY_OFFICE]
    server = Server(database_url, args.workers, log)
    batched: Rate | None = None
    try:
        server.wait_ready(deadline)
        code, batch_codes = set_up_programme(server.base_url, keys, batch_benchmarks_needed(args.batch_observations))
        if args.warmup:
            warmup = observation_bodies(args.warmup, code, args.seed, 0)
            post_observations(server.base_url, warmup, args.clients, office, deadline, "warming up")
        bodies = observation_bodies(args.observations, code, args.seed, args.warmup)
        if before_timing is not None:
            before_timing()
        console.print(f"  timing {args.observations} observations, {args.clients} clients")
        if sample_sessions is not None:
            with SessionSampler(sample_sessions, deadline) as sampler:
                timed = post_observations(server.base_url, bodies, args.clients, office, deadline, f"timing {label}")
            sessions = sampler.summary(len(bodies))
        else:
            timed = post_observations(server.base_url, bodies, args.clients, office, deadline, f"timing {label}")
            sessions = ""
        seconds, latencies = timed.seconds, timed.latencies
        cpu = cpu_between(timed.cpu_before, timed.cpu_after, server.group, seconds)
        if args.batch_observations:
            batched = _batch_rate(label, server, batch_codes, office, args, deadline, before_timing)
    finally:
        server.stop()
    checked = verify(args.warmup + args.observations + args.batch_observations) if verify else ""
    note = f"HTTP, {args.clients} clients, {args.workers} uvicorn workers"
    return Rate(label, args.observations, seconds, latencies, note, cpu, checked, sessions), batched


def _batch_rate(
    label: str,
    server: Server,
    codes: list[str],
    office: str,
    args: argparse.Namespace,
    deadline: Deadline,
    before_timing: Callable[[], None] | None,
) -> Rate:
    rows = batch_rows(args.batch_observations, codes, args.seed)
    chunks = [rows[start : start + args.batch_size] for start in range(0, len(rows), args.batch_size)]
    batches = [json.dumps({"observations": chunk}).encode() for chunk in chunks]
    if before_timing is not None:
        before_timing()
    console.print(
        f"  timing {len(rows)} observations in {len(batches)} batches of {args.batch_size}, "
        f"{args.batch_clients} client(s)"
    )
    timed = post_batches(
        server.base_url,
        batches,
        [len(c) for c in chunks],
        args.batch_clients,
        office,
        deadline,
        f"timing {label} batches",
    )
    cpu = cpu_between(timed.cpu_before, timed.cpu_after, server.group, timed.seconds)
    note = f"POST /observations/batch, {args.batch_size} per batch, {args.batch_clients} client(s); p50/p95 per batch"
    return Rate(f"{label}, batches", len(rows), timed.seconds, timed.latencies, note, cpu)


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


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def report(
    api: Rate,
    batched: Rate | None,
    raws: list[Rate],
    extra: list[Rate],
    settings: dict[str, str],
    args: argparse.Namespace,
) -> None:
    raw_many, raw_one = raws[0], raws[1]
    copy = next((rate for rate in raws if rate.label == "raw PostgreSQL COPY"), None)
    table = Table(title=f"Ingest: {api.count} observations / rows per figure, one run, {os.cpu_count()} CPUs")
    table.add_column("measured")
    table.add_column("per second", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p95 ms", justify="right")
    table.add_column("API ÷ this", justify="right")
    table.add_column("note")
    for rate in [api, *([batched] if batched else []), *raws, *extra]:
        if rate is api or rate is batched:
            ratio_cell = ""
        elif rate is copy and batched is not None:
            ratio_cell = f"batch {batched.per_second / rate.per_second:.2f}x"
        elif rate.label.startswith("raw PostgreSQL"):
            ratio_cell = f"{api.per_second / rate.per_second:.2f}x"
        else:
            ratio_cell = "n/a"
        table.add_row(
            rate.label,
            f"{rate.per_second:,.0f}",
            _ms(rate.percentile(50)),
            _ms(rate.percentile(95)),
            ratio_cell,
            rate.note,
        )
    console.print()
    console.print(table)

    cpu = Table(title="CPU during each timed phase (seconds of CPU; machine busy %)")
    for column in ("phase", "wall s", "bench client", "server", "PostgreSQL", "other processes", "machine busy"):
        cpu.add_column(column, justify="left" if column == "phase" else "right")
    for rate in [api, *([batched] if batched else []), *raws, *extra]:
        if not rate.cpu:
            continue
        c = rate.cpu
        cpu.add_row(
            rate.label,
            f"{c['seconds']:.1f}",
            f"{c['client']:.1f}",
            f"{c['server']:.1f}" if c["server"] else "-",
            f"{c['postgres']:.1f}",
            f"{c['other']:.1f}",
            f"{c['busy'] * 100:.0f}%",
        )
    console.print(cpu)
    for rate in [api, *extra]:
        if rate.checked:
            console.print(f"Checked after {rate.label}: {rate.checked}")
        if rate.sessions:
            console.print(f"PostgreSQL during {rate.label}: {rate.sessions}")

    versus_many = api.per_second / raw_many.per_second
    versus_one = api.per_second / raw_one.per_second
    verdict = "[green]met[/green]" if versus_many >= 0.5 else "[red]not met[/red]"
    console.print(
        f"API / raw({args.clients} connections) = [bold]{versus_many:.2f}x[/bold]    "
        f"API / raw(1 connection) = [bold]{versus_one:.2f}x[/bold]    "
        f"target API >= 0.5x raw({args.clients} connections): {verdict}"
    )
    if batched is not None and copy is not None:
        ratio = batched.per_second / copy.per_second
        verdict = "[green]met[/green]" if ratio >= 0.15 else "[red]not met[/red]"
        console.print(
            f"API batches / raw COPY = [bold]{ratio:.2f}x[/bold]    target API batches >= 0.15x COPY: {verdict}"
        )
    sqlite_api = next((rate for rate in extra if rate.label == "API on SQLite"), None)
    sqlite_raw = next((rate for rate in extra if rate.label.startswith("raw SQLite")), None)
    if sqlite_api and sqlite_raw:
        ratio = sqlite_api.per_second / sqlite_raw.per_second
        console.print(f"API on SQLite / raw SQLite (1 connection) = [bold]{ratio:.2f}x[/bold]")
    console.print(
        f"PostgreSQL {settings['server_version']}: synchronous_commit={settings['synchronous_commit']}, "
        f"fsync={settings['fsync']}, wal_sync_method={settings['wal_sync_method']}, "
        f"full_page_writes={settings['full_page_writes']}; "
        f"machine busy before the run: {settings.get('background', '?')}; "
        f"uvicorn workers={args.workers}, "
        f"clients={args.clients}, warm-up={args.warmup}"
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
        "--observations", type=int, default=4000, help="timed observations, and raw rows (default 4000)"
    )
    parser.add_argument(
        "--clients", type=int, default=16, help="concurrent HTTP clients and raw connections (default 16)"
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed observations first (default 200)")
    parser.add_argument(
        "--batch-observations",
        type=int,
        default=20_000,
        help="timed observations sent through POST /observations/batch, and COPY rows (default 20000; 0: skip)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=1000, help="observations per batch and per COPY (default 1000)"
    )
    parser.add_argument("--batch-clients", type=int, default=4, help="concurrent batch clients (default 4)")
    parser.add_argument("--sqlite", action="store_true", help="also run the API half on an SQLite file")
    parser.add_argument("--seed", type=int, default=2017, help="seed of the varied observations")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="hard limit on the whole run, seconds (default 300)"
    )
    args = parser.parse_args(argv)
    for name in ("observations", "clients", "workers"):
        if not 1 <= getattr(args, name) <= (100_000 if name == "observations" else 64):
            parser.error(f"--{name} is out of range")
    if (
        not 0 <= args.batch_observations <= 200_000
        or not 1 <= args.batch_size <= 5000
        or not 1 <= args.batch_clients <= 8
    ):
        parser.error("--batch-observations, --batch-size or --batch-clients is out of range")
    if not 0 <= args.warmup <= 10_000 or not 10 <= args.timeout <= 3600:
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_loopback(args.postgres_url)
    deadline = Deadline(args.timeout)
    watchdog = _watchdog(args.timeout)
    admin = conninfo(args.postgres_url)
    bench = conninfo(args.postgres_url, BENCH_DATABASE)
    service_url = make_url(bench).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    workdir = Path(tempfile.mkdtemp(prefix="stocktake-bench-"))
    log = workdir / "server.log"
    try:
        try:
            settings = durability(admin)
        except psycopg.OperationalError as error:
            return _refuse(f"no PostgreSQL at {args.postgres_url}: {str(error).strip().splitlines()[0]}")
        if settings["synchronous_commit"] == "off":
            return _refuse("synchronous_commit is off: commits would not be durable, the figures meaningless.")
        load = background_load()
        if load > 0.2:
            console.print(
                f"[yellow]The machine is already {load:.0%} busy before the bench starts (other processes): "
                "the figures will be noisy; see 'other processes' in the CPU table.[/yellow]"
            )
        recreate_database(admin)
        settings = durability(bench)  # as the service will see it (role, database, PGOPTIONS)
        settings["background"] = f"{load:.0%}"
        if settings["synchronous_commit"] == "off":
            return _refuse(f"synchronous_commit is off in {BENCH_DATABASE}: commits would not be durable.")
        if settings["synchronous_commit"] != "on":
            console.print(f"[yellow]synchronous_commit={settings['synchronous_commit']} (not 'on').[/yellow]")
        if settings["fsync"] != "on":
            console.print("[red bold]fsync is off: neither side is durable; the figures flatter both.[/red bold]")
        console.print(
            f"PostgreSQL {settings['server_version']}: synchronous_commit={settings['synchronous_commit']}, "
            f"fsync={settings['fsync']}; logs in {workdir}"
        )

        console.print(f"[bold]raw PostgreSQL[/bold]: {args.observations} single-row INSERT + COMMIT each way")
        create_raw_table(bench)
        raws = [
            raw_inserts(
                bench,
                args.observations,
                args.clients,
                deadline,
                locked=False,
                label=f"raw PostgreSQL, {args.clients} connections",
                note="group commit can merge flushes",
            ),
            raw_inserts(
                bench,
                args.observations,
                1,
                deadline,
                locked=False,
                label="raw PostgreSQL, 1 connection",
                note="one flush per commit",
            ),
            raw_inserts(
                bench,
                args.observations,
                args.clients,
                deadline,
                locked=True,
                label=f"raw PostgreSQL, {args.clients} conns + table lock",
                note="(c) info: the event store's LOCK TABLE + max(position)",
            ),
        ]
        if args.batch_observations:
            console.print(
                f"[bold]raw PostgreSQL COPY[/bold]: {args.batch_observations} rows, {args.batch_size} per COPY"
            )
            raws.append(raw_copy(bench, args.batch_observations, args.batch_size, deadline))
        drop_raw_table(bench)

        api, batched = api_rate(
            "API on PostgreSQL",
            service_url,
            args,
            deadline,
            log,
            verify_postgres(bench),
            before_timing=lambda: checkpoint(bench),
            sample_sessions=bench,
        )
        extra: list[Rate] = []
        if args.sqlite:
            sqlite_file = workdir / "stocktake-bench.db"
            sqlite_url = f"sqlite:///{sqlite_file}"
            extra.extend(
                r for r in api_rate("API on SQLite", sqlite_url, args, deadline, log, verify_sqlite(sqlite_file)) if r
            )
            extra.append(raw_sqlite(workdir / "raw.db", args.observations, deadline))
        report(api, batched, raws, extra, settings, args)
        shutil.rmtree(workdir, ignore_errors=True)  # kept only when something failed
        return 0
    except BenchTimeout as error:
        console.print(f"[red bold]Stopped:[/red bold] {error}")
        return EXIT_TIMEOUT
    except BenchFailure as error:
        console.print(f"[red bold]Benchmark failed:[/red bold] {error}")
        console.print(f"(server log: {log})")
        return EXIT_FAILED
    finally:
        for server in list(_servers):
            server.stop()
        watchdog.cancel()


if __name__ == "__main__":
    sys.exit(main())
