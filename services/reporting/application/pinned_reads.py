"""The reads of measurement that pin what reporting makes (report editions
and exports alike): the report and the framework at a valid date and a log
position, and the log's signed checkpoint at that position."""

from __future__ import annotations

from datetime import date

from services.common.errors import FieldProblem, InvalidCommandError, ServiceUnavailableError
from services.reporting.adapters.measurement_client import MeasurementClient
from services.reporting.domain import assemble
from services.reporting.domain.editions import CheckpointPin, check_within_programme


def read_pinned(
    measurement: MeasurementClient, token: str, as_of: date, at: int | None, series: bool
) -> tuple[assemble.Answer, assemble.Answer]:
    """Measurement's report read at (as_of, at: the head when None), and the
    framework at the report's position; a valid date before the programme
    started is refused."""
    try:
        now = measurement.report(token, as_of, at, series=series)
    except InvalidCommandError as error:
        # Measurement names its query parameter `at`; our caller sent `known_at`.
        problems = [
            FieldProblem(("known_at",) if p.path in {("at",), ()} else p.path, p.detail) for p in error.problems
        ]
        raise InvalidCommandError(error.detail, problems) from None
    framework = measurement.framework(token, int(now["position"]))
    check_within_programme(as_of, date.fromisoformat(str(framework["framework"]["period"]["start"])))
    return now, framework


def read_checkpoint(measurement: MeasurementClient, token: str, position: int) -> CheckpointPin:
    """The log's signed checkpoint of the tree of `position` events, as
    measurement serves it now (with the caller's key: read:checkpoints)."""
    answer = measurement.checkpoint(token, position)
    if int(answer["size"]) != position:
        # Pinning another tree would name events the figures were not read from.
        raise ServiceUnavailableError(
            f"The measurement service answered the checkpoint of size {answer['size']} when asked for "
            f"size {position}; nothing was done, retry shortly."
        )
    return CheckpointPin(position, str(answer["root_hash"]), str(answer["note"]))
