"""The garbage collector of a long-lived served process (or one of its
worker processes).

Requests make many short-lived objects (a 1,000-row batch import some
100,000; a report edition's renderings more: XlsxWriter keeps a tuple per
cell until the workbook is written), while the process's own objects (routes,
schemas, tables, imported modules) live as long as it does. By default the
collector runs every 700 allocations and keeps walking those long-lived
objects: a third of a batch import's time, and a quarter of a report
edition's, went there. Once started, a process moves what it holds out of
the collector's sight (`gc.freeze`) and collects the youngest generation
every 20,000 allocations instead."""

from __future__ import annotations

import gc

GC_THRESHOLDS = (20_000, 20, 20)


def tune_garbage_collector() -> None:
    """Called once the process holds what it keeps for its lifetime."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
