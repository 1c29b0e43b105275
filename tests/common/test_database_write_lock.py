"""SQLite's writers wait for each other on a lock file beside the database (SqliteWriteLock), woken
when it is released, not in SQLite's busy handler (which sleeps up to 100 ms between tries)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.common.database import Database


@pytest.fixture
def two_processes_worth(tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    """Two Database objects on one file: as two worker processes of `stocktake serve` hold it."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first, second = Database(url), Database(url)
    with first.transaction() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    yield first, second
    first.dispose()
    second.dispose()


def test_a_writer_waits_for_the_one_before_it_and_goes_on_at_once(
    two_processes_worth: tuple[Database, Database],
) -> None:
    first, second = two_processes_worth
    inside, release = threading.Event(), threading.Event()
    released: list[float] = []
    entered: list[float] = []

    def hold() -> None:
        with first.transaction() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            inside.set()
            release.wait(10)
        released.append(time.monotonic())  # committed, and the lock released

    def write() -> None:
        with second.transaction() as connection:
            entered.append(time.monotonic())
            connection.execute(text("INSERT INTO t VALUES (2)"))

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)
    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.35)  # SQLite's busy handler, waiting since, tries again at 0.33 s, then at 0.43 s
    assert not entered, "the second writer went on while the first held the lock"
    release.set()
    holder.join(10)
    writer.join(10)
    # Woken when the lock is released, not at the busy handler's next try (some 80 ms later).
    assert entered and entered[0] - released[0] < 0.05, "the second writer was not woken when the lock was released"
    with first.snapshot() as connection:
        assert connection.execute(text("SELECT n FROM t ORDER BY rowid")).scalars().all() == [1, 2]


def test_a_failed_transaction_releases_the_lock(two_processes_worth: tuple[Database, Database]) -> None:
    first, second = two_processes_worth
    with pytest.raises(RuntimeError), first.transaction() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("refused")
    with second.transaction() as connection:  # would wait for ever if the lock were still held
        connection.execute(text("INSERT INTO t VALUES (2)"))
    with second.snapshot() as connection:
        assert connection.execute(text("SELECT n FROM t")).scalars().all() == [2]


def test_disposing_closes_the_lock_files_descriptors(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'store.db'}")

    def write() -> None:
        with database.transaction() as connection:
            connection.execute(text("SELECT 1"))

    write()
    thread = threading.Thread(target=write)
    thread.start()
    thread.join(10)
    lock = database._write_lock
    assert lock is not None
    opened = list(lock._opened)
    assert len(opened) == 2  # one per thread that wrote
    database.dispose()
    for fd in opened:
        with pytest.raises(OSError):
            os.fstat(fd)
    assert (tmp_path / "store.db-writelock").exists()


def test_a_writer_gives_up_after_the_busy_timeout_and_leaves_no_lock_behind(
    two_processes_worth: tuple[Database, Database],
) -> None:
    """The wait is bounded as SQLite's busy timeout bounds it: the writer fails with SQLite's own
    "database is locked" (the HTTP layer's 503, retry later) and writes nothing; its abandoned wait,
    granted once the holder commits, releases the lock at once, so the next writers go on."""
    first, second = two_processes_worth
    lock = second._write_lock
    assert lock is not None
    lock.timeout = 0.3
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with first.transaction() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)
    started = time.monotonic()
    with pytest.raises(DBAPIError) as refused, second.transaction() as connection:
        connection.execute(text("INSERT INTO t VALUES (2)"))
    waited = time.monotonic() - started
    assert "database is locked" in str(refused.value.orig)
    assert 0.25 < waited < 5
    release.set()
    holder.join(10)
    for n in (3, 4):  # the same thread of `second` again (a new descriptor), then `first`
        with (second if n == 3 else first).transaction() as connection:
            connection.execute(text(f"INSERT INTO t VALUES ({n})"))
    with first.snapshot() as connection:
        assert connection.execute(text("SELECT n FROM t ORDER BY rowid")).scalars().all() == [1, 3, 4]
