"""Speed of the reporting service: a full mid-term edition (with a previous
edition to restate against) on SQLite and PostgreSQL, beside the
measurement calls it makes, measured side by side in one run.

What it does, per store:
1. Makes a fresh store (an SQLite file in a temporary folder; a database
   `stocktake_bench_reports` on PostgreSQL), migrates it, sets up the
   programme of bench/projections.py (30 benchmarks, 50 countries, 4
   sectors) and bulk-loads the observations with its loader (5% corrections,
   1% retractions, 5% backdated), then rebuilds the read models.
2. Serves measurement (`stocktake serve`) and reporting
   (`python -m services.reporting.entrypoints.cli serve`) with uvicorn, each in
   its own process on a free 127.0.0.1 port, as in production, and issues a
   programme manager's key.
3. Makes a first mid-term edition pinned 1,000 positions before the head,
   so that each timed edition has a previous one: its restatements and
   trends cost what a real second edition costs.
4. `--repeats` times, interleaved so that a noisy neighbour hits all three
   alike:
   - the calls: the measurement reads an edition needs, made alone with
     httpx (one keep-alive connection, the same key, the same parameters):
     `GET /me`, `GET /progress/report` at the edition's pins with the
     quarterly series, `GET /framework`, the two reads of the previous
     edition's valid date (as known then and as known now), the signed
     checkpoint at the edition's position (`GET /transparency/checkpoint`),
     and the workplan's deliverables and milestones at the edition's pins;
   - create: `POST /reports` on reporting (with a fresh Idempotency-Key),
     which makes those calls and builds, renders (JSON, HTML, CSV, XLSX),
     hashes and stores the edition;
   - verify: `GET /reports/{id}/verification` of that edition, which makes
     the calls again and renders and hashes every format (it must match).
5. Prints the medians and the ratios against the goals: creation at most
   1.5x the calls (the service adds at most 50%), verification at most 1x
   creation. Beside the seconds, the CPU seconds each step cost (from
   /proc, Linux only): the measurement process's, plus for the calls this
   bench's own (it reads the answers as reporting does) and for create and
   verify the reporting process's and its XLSX worker's. On a machine
   shared with other work, the seconds stretch with its load; the CPU
   seconds much less, so their ratios compare runs made at another load.

Before and after, side by side: `--before TREE` serves a second reporting
service from another copy of the code (e.g. `git archive <commit> | tar -x
-C /tmp/before`) against the same measurement and store, and each round
times its create and verify beside this tree's, alternating which goes
first. Every server runs the code of its own tree (PYTHONPATH), so run the
bench from a copy too when the working tree holds unfinished changes.
`--database-url` reuses a store this bench loaded before (1,000,000
observations take a while): its editions are deleted, a new key issued.

Timings are printed, never asserted (the machines are shared and noisy).

Usage: python -m bench.reports [--observations 100000 1000000] [--stores sqlite postgresql] [--repeats 5]
       [--before TREE] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from bench.projections import bulk_load, fresh_database, set_up
from services.common.access import Role
from services.measurement.application.rebuild import MAX_WORKERS, rebuild
from services.measurement.bootstrap import bootstrap
from services.measurement.entrypoints.cli import run_migrations
from services.measurement.settings import Settings

console = Console(width=150)
ROOT = Path(__file__).resolve().parents[1]
MID_TERM_AS_OF = "2019-10-31"
EARLIER_BY = 1000  # positions between the previous edition and the timed ones
GOAL_CREATE = 1.5
GOAL_VERIFY = 1.0


@dataclass(frozen=True)
class Figures:
    store: str
    observations: int
    events: int
    calls: list[float]
    create: list[float]
    verify: list[float]
    cells: int
    restatements: int
    cpu: dict[str, list[float]]  # CPU seconds per step: calls, create, verify
    before: dict[str, Any] | None = None  # create, verify and cpu of the --before tree's reporting


TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, from /proc (reporting's XLSX worker is its child)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            pending.extend(int(child) for child in task.read_text().split())
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process `pid` and its descendants so far (0 off Linux)."""
    total = 0
    for member in _process_tree(pid) if Path(f"/proc/{pid}/stat").exists() else []:
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / TICKS


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(command: list[str], env: dict[str, str], url: str, log: Path, tree: Path = ROOT) -> Iterator[int]:
    """A server process running the code of `tree` (started here, stopped
    here by its own pid) once it answers."""
    env = {**env, "PYTHONPATH": str(tree)}
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=tree)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(command)} did not start: see {log}")
            try:
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def store_url(store: str, admin_url: str, folder: Path) -> str:
    if store == "sqlite":
        return f"sqlite:///{folder / 'bench-reports.db'}"
    return fresh_database(admin_url, "stocktake_bench_reports")


