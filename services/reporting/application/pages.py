"""What the pages show, read from measurement with the signed-in person's
key (so each sees exactly what the API would give them) and shaped for the
templates. Every view here is also the page's JSON twin.

Colours are the report's rule (`domain/colours.py`); an assumption's card
takes the worst colour among its benchmarks that have one (red over amber
over green), grey when none is assessed."""

from __future__ import annotations

import base64
import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.common.errors import InvalidCommandError, NotFoundError
from services.common.transparency.merkle import ProofError, verify_inclusion
from services.common.transparency.note import NoteError, Verifier, open_checkpoint
from services.reporting.adapters.measurement_client import MeasurementClient
from services.reporting.domain import assemble
from services.reporting.domain.colours import colour_of
from services.reporting.rendering.charts import benchmark_chart
from services.reporting.rendering.labels import status_label

Answer = dict[str, Any]
WORST_FIRST = ("red", "amber", "green")
COLOUR_WORDS = {"red": "Off track", "amber": "At risk", "green": "On track or achieved", "grey": "No data"}
RECENT = 10


@dataclass(frozen=True)
class Pin:
    """Where a page stands on both time axes (the URL's `as_of`, `at`, `known_at`)."""

    as_of: date | None = None
    at: int | None = None
    known_at: str | None = None

    def params(self) -> dict[str, Any]:
        given = {"as_of": None if self.as_of is None else self.as_of.isoformat(), "at": self.at}
        return {name: value for name, value in {**given, "known_at": self.known_at}.items() if value is not None}


def card_colour(benchmarks: list[Answer]) -> str:
    colours = {colour_of(str(item["status"])) for item in benchmarks}
    return next((colour for colour in WORST_FIRST if colour in colours), "grey")


def _summary(benchmark: Answer) -> Answer:
    return {**benchmark, "colour": colour_of(benchmark["status"]), "status_label": status_label(benchmark["status"])}


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def xlsx_to_csv(data: bytes) -> bytes:
    """The first sheet of a workbook as CSV (UTF-8), read-only: measurement
    imports CSV, so a spreadsheet is sent as the CSV it holds. Formulas are
    read as their cached values; dates as ISO dates."""
    from openpyxl import load_workbook  # only the upload of a workbook needs it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is no workbook
        raise InvalidCommandError.at(
            ("file",), f"This file could not be read as an XLSX workbook ({type(error).__name__})."
        ) from None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    sheet = workbook.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        writer.writerow(["" if cell is None else _cell_text(cell) for cell in row])
    workbook.close()
    return out.getvalue().encode()


def _cell_text(cell: object) -> str:
    if isinstance(cell, date):
        return cell.isoformat()[:10]
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _table(text: str) -> tuple[list[str], list[list[str]]]:
    """The file's header and rows, split as measurement splits them (a
    semicolon-separated sheet when its header has a semicolon and no comma)."""
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not lines:
        return [], []
    # Blank lines are skipped by measurement too, so row indexes agree.
    return [name.strip() for name in lines[0]], [line for line in lines[1:] if any(cell.strip() for cell in line)]


def _preview_row(header: list[str], rows: list[list[str]], outcome: Answer) -> Answer:
    index = int(outcome["index"])
    values = rows[index] if index < len(rows) else []
    errors: dict[str, list[str]] = {}
    for error in outcome.get("errors") or []:
        errors.setdefault(str(error.get("column") or ""), []).append(str(error["detail"]))
    cells = [
        {"column": name, "value": values[i] if i < len(values) else "", "errors": errors.pop(name, [])}
        for i, name in enumerate(header)
    ]
    # Errors of no column of the header (a missing column, the row as a whole) are shown with the row.
    row_errors = [detail for details in errors.values() for detail in details]
    return {**outcome, "cells": cells, "row_errors": row_errors}


