"""The difference between two editions' contents: per critical assumption,
benchmark and cell, what each said before (the first edition) and after
(the second). Only what differs is listed; lists are in code and country
order. And, for verification, the first section where a stored content and
the one made again differ."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.reporting.domain.content import ReportContent

FIGURES = ("combined", "expected", "progress", "status", "colour", "target_in_force", "baseline", "targets")
CELL_FIELDS = ("value", "valid_date", "known_at")


def _cell_map(benchmark: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per cell (country, sector: "" for none; a country has a cell per sector)."""
    return {
        (cell["country"], cell.get("sector") or ""): {name: cell[name] for name in CELL_FIELDS}
        for cell in benchmark.get("cells", [])
    }


def _change(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    if not before or not after:
        return "removed" if before else "added"
    return "changed"


def _benchmark_diff(code: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any] | None:
    """`before` or `after` is empty where the benchmark is in one edition only."""
    fields = {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in FIGURES
        if before.get(name) != after.get(name)
    }
    before_cells, after_cells = _cell_map(before), _cell_map(after)
    cells = [
        {"country": key[0], "sector": key[1] or None, "before": before_cells.get(key), "after": after_cells.get(key)}
        for key in sorted(set(before_cells) | set(after_cells))
        if before_cells.get(key) != after_cells.get(key)
    ]
    change = _change(before, after)
    if change == "changed" and not fields and not cells:
        return None
    return {"code": code, "change": change, "fields": fields, "cells": cells}


def _benchmarks(content: ReportContent) -> dict[str, dict[str, Mapping[str, Any]]]:
    return {a["code"]: {b["code"]: b for b in a["benchmarks"]} for a in content["assumptions"]}


def diff(before: ReportContent, after: ReportContent) -> list[dict[str, Any]]:
    """Per assumption (in the second edition's order, then any only in the
    first), the benchmarks that differ."""
    old, new = _benchmarks(before), _benchmarks(after)
    codes = list(new) + [code for code in old if code not in new]
    found = []
    for assumption in codes:
        olds, news = old.get(assumption, {}), new.get(assumption, {})
        changes = [
            change
            for code in sorted(set(olds) | set(news))
            if (change := _benchmark_diff(code, olds.get(code, {}), news.get(code, {}))) is not None
        ]
        if changes:
            found.append({"code": assumption, "benchmarks": changes})
    return found


# A key one content has and the other lacks differs even from a None there.
_ABSENT = object()


def first_difference(stored: Any, made: Any, path: str = "") -> str | None:
    """The first section (a path such as `assumptions/CA2/benchmarks/X/cells`)
    where two contents differ, in the content's order; None if they do not."""
    if isinstance(stored, dict) and isinstance(made, dict):
        for key in list(stored) + [k for k in made if k not in stored]:
            found = first_difference(stored.get(key, _ABSENT), made.get(key, _ABSENT), f"{path}/{key}")
            if found is not None:
                return found
        return None
    if isinstance(stored, list) and isinstance(made, list):
        # The items both have first (a benchmark added at the end does not
        # hide a figure changed before it), then the list as a whole.
        for index, (one, two) in enumerate(zip(stored, made, strict=False)):
            name = one.get("code") or one.get("benchmark") if isinstance(one, dict) else None
            found = first_difference(one, two, f"{path}/{name or index}")
            if found is not None:
                return found
    return None if stored == made else (path.lstrip("/") or "(the whole content)")