def load(url: str, folder: Path, observations: int, seed: int) -> tuple[str, int]:
    """A migrated store with the bench programme and `observations` loaded and
    projected; returns a programme manager's key and the log's head."""
    settings = Settings(database_url=url, data_dir=folder)
    run_migrations(settings)
    services = bootstrap(settings)
    try:
        app = services.measurement
        codes, countries = set_up(app)
        console.print(f"  loading {observations:,} observations ...")
        seconds = bulk_load(app, codes, countries, observations, seed)
        head = app.event_log.max_notification_id() or 0
        console.print(f"  loaded {head:,} events in {seconds:.0f} s; rebuilding the read models ...")
        started = time.perf_counter()
        workers = min(os.cpu_count() or 1, MAX_WORKERS) if url.startswith("postgresql") else None
        rebuild(app, workers=workers)
        console.print(f"  rebuilt in {time.perf_counter() - started:.0f} s")
        if url.startswith("sqlite"):
            with app.database.engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
        token = services.api_keys.issue("bench-manager", Role.PROGRAMME_MANAGER, [], None, "bench").token
        return token, head
    finally:
        services.close()


def reuse(url: str, folder: Path) -> tuple[str, int]:
    """A store this bench loaded before: its editions deleted (each run makes
    its own previous edition), a new programme manager's key, and the head."""
    settings = Settings(database_url=url, data_dir=folder)
    services = bootstrap(settings)
    try:
        with services.measurement.database.engine.begin() as connection:
            connection.execute(text("DELETE FROM reporting_renderings"))
            connection.execute(text("DELETE FROM reporting_editions"))
        token = services.api_keys.issue("bench-manager", Role.PROGRAMME_MANAGER, [], None, "bench").token
        return token, services.measurement.event_log.max_notification_id() or 0
    finally:
        services.close()


