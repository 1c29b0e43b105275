"""The one SQLAlchemy engine of a process, and its transactions.

SQLite (the zero set-up default) runs in WAL mode with `synchronous=FULL`, so
a commit that returned has reached the disk; write transactions start with
`BEGIN IMMEDIATE` so that concurrent writers queue instead of failing on lock
upgrade. Writers of one SQLite file (the threads and the worker processes of
`stocktake serve`) first take a lock on a file beside it (`<file>-writelock`,
`SqliteWriteLock`), waiting for it in the kernel: SQLite's own busy handler
sleeps up to 100 ms between its tries, so a writer whose turn came waited up
to 100 ms for nothing while another process's writer took the lock again and
again (p99 0.3-0.8 s for single POSTs over two workers).
PostgreSQL keeps its defaults (`synchronous_commit` on).

A write transaction is ambient: the event recorder, the projections and any
other writer called inside `Database.transaction()` join it, so an event and
everything derived from it commit or vanish together."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Executable, Row, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

try:
    import fcntl
except ImportError:  # not POSIX (Windows): writers wait in SQLite's busy handler
    fcntl = None  # type: ignore[assignment]

from services.common.settings import StoreSettings

_WRITE_OPTION = "stocktake_write"
# Rows held back by `defer_insert` in a transaction that writes them together (`deferring_inserts`).
_DEFERRED_ROWS = "stocktake.deferred_rows"
_ambient: ContextVar[Connection | None] = ContextVar("stocktake_transaction", default=None)


def normalise_url(url: str) -> str:
    """Accepts the usual spellings of a PostgreSQL URL and picks psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class Database:
    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = normalise_url(url)
        self.engine: Engine = create_engine(self.url, **self._engine_options(engine_options))
        self._write_lock: SqliteWriteLock | None = None
        if self.is_sqlite:
            _configure_sqlite(self.engine)
            path = make_url(self.url).database
            if fcntl is not None and path and path != ":memory:" and not path.startswith("file:"):
                self._write_lock = SqliteWriteLock(f"{path}-writelock")

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def _engine_options(self, given: dict[str, Any]) -> dict[str, Any]:
        # No pre-ping (a round trip per checkout): a connection the server
        # dropped fails its request with a 503 and is replaced.
        options: dict[str, Any] = {"pool_recycle": 3600}
        if make_url(self.url).get_backend_name() == "sqlite":
            options["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False}
        else:
            options.update(pool_size=20, max_overflow=10)
        options.update(given)
        return options

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction, or the one already open in this context."""
        current = _ambient.get()
        if current is not None:
            yield current
            return
        with self.engine.connect() as connection:
            connection.execution_options(**{_WRITE_OPTION: True})
            token = _ambient.set(connection)
            try:
                with self._writer(), connection.begin():
                    yield connection
            finally:
                _ambient.reset(token)

    def _writer(self) -> AbstractContextManager[None]:
        """Held around a write transaction: the SQLite file's write lock (`SqliteWriteLock`), if any."""
        return nullcontext() if self._write_lock is None else self._write_lock.held()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read-only transaction whose queries all see one state of the data,
        so that a page and the log position reported with it agree."""
        current = _ambient.get()
        if current is not None:
            yield current
            return
        with self.engine.connect() as connection:
            if self.is_postgresql:
                connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with connection.begin():
                yield connection

    def read_once(self, statement: Executable) -> list[Row[Any]]:
        """The rows of one read-only statement, without a transaction around it
        (on PostgreSQL, one round trip instead of three)."""
        with self.engine.connect() as connection:
            if self.is_postgresql:
                connection.execution_options(isolation_level="AUTOCOMMIT")
            rows = list(connection.execute(statement).all())
            if connection.in_transaction():
                connection.rollback()
        return rows

    def in_transaction(self) -> bool:
        """True inside `transaction()` in this context."""
        return _ambient.get() is not None

    def dispose(self) -> None:
        self.engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()


@contextmanager
def deferring_inserts(connection: Connection) -> Iterator[dict[Table, list[dict[str, Any]]]]:
    """Inside, `defer_insert` in `connection`'s transaction holds its rows
    back in the dict given, for the caller to write them together before the
    transaction commits (a group commit: one INSERT per table for the group)."""
    pending: dict[Table, list[dict[str, Any]]] = {}
    connection.info[_DEFERRED_ROWS] = pending
    try:
        yield pending
    finally:
        connection.info.pop(_DEFERRED_ROWS, None)


def defer_insert(connection: Connection, table: Table, row: dict[str, Any]) -> bool:
    """Holds `row` back if `connection`'s transaction defers its inserts
    (`deferring_inserts`): True then; False when the caller must insert it
    now. A deferred row that breaks a constraint fails the whole write, which
    its writer then makes again without deferring."""
    pending = connection.info.get(_DEFERRED_ROWS)
    if pending is None:
        return False
    pending.setdefault(table, []).append(row)
    return True


# How long a writer waits for SQLite's write lock (its own busy timeout, and the lock file's) before
# its request fails with a 503 that says to retry.
SQLITE_BUSY_SECONDS = 30.0


class SqliteWriteLock:
    """An exclusive lock (flock) on a file beside an SQLite database, held by a writer from before its
    BEGIN IMMEDIATE until after its COMMIT: writers then wait for each other in the kernel, woken when
    the lock is released, rather than in SQLite's busy handler, which sleeps up to 100 ms between tries.
    The wait is bounded as SQLite's busy timeout bounds it (`timeout`): a writer still waiting then
    fails with SQLite's own "database is locked" error (a 503), and nothing of it is written. The lock
    is held only for a write transaction, and a process that ends, however, releases it with its files.
    A writer that cannot open the file goes on to BEGIN IMMEDIATE and waits there, as before."""

    def __init__(self, path: str, timeout: float = SQLITE_BUSY_SECONDS) -> None:
        self.path = path
        self.timeout = timeout
        self._local = threading.local()  # one descriptor per thread: flock excludes each from the others
        self._opened: set[int] = set()
        self._opening = threading.Lock()

    def _descriptor(self) -> int | None:
        fd: int | None = getattr(self._local, "fd", None)
        if fd is None:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return None
            with self._opening:
                self._opened.add(fd)
            self._local.fd = fd
        return fd

    @contextmanager
    def held(self) -> Iterator[None]:
        fd = self._descriptor()
        if fd is None:
            yield
            return
        self._acquire(fd)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _acquire(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        # Another writer holds it: wait in the kernel, on a thread of its own, so that this writer can
        # give up after `timeout` (a blocking flock cannot be cancelled).
        granted = threading.Event()
        abandoned = False
        deciding = threading.Lock()

        def wait() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # the GIL released while it waits
            with deciding:
                if not abandoned:
                    granted.set()
                    return
            # The writer gave up: the descriptor is this thread's now, and closing it releases the lock.
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

        threading.Thread(target=wait, name="sqlite-write-lock", daemon=True).start()
        if granted.wait(self.timeout):
            return
        with deciding:
            if granted.is_set():
                return
            abandoned = True
        # The waiting thread keeps (and closes) this descriptor: this thread opens another next time.
        with self._opening:
            self._opened.discard(fd)
        self._local.fd = None
        raise OperationalError(
            "BEGIN IMMEDIATE",
            None,
            sqlite3.OperationalError(f"database is locked (another writer held {self.path} for {self.timeout:g} s)"),
        )

    def close(self) -> None:
        """Closes every thread's descriptor (the database is disposed of: no writer is left)."""
        with self._opening:
            opened, self._opened = self._opened, set()
            self._local = threading.local()
        for fd in opened:
            with suppress(OSError):
                os.close(fd)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver, so that BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives back naive ones;
    every stored time is UTC)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def open_store(settings: StoreSettings) -> Database:
    """The store the settings name (creating an SQLite file's folder)."""
    settings.ensure_sqlite_folder()
    return Database(settings.database_url)
