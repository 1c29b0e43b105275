"""The as-of queries of `bench/projections.py` timed side by side for
several copies of the code (issue 11's speed clause: the roll-up and the
state within 1.2x of 8b1a10a's), on the same machine at the same moments.

Each copy (`--tree LABEL=PATH`, e.g. a `git worktree` of 8b1a10a in /tmp)
gets its own database, loaded once by that copy's own `bench/projections.py`
(`set_up`, `bulk_load` with the same seed: the same events at the same
positions; then a rebuild), and is served by a worker process running that
copy's code (its folder first on the path). The workers then answer the
same random (valid date D, log position P) queries, a state and a roll-up
each, in rounds whose order turns: per query, the wall time, the worker's
CPU time (with SQLite, all of the database's work too) and, on PostgreSQL,
the CPU time of the server processes serving that database
(/proc/PID/stat of the backends whose title names it, counted in ticks of
10 ms, so averaged over the round's queries). Each round gives each copy's
p50 wall and client CPU and mean server CPU; the table gives their medians
over the rounds and the ratio to the first copy's, taken round by round.

The answers of every copy but the first (the baseline: 8b1a10a ignored
sectors, so its answers differ) are checked byte for byte equal (the JSON
of the whole state and roll-up).

Usage:
  python bench/projections_compare.py --tree before=/tmp/before-8b1a10a --tree after=. \\
      --store sqlite --observations 100000 --rounds 6 --queries 40 --database stocktake_bench_compare
  (--reuse keeps databases already loaded by an earlier run with the same names; --load-only
  loads them and stops)
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

SQLITE_FOLDER_DEFAULT = "/tmp"
POSTGRES_URL_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


# -- in a worker: one copy of the code ------------------------------------------


def _tree_bench(tree: Path) -> Any:
    """The copy's own bench/projections.py (which puts its tree first on the path)."""
    sys.path.insert(0, str(tree))
    spec = importlib.util.spec_from_file_location("tree_bench_projections", tree / "bench" / "projections.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _url(args: argparse.Namespace, name: str, bench: Any, fresh: bool) -> str:
    if args.store == "sqlite":
        path = Path(args.sqlite_folder) / f"{name}.sqlite3"
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    if fresh:
        return str(bench.fresh_database(args.postgres_url, name))
    from sqlalchemy.engine import make_url

    from services.common.database import normalise_url

    return make_url(normalise_url(args.postgres_url)).set(database=name).render_as_string(hide_password=False)


def worker_load(args: argparse.Namespace) -> None:
    bench = _tree_bench(Path(args.worker_tree))
    url = _url(args, args.worker_database, bench, fresh=True)
    settings = bench.Settings(database_url=url)
    bench.run_migrations(settings)
    services = bench.bootstrap(settings)
    app = services.measurement
    codes, countries = bench.set_up(app)
    seconds = bench.bulk_load(app, codes, countries, args.observations, args.seed)
    with app.database.engine.connect() as connection:
        connection.execute(bench.text("ANALYZE"))
        connection.commit()
    workers = 1 if args.store == "sqlite" else min(os.cpu_count() or 1, bench.MAX_WORKERS)
    bench.rebuild(app, workers=workers)
    print(f"loaded {args.worker_database} in {seconds:.0f} s and rebuilt", file=sys.stderr)
    services.close()


def _backend_cpu(database_name: str) -> float:
    """CPU seconds of the PostgreSQL backends serving `database_name`."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    marker = f" {database_name} ".encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as file:
                title = file.read()
            if not title.startswith(b"postgres: ") or marker not in title:
                continue
            with open(f"/proc/{entry.name}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / ticks


def worker_serve(args: argparse.Namespace) -> None:
    bench = _tree_bench(Path(args.worker_tree))
    from services.measurement.application.queries import catalogue, progress

    url = _url(args, args.worker_database, bench, fresh=False)
    services = bench.bootstrap(bench.Settings(database_url=url))
    app = services.measurement
    assumptions = catalogue.framework(app)["document"]["critical_assumptions"]
    codes = [f"BENCH-CA{ca}-{kind}" for ca in range(1, 11) for kind in ("pct", "count", "stage")]
    head = app.event_log.max_notification_id() or 0
    first = min(int(catalogue.benchmark_or_404(app.database, code)["history"][0]["position"]) for code in codes)
    postgres = args.store == "postgresql"
    print(json.dumps({"head": head, "first": first, "codes": codes}), flush=True)
    for line in sys.stdin:
        queries = json.loads(line)
        results = []
        for kind, code, as_of_text, position in queries:
            as_of = date.fromisoformat(as_of_text)
            server = _backend_cpu(args.worker_database) if postgres else 0.0
            cpu = time.process_time()
            started = time.perf_counter()
            if kind == "state":
                answer = progress.benchmark_state(app.database, code, as_of, position)
            else:
                answer = progress.rollup(app.database, assumptions, as_of, position)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu
            server = (_backend_cpu(args.worker_database) - server) if postgres else 0.0
            digest = hashlib.sha256(json.dumps(answer, sort_keys=True, default=str).encode()).hexdigest()
            results.append([wall * 1000, cpu * 1000, server * 1000, digest])
        print(json.dumps(results), flush=True)
    services.close()


# -- the driver ------------------------------------------------------------------


def _worker_command(args: argparse.Namespace, mode: str, tree: Path, database: str) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", mode, "--worker-tree", str(tree)]
    command += ["--worker-database", database, "--store", args.store, "--sqlite-folder", args.sqlite_folder]
    command += ["--postgres-url", args.postgres_url, "--observations", str(args.observations)]
    return [*command, "--seed", str(args.seed)]


def _environment(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree)}


def _loaded(args: argparse.Namespace, database: str) -> bool:
    if args.store == "sqlite":
        return (Path(args.sqlite_folder) / f"{database}.sqlite3").exists()
    import psycopg

    with psycopg.connect(args.postgres_url, autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", default=[], help="LABEL=PATH, a copy of the code (first: baseline)")
    parser.add_argument("--store", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--queries", type=int, default=40, help="(D, P) samples per round, a state and a roll-up each")
    parser.add_argument("--database", default="stocktake_bench_compare", help="prefix of each copy's database")
    parser.add_argument("--reuse", action="store_true", help="keep databases loaded by an earlier run")
    parser.add_argument("--load-only", action="store_true", help="load the databases, time nothing")
    parser.add_argument("--sqlite-folder", default=SQLITE_FOLDER_DEFAULT)
    parser.add_argument("--postgres-url", default=POSTGRES_URL_DEFAULT)
    parser.add_argument("--worker", choices=("load", "serve"), help=argparse.SUPPRESS)
    parser.add_argument("--worker-tree", help=argparse.SUPPRESS)
    parser.add_argument("--worker-database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "load":
        worker_load(args)
        return
    if args.worker == "serve":
        worker_serve(args)
        return

    trees = [(label, Path(path).resolve()) for label, path in (tree.split("=", 1) for tree in args.tree)]
    if len(trees) < 2:
        parser.error("give at least two --tree LABEL=PATH")
    databases = {label: f"{args.database}_{label}_{args.observations}" for label, _ in trees}
    print(f"load average at start: {_load_average()}")
    for label, tree in trees:
        if args.reuse and _loaded(args, databases[label]):
            continue
        started = time.perf_counter()
        subprocess.run(_worker_command(args, "load", tree, databases[label]), env=_environment(tree), check=True)
        print(f"{label}: loaded and rebuilt in {time.perf_counter() - started:.0f} s (load {_load_average()})")
    if args.load_only:
        return

    workers: dict[str, subprocess.Popen[str]] = {}
    info: dict[str, Any] = {}
    for label, tree in trees:
        workers[label] = subprocess.Popen(
            _worker_command(args, "serve", tree, databases[label]),
            env=_environment(tree),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        output = workers[label].stdout
        assert output is not None
        info[label] = json.loads(output.readline())
    first_label = trees[0][0]
    heads = {label: (found["head"], found["first"]) for label, found in info.items()}
    assert len(set(heads.values())) == 1, f"the copies' logs differ: {heads}"
    head, first = heads[first_label]
    codes = info[first_label]["codes"]

    def ask(label: str, queries: list[list[Any]]) -> list[list[Any]]:
        worker = workers[label]
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(json.dumps(queries) + "\n")
        worker.stdin.flush()
        answer: list[list[Any]] = json.loads(worker.stdout.readline())
        return answer

    rng = random.Random(args.seed + 1)
    start, end = date(2017, 1, 1).toordinal(), date(2021, 12, 31).toordinal()

    def sample() -> list[list[Any]]:
        as_of = date.fromordinal(rng.randint(start, end)).isoformat()
        position = rng.randint(first, head)
        code = rng.choice(codes)
        return [["state", code, as_of, position], ["rollup", code, as_of, position]]

    warm_up = [query for _ in range(5) for query in sample()]
    for label, _ in trees:
        ask(label, warm_up)
    # per label, per kind: [(wall p50, cpu p50, server p50) per round]
    p50s: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    mismatches = 0
    compared = 0
    loads = [_load_average()]
    for round_index in range(args.rounds):
        queries = [query for _ in range(args.queries) for query in sample()]
        order = trees[round_index % len(trees) :] + trees[: round_index % len(trees)]
        results = {label: ask(label, queries) for label, _ in order}
        for label, _ in trees:
            for kind in ("state", "rollup"):
                rows = [result for query, result in zip(queries, results[label], strict=True) if query[0] == kind]
                wall, cpu = (statistics.median(row[column] for row in rows) for column in range(2))
                # The kernel counts a process's CPU in ticks (10 ms): the server's is a mean, not a p50.
                server = statistics.fmean(row[2] for row in rows)
                p50s.setdefault((label, kind), []).append((wall, cpu, server))
        checked = [label for label, _ in trees[1:]]
        for index in range(len(queries)):
            digests = {results[label][index][3] for label in checked}
            compared += 1
            mismatches += len(digests) > 1
        loads.append(_load_average())
        print(f"round {round_index + 1}/{args.rounds} done (load {loads[-1]})", flush=True)
    for worker in workers.values():
        assert worker.stdin is not None
        worker.stdin.close()
        worker.wait()

    store = "SQLite" if args.store == "sqlite" else "PostgreSQL"
    print(
        f"\n{store}, {args.observations:,} observations ({head:,} events), {args.rounds} rounds x {args.queries} "
        f"(D, P) samples; load averages {loads[0]} ... {loads[-1]}"
    )
    print(
        "medians over the rounds of the p50 wall and client CPU and the mean server CPU, ms; "
        "ratios to the first copy, round by round"
    )
    for kind in ("state", "rollup"):
        for label, _ in trees:
            rounds = p50s[(label, kind)]
            base = p50s[(first_label, kind)]
            figures = [statistics.median(r[column] for r in rounds) for column in range(3)]
            ratios = [
                statistics.median(
                    r[column] / b[column] if b[column] else float("nan") for r, b in zip(rounds, base, strict=True)
                )
                for column in range(3)
            ]
            cpu_total = statistics.median((r[1] + r[2]) / (b[1] + b[2]) for r, b in zip(rounds, base, strict=True))
            print(
                f"  {kind:6} {label:10} wall {figures[0]:7.1f}  CPU {figures[1]:6.1f}  server {figures[2]:6.1f}"
                f"   x wall {ratios[0]:5.2f}  x CPU {ratios[1]:5.2f}  x CPU client+server {cpu_total:5.2f}"
            )
    others = ", ".join(label for label, _ in trees[1:])
    print(f"answers of {others}: {compared - mismatches} of {compared} byte for byte equal")


if __name__ == "__main__":
    main()
