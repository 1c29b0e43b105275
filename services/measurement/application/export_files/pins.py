"""What an export names of its pins: in response headers, and in the
"Export" sheet of a workbook (a CSV file holds rows only, so the import
reads it as it is)."""

from __future__ import annotations

from services.measurement.application.queries.exports import ExportPins
from services.measurement.application.transparency import b64

AS_OF_HEADER = "Stocktake-As-Of"
FRAMEWORK_VERSION_HEADER = "Stocktake-Framework-Version"
CHECKPOINT_SIZE_HEADER = "Stocktake-Checkpoint-Size"
CHECKPOINT_ROOT_HEADER = "Stocktake-Checkpoint-Root-Hash"


def pin_headers(pins: ExportPins) -> dict[str, str]:
    """The pins as response headers (the log position is Stocktake-Log-Position, as in every read)."""
    headers = {AS_OF_HEADER: pins.as_of.isoformat()}
    if pins.framework_version is not None:
        headers[FRAMEWORK_VERSION_HEADER] = str(pins.framework_version)
    if pins.checkpoint is not None:
        headers[CHECKPOINT_SIZE_HEADER] = str(pins.checkpoint.size)
        headers[CHECKPOINT_ROOT_HEADER] = b64(pins.checkpoint.root_hash)
    return headers


def pin_fields(pins: ExportPins) -> list[tuple[str, str | int | None]]:
    """The pins as named fields, for people."""
    checkpoint = pins.checkpoint
    return [
        ("As of (valid date)", pins.as_of.isoformat()),
        ("Known at (log position)", pins.position),
        ("Framework", pins.framework),
        ("Checkpoint tree size", None if checkpoint is None else checkpoint.size),
        ("Checkpoint root hash", None if checkpoint is None else b64(checkpoint.root_hash)),
        ("Checkpoint", None if checkpoint is None else checkpoint.note),
    ]