class Pages:
    def __init__(self, measurement: MeasurementClient) -> None:
        self.measurement = measurement

    def dashboard(self, token: str, pin: Pin) -> Answer:
        rollup = self.measurement.read(token, "/progress/assumptions", pin.params())
        cards = []
        for assumption in rollup["assumptions"]:
            colour = card_colour(assumption["benchmarks"])
            cards.append(
                {
                    **assumption,
                    "colour": colour,
                    "colour_label": COLOUR_WORDS[colour],
                    "benchmarks": [_summary(item) for item in assumption["benchmarks"]],
                }
            )
        return {"as_of": rollup["as_of"], "position": rollup["position"], "assumptions": cards}

    def _observations(self, token: str, readable: bool, limit: int = 500, **where: str) -> list[Answer]:
        """Up to `limit` observations as `where` selects and orders them (oldest first unless it names
        `order`); none for a role that may not read them."""
        if not readable:
            return []
        items: list[Answer] = self.measurement.read(token, "/observations", {**where, "limit": limit})["items"]
        return items

    def assumption(self, token: str, code: str, pin: Pin, readable: bool) -> Answer:
        found = self.measurement.read(token, f"/framework/assumptions/{code}")
        report = self.measurement.read(token, "/progress/report", {**pin.params(), "series": "true"})
        benchmarks = []
        for entry in report["benchmarks"]:
            if entry["assumption"] != found["code"]:
                continue
            content = assemble.benchmark(entry, report["countries_selected"], None, None)
            observations = self._observations(token, readable, benchmark=entry["benchmark"])
            benchmarks.append(
                {
                    **content,
                    "status_label": status_label(content["status"]),
                    "chart": benchmark_chart(content, str(report["as_of"])),
                    "observations": observations,
                }
            )
        return {
            "code": found["code"],
            "text": found.get("text", ""),
            "as_of": report["as_of"],
            "position": report["position"],
            "benchmarks": benchmarks,
        }

    def observation(self, token: str, observation_id: str) -> Answer:
        observation = self.measurement.read(token, f"/observations/{observation_id}")
        history = self.measurement.read(token, f"/observations/{observation_id}/history")
        return {"observation": observation, "events": history["events"], "position": history["position"]}

    def country(self, token: str, iso3: str, pin: Pin, readable: bool) -> Answer:
        profile = self.measurement.read(token, f"/progress/countries/{iso3}", pin.params())
        since = quarter_start(date.fromisoformat(str(profile["as_of"])))
        missing = [
            {"benchmark": item["benchmark"], "title": item["title"], "assumption": item["assumption"]}
            for item in profile["benchmarks"]
            if not any(date.fromisoformat(str(cell["valid_date"])) >= since for cell in item["cells"])
        ]
        recent = self._observations(token, readable, RECENT, country=iso3, order="newest")
        for item in profile["benchmarks"]:
            item["programme_colour"] = colour_of(item["programme_status"])
            item["programme_status_label"] = status_label(item["programme_status"])
        return {**profile, "quarter_start": since.isoformat(), "missing": missing, "recent": recent}

    def preview(self, token: str, data: bytes) -> Answer:
        """A dry run of the file, each row beside its outcome and its errors
        at their columns, and the idempotency key its confirmation will carry."""
        summary = self.measurement.import_csv(token, data, dry_run=True, idempotency_key=None)
        text = data.decode("utf-8-sig")  # measurement read it as UTF-8, or refused it
        header, rows = _table(text)
        return {
            "summary": summary,
            "header": header,
            "rows": [_preview_row(header, rows, outcome) for outcome in summary["rows"]],
            "idempotency_key": f"upload-{uuid.uuid4()}",
            "csv": text,
        }

    def confirm(self, token: str, data: bytes, idempotency_key: str) -> Answer:
        return {"summary": self.measurement.import_csv(token, data, dry_run=False, idempotency_key=idempotency_key)}

    def checkpoint(self, token: str) -> Answer:
        return self.measurement.read(token, "/transparency/checkpoint")

    def prove(self, token: str, observation_id: str) -> Answer:
        """Each event of an observation, proven to be in the log's latest
        signed checkpoint: the checkpoint's signature checked with the log's
        verifier key, and each event's inclusion proof checked against its
        root (RFC 9162), here, not trusted from measurement's word."""
        events = self.measurement.read(token, f"/observations/{observation_id}/history")["events"]
        if not events:
            raise NotFoundError(f"Observation {observation_id} has no events in the log.")
        verifier = Verifier.from_text(self.measurement.read_text(token, "/transparency/verifier-key"))
        proofs = [self._prove_event(token, verifier, event) for event in events]
        return {"observation": observation_id, "proven": all(p["verified"] for p in proofs), "events": proofs}

    def _prove_event(self, token: str, verifier: Verifier, event: Answer) -> Answer:
        position = int(event["position"])
        proof = self.measurement.read(token, "/transparency/inclusion", {"position": position})
        try:
            checkpoint = open_checkpoint(proof["checkpoint"]["note"], verifier)
            verify_inclusion(
                base64.b64decode(proof["leaf_hash"]),
                int(proof["leaf_index"]),
                checkpoint.size,
                [base64.b64decode(node) for node in proof["proof"]],
                checkpoint.root_hash,
            )
            verified, why = True, f"in the tree of {checkpoint.size} events signed by {checkpoint.origin}"
        except (NoteError, ProofError, ValueError) as error:
            verified, why = False, f"not proven: {error}"
        return {"position": position, "type": event["type"], "size": proof["size"], "verified": verified, "why": why}
