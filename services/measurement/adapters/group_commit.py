"""Group commit: the saves of concurrent requests share one transaction.

Every save must reach the disk before its request is answered, and the log
is written under one lock, so committing each save on its own makes every
writer queue for the lock and a flush of the disk. Here one writer thread per
process takes whatever saves are waiting (up to `max_batch`), writes each
in one go (`write_group`: a few statements for the whole group, not a few
per save), commits once, and then wakes the callers. If the group's
transaction fails, it is written again with each save inside a savepoint (a
save that fails is undone alone, and only its caller sees the error). A
caller is never answered before the commit that holds its save."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from typing import Generic, TypeVar

from sqlalchemy import Connection

from services.common.database import Database

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        database: Database,
        write: Callable[[Connection, Item], Result],
        *,
        write_group: Callable[[Connection, list[Item]], list[Result | BaseException]] | None = None,
        begin: Callable[[Connection, bool], AbstractContextManager[None]] = lambda connection, at_once: nullcontext(),
        finish: Callable[[Connection, list[Result]], None] = lambda connection, results: None,
        max_batch: int = 256,
    ) -> None:
        """`write` saves one item; `write_group`, if given, a group's items
        at once, answering an error for each item it refused without writing
        anything of it (the others are committed), and doing `finish`'s part
        itself; each group's transaction enters `begin(connection, at_once)`
        first (`at_once`: the group is written by `write_group`, with no
        savepoint; otherwise item by item, each in a savepoint after a failed
        group); one whose items are written one by one calls `finish` last
        with the saves' results."""
        self.database = database
        self.write = write
        self.write_group = write_group
        self.begin = begin
        self.finish = finish
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Item, Future[Result]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, item: Item) -> Result:
        """Writes `item` in the next group; returns once it is committed."""
        if self.database.in_transaction():
            # Already inside a caller's transaction (a rebuild, a migration):
            # write there, so it commits or rolls back with the rest.
            with self.database.transaction() as connection:
                result = self.write(connection, item)
                self.finish(connection, [result])
                return result
        future: Future[Result] = Future()
        self._ensure_running()
        self._queue.put((item, future))
        return future.result()

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None

    def _ensure_running(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()

    def _next_group(self) -> list[tuple[Item, Future[Result]]] | None:
        first = self._queue.get()
        if first is None:
            return None
        group = [first]
        while len(group) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # stop after this group
                break
            group.append(item)
        return group

    def _run(self) -> None:
        while (group := self._next_group()) is not None:
            try:
                outcomes = self._commit(group, isolate=False)
            except Exception:
                # Something in the group failed: write it again, each save in
                # a savepoint, so that only the failing ones are left out.
                try:
                    outcomes = self._commit(group, isolate=True)
                except BaseException as error:  # the commit itself failed: nothing of the group is saved
                    outcomes = [error] * len(group)
            except BaseException as error:
                outcomes = [error] * len(group)
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def _commit(self, group: list[tuple[Item, Future[Result]]], isolate: bool) -> list[Result | BaseException]:
        outcomes: list[Result | BaseException] = []
        at_once = not isolate and self.write_group is not None
        with self.database.transaction() as connection, self.begin(connection, at_once):
            if at_once and self.write_group is not None:
                return self.write_group(connection, [item for item, _ in group])  # `finish`'s part included
            for item, _ in group:
                if not isolate:
                    outcomes.append(self.write(connection, item))
                    continue
                try:
                    with connection.begin_nested():
                        outcomes.append(self.write(connection, item))
                except Exception as error:  # this save alone is undone; its caller gets the error
                    outcomes.append(error)
            self.finish(connection, [o for o in outcomes if not isinstance(o, BaseException)])
        return outcomes
