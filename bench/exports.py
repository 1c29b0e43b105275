"""Speed of the observations export (GET /exports/observations.csv) on
PostgreSQL, beside a bare `COPY ... TO STDOUT` of the same rows.

What it does, in one run:
1. Makes a fresh database and loads it as bench/projections.py does (the
   framework, 30 benchmarks, 50 countries, 4 sectors; `--observations`
   observations with 5% corrections and 1% retractions, straight into the
   log), then builds the read models with a rebuild.
2. Serves the API with `stocktake serve` (one process, as a subprocess).
3. Times, back to back (`--rounds` times, the best of each kept):
   - the export through HTTP: the CSV read to its end by a streaming client
     (as of the last month, as known at the head: every observation that
     stands);
   - `COPY (<the export's own query>) TO STDOUT (FORMAT csv)` of the same
     rows, read to its end through psycopg: the floor a file of these rows
     could be made at.
   Prints rows/s of each, their ratio (target: the export at no less than a
   third of COPY's rate), and the server's resident memory before the
   export and at its peak (VmHWM), so that a flat memory shows as the peak
   staying near the start however many rows are exported.

The machine is shared: the load average is printed beside the figures.

Usage: python bench/exports.py [--observations N] [--rounds N] [--database NAME]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy.dialects import postgresql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.projections import bulk_load, fresh_database, set_up
from services.common.access import Role
from services.measurement.adapters.event_store import log_head
from services.measurement.application.queries.exports import ExportFilter, ExportPins, rows_query
from services.measurement.application.rebuild import rebuild
from services.measurement.bootstrap import bootstrap
from services.measurement.entrypoints.cli import run_migrations
from services.measurement.settings import Settings

console = Console()
REPO_ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2021, 12, 31)
# `stocktake serve`, from this checkout (the installed script may be another's).
SERVE = "from services.measurement.entrypoints.cli import app; app()"


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(url: str, data_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    environment = {**os.environ, "STOCKTAKE_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVE,
            "serve",
            "--port",
            str(port),
            "--database-url",
            url,
        ],
        cwd=REPO_ROOT,
        env=environment,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    until = time.monotonic() + 60
    while time.monotonic() < until:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(base + "/problems/validation-error", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the server did not answer")


def export_over_http(base: str, token: str, position: int) -> tuple[int, int, float]:
    """(rows, bytes, seconds) of the CSV export read to its end."""
    params = {"as_of": AS_OF.isoformat(), "at": str(position)}
    lines = size = 0
    started = time.perf_counter()
    with httpx.stream(
        "GET",
        base + "/exports/observations.csv",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=600,
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")  # CRLF line ends: a chunk may end between the two
    return lines - 1, size, time.perf_counter() - started


def bare_copy(url: str, position: int) -> tuple[int, int, float]:
    """(rows, bytes, seconds) of COPY of the export's own query, read to its end."""
    pins = ExportPins(AS_OF, position, None, None, None)
    query = rows_query(pins, ExportFilter(), with_ids=False)  # as the export reads them at the head
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))  # type: ignore[no-untyped-call]
    lines = size = 0
    started = time.perf_counter()
    with (
        psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection,
        connection.cursor() as cursor,
        cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy,
    ):
        for block in copy:
            size += len(block)
            lines += bytes(block).count(b"\n")
    return lines, size, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--database", default="stocktake_bench_exports")
    args = parser.parse_args()

    url = fresh_database(args.postgres_url, args.database)
    settings = Settings(database_url=url)
    run_migrations(settings)
    services = bootstrap(settings)
    app = services.measurement
    codes, countries = set_up(app)
    console.print(f"Loading {args.observations:,} observations ...")
    bulk_load(app, codes, countries, args.observations, args.seed)
    rebuild(app)
    token = services.api_keys.issue("bench-auditor", Role.AUDITOR, frozenset(), None, "bench").token
    with app.database.snapshot() as connection:
        position = log_head(connection)
    services.close()

    with tempfile.TemporaryDirectory(prefix="stocktake-bench-") as scratch:
        process, base = serve(url, Path(scratch), Path(scratch, "server.log"))
        try:
            export_over_http(base, token, 1)  # warm: the app's first request
            before = memory_kib(process.pid, "VmRSS")
            http_best = copy_best = None
            for _ in range(args.rounds):
                http = export_over_http(base, token, position)
                copied = bare_copy(url, position)
                http_best = http if http_best is None or http[2] < http_best[2] else http_best
                copy_best = copied if copy_best is None or copied[2] < copy_best[2] else copy_best
            peak = memory_kib(process.pid, "VmHWM")
        finally:
            process.terminate()
            process.wait(timeout=20)
    assert http_best is not None and copy_best is not None
    if http_best[0] != copy_best[0]:
        console.print(f"[red]The export has {http_best[0]:,} rows, COPY {copy_best[0]:,}[/red]")
    table = Table(title=f"Export of {http_best[0]:,} observations (of {args.observations:,} loaded), PostgreSQL")
    for column in ("", "rows/s", "MB", "seconds"):
        table.add_column(column, justify="right")
    for name, (rows, size, seconds) in (("GET /exports/observations.csv", http_best), ("bare COPY", copy_best)):
        table.add_row(name, f"{rows / seconds:,.0f}", f"{size / 1e6:,.1f}", f"{seconds:.2f}")
    console.print(table)
    ratio = (http_best[0] / http_best[2]) / (copy_best[0] / copy_best[2])
    verdict = "met" if ratio >= 1 / 3 else "missed"
    console.print(f"export / COPY: {ratio:.2f} of COPY's rate (target >= 0.33: {verdict})")
    console.print(f"server memory: {before / 1024:,.0f} MiB before the export, peak {peak / 1024:,.0f} MiB")
    console.print(f"load average: {' '.join(f'{load:.2f}' for load in os.getloadavg())} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
