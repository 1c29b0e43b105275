"""All four renderings of a content, the XLSX one in a worker process when
the served app has started one.

XLSX costs more than the three others together (XlsxWriter's Python per
cell: some 66,000 cells in a full edition, each stored as a tuple and
written out again as XML when the workbook closes), so a second process
renders it while this one renders JSON, HTML and CSV: an edition is made in
about the time of its XLSX alone. The worker runs the same pure function
(`render`) on a pickled copy of the content, which pickle keeps exactly
(the same dicts in the same order, the same floats), so the bytes are those
of rendering in this process: the tests compare both.

Without a started worker (tests, the CLI, a one-CPU machine), everything is
rendered here, as before. A worker that dies is replaced for the next
edition, and the one in hand is rendered here."""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from services.common.collector import tune_garbage_collector
from services.reporting.domain.content import ReportContent
from services.reporting.rendering import Format, render

IN_WORKER = Format.XLSX


def _start_worker() -> None:
    # The worker imports the renderers once and then renders edition after
    # edition: the same collector tuning as the served process.
    tune_garbage_collector()


def _ready() -> None:
    """Nothing: submitted once so that the worker starts (and imports) before the first edition."""


def cpus() -> int:
    """The CPUs this process may run on (a container may allow fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Renderer:
    """Renders an edition's content in every format, in `Format`'s order."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def start(self) -> None:
        """Starts the worker (and has it import the renderers now, not during the first edition)."""
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the served process has threads (uvicorn's,
                # the database pool's) that a forked child would inherit half-way.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker)
                self._pool.submit(_ready).result()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, content: ReportContent) -> tuple[ProcessPoolExecutor, Future[bytes]] | None:
        """The XLSX rendering under way in the worker (and that worker's pool), or None without one."""
        with self._lock:
            pool = self._pool
        if pool is None:
            return None
        try:
            return pool, pool.submit(render, content, IN_WORKER)
        except BrokenProcessPool:
            self._replace(pool)
            return None

    def _collect(self, pending: tuple[ProcessPoolExecutor, Future[bytes]] | None, content: ReportContent) -> bytes:
        if pending is not None:
            pool, future = pending
            try:
                return future.result()
            except BrokenProcessPool:
                self._replace(pool)
        return render(content, IN_WORKER)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """A new worker for the next edition, unless another thread has already replaced `broken`."""
        with self._lock:
            if broken is not self._pool:
                return
            self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)
        self.start()

    def all(self, content: ReportContent) -> dict[str, bytes]:
        """Each format's bytes, keyed by its name."""
        pending = self._submit(content)
        made = {fmt.value: render(content, fmt) for fmt in Format if fmt is not IN_WORKER}
        made[IN_WORKER.value] = self._collect(pending, content)
        return {fmt.value: made[fmt.value] for fmt in Format}