def timed(action: Callable[..., Any], *args: Any, **options: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action(*args, **options)
    return time.perf_counter() - started, result


def ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    answer: dict[str, Any] = response.json()
    return answer


def the_calls(measurement: httpx.Client, head: int, previous: dict[str, Any]) -> None:
    """The measurement reads one edition needs (what reporting's create and verify make)."""
    ok(measurement.get("/me"))
    ok(measurement.get("/progress/report", params={"as_of": MID_TERM_AS_OF, "series": "true", "at": head}))
    ok(measurement.get("/framework", params={"at": head}))
    for position in (previous["position"], head):
        params = {"as_of": previous["as_of"], "series": "false", "at": position}
        ok(measurement.get("/progress/report", params=params))
    ok(measurement.get("/transparency/checkpoint", params={"size": head}, headers={"Accept": "application/json"}))
    for path in ("/workplan/deliverables", "/workplan/milestones"):
        ok(measurement.get(path, params={"as_of": MID_TERM_AS_OF, "at": head}))


def create(reporting: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    return ok(reporting.post("/reports", json={"kind": "mid-term"}, headers=headers))


def verify(reporting: httpx.Client, edition: str) -> dict[str, Any]:
    return ok(reporting.get(f"/reports/{edition}/verification"))


@dataclass(frozen=True)
class Service:
    """A served reporting service: its client and its process id."""

    name: str
    client: httpx.Client
    pid: int


def measure(
    measurement: httpx.Client, reportings: list[Service], head: int, repeats: int, m_pid: int
) -> dict[str, Any]:
    """The interleaved timings, with the CPU seconds of each step, per
    reporting service (this tree's first), and what the last edition held."""
    first_client = reportings[0].client
    first = ok(first_client.post("/reports", json={"kind": "mid-term", "known_at": max(1, head - EARLIER_BY)}))
    previous = {"as_of": first["as_of"], "position": first["position"]}
    found: dict[str, Any] = {"calls": [], "cpu": {"calls": []}}
    for service in reportings:
        found[service.name] = {"create": [], "verify": [], "cpu": {"create": [], "verify": []}}

    def cpu_now(pid: int) -> tuple[float, float, float]:
        return cpu_seconds(m_pid), cpu_seconds(pid), time.process_time()

    def cpu_of(before: tuple[float, float, float], pid: int, client_is_bench: bool) -> float:
        after = cpu_now(pid)
        # The calls' client is this bench; create's and verify's is reporting.
        client = after[2] - before[2] if client_is_bench else after[1] - before[1]
        return after[0] - before[0] + client

    the_calls(measurement, head, previous)  # warm both processes' caches and connections alike
    for service in reportings:
        ok(service.client.get("/reports"))
    made: dict[str, Any] = {}
    for round_number in range(repeats):
        before = cpu_now(m_pid)
        seconds, _ = timed(the_calls, measurement, head, previous)
        found["cpu"]["calls"].append(cpu_of(before, m_pid, True))
        found["calls"].append(seconds)
        # Alternate which service goes first, so that neither always follows the calls.
        order = reportings if round_number % 2 == 0 else list(reversed(reportings))
        for service in order:
            key = {"Idempotency-Key": f"bench-{uuid.uuid4()}"}
            before = cpu_now(service.pid)
            seconds, made = timed(create, service.client, key)
            found[service.name]["cpu"]["create"].append(cpu_of(before, service.pid, False))
            found[service.name]["create"].append(seconds)
            if made["previous"]["id"] != first["id"] or made["position"] != head:
                raise RuntimeError(f"The edition is not pinned as the bench expects: {made}")
            before = cpu_now(service.pid)
            seconds, verification = timed(verify, service.client, made["id"])
            found[service.name]["cpu"]["verify"].append(cpu_of(before, service.pid, False))
            found[service.name]["verify"].append(seconds)
            if not verification["match"]:
                raise RuntimeError(f"Verification did not match: {verification}")
    found["content"] = ok(first_client.get(f"/reports/{made['id']}/renderings/json"))
    return found


def bench_store(store: str, observations: int, args: argparse.Namespace) -> Figures:
    console.print(f"[bold]{store}, {observations:,} observations[/bold]")
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stocktake-bench-reports-")))
        if args.database_url:
            url = args.database_url
            token, head = reuse(url, folder)
            console.print(f"  reusing {url} ({head:,} events)")
        else:
            url = store_url(store, args.postgres_url, folder)
            token, head = load(url, folder, observations, args.seed)
        env = {**os.environ, "STOCKTAKE_DATABASE_URL": url, "STOCKTAKE_DATA_DIR": str(folder)}
        m_port, r_port = free_port(), free_port()
        m_url, r_url = f"http://127.0.0.1:{m_port}", f"http://127.0.0.1:{r_port}"
        bin_dir = Path(sys.executable).parent
        measurement_pid = stack.enter_context(
            served([str(bin_dir / "stocktake"), "serve", "--port", str(m_port)], env, m_url, folder / "m.log")
        )
        reporting_command = [sys.executable, "-m", "services.reporting.entrypoints.cli", "serve"]
        reporting_command += ["--port", str(r_port), "--measurement-url", m_url]
        reporting_pid = stack.enter_context(served(reporting_command, env, r_url, folder / "r.log"))
        headers = {"Authorization": f"Bearer {token}"}
        measurement = stack.enter_context(httpx.Client(base_url=m_url, headers=headers, timeout=600))
        reportings = [
            Service(
                "after", stack.enter_context(httpx.Client(base_url=r_url, headers=headers, timeout=600)), reporting_pid
            )
        ]
        if args.before is not None:
            b_port = free_port()
            b_url = f"http://127.0.0.1:{b_port}"
            command = [sys.executable, "-m", "services.reporting.entrypoints.cli", "serve"]
            command += ["--port", str(b_port), "--measurement-url", m_url]
            b_pid = stack.enter_context(served(command, env, b_url, folder / "b.log", args.before.resolve()))
            client = stack.enter_context(httpx.Client(base_url=b_url, headers=headers, timeout=600))
            reportings.append(Service("before", client, b_pid))
        found = measure(measurement, reportings, head, args.repeats, measurement_pid)
    content = found["content"]
    benchmarks = [b for a in content["assumptions"] for b in a["benchmarks"]]
    after = found["after"]
    return Figures(
        store,
        observations,
        head,
        found["calls"],
        after["create"],
        after["verify"],
        sum(len(b["cells"]) for b in benchmarks),
        len(content["restatements"]),
        {"calls": found["cpu"]["calls"], **after["cpu"]},
        found.get("before"),
    )


def verdict(ratio: float, goal: float) -> str:
    return f"{ratio:.2f}x ({'met' if ratio <= goal else 'MISSED'}, goal <= {goal:g}x)"


def _variants(r: Figures) -> list[tuple[str, list[float], list[float], dict[str, list[float]]]]:
    """This tree's reporting and, with --before, the other tree's: (name, create, verify, cpu)."""
    found = [("this tree" if r.before is not None else "", r.create, r.verify, r.cpu)]
    if r.before is not None:
        found.append(("before", r.before["create"], r.before["verify"], r.before["cpu"]))
    return found


def show(results: list[Figures], repeats: int) -> None:
    table = Table(title=f"A full mid-term edition, medians of {repeats} (seconds)")
    for column in ("store", "observations", "cells", "reporting", "calls alone", "create", "create / calls", "verify"):
        table.add_column(column, justify="right")
    table.add_column("verify / create", justify="right")
    for r in results:
        calls = statistics.median(r.calls)
        for name, creates, verifies, _ in _variants(r):
            create, verify = statistics.median(creates), statistics.median(verifies)
            table.add_row(
                r.store,
                f"{r.observations:,} ({r.events:,} events)",
                f"{r.cells:,}",
                name,
                f"{calls:.3f}",
                f"{create:.3f}",
                verdict(create / calls, GOAL_CREATE),
                f"{verify:.3f}",
                verdict(verify / create, GOAL_VERIFY),
            )
    console.print(table)
    cpu = Table(title=f"The same, CPU seconds of the processes at work (medians of {repeats})")
    for column in ("store", "observations", "reporting", "calls alone", "create", "create / calls", "verify"):
        cpu.add_column(column, justify="right")
    cpu.add_column("verify / create", justify="right")
    for r in results:
        calls = statistics.median(r.cpu["calls"])
        for name, _, _, seconds in _variants(r):
            create, verify = statistics.median(seconds["create"]), statistics.median(seconds["verify"])
            cpu.add_row(
                r.store,
                f"{r.observations:,}",
                name,
                f"{calls:.3f}",
                f"{create:.3f}",
                f"{create / calls:.2f}x",
                f"{verify:.3f}",
                f"{verify / create:.2f}x",
            )
    console.print(cpu)
    for r in results:
        for name, creates, verifies, seconds in _variants(r):
            console.print(
                f"{r.store} {r.observations:,} {name}: calls {[round(s, 3) for s in r.calls]}, create "
                f"{[round(s, 3) for s in creates]}, verify {[round(s, 3) for s in verifies]}; CPU calls "
                f"{[round(s, 3) for s in r.cpu['calls']]}, create {[round(s, 3) for s in seconds['create']]}, "
                f"verify {[round(s, 3) for s in seconds['verify']]}; {r.restatements} restatements against the "
                "previous edition",
                soft_wrap=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--observations", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--stores", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument(
        "--before", type=Path, help="Another copy of the code whose reporting is timed beside this tree's"
    )
    parser.add_argument(
        "--database-url",
        help="A store this bench loaded before, reused as it is (one store, one size: the load is skipped)",
    )
    args = parser.parse_args()
    results = []
    for observations in args.observations:
        for store in args.stores:
            results.append(bench_store(store, observations, args))
            show(results, args.repeats)


if __name__ == "__main__":
    main()
