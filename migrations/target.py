"""The tables of both services that this Alembic environment owns."""

from __future__ import annotations

from services.common.tables import metadata as common_metadata
from services.measurement.adapters.tables import metadata as measurement_metadata
from services.reporting.adapters.tables import metadata as reporting_metadata

TARGET_METADATA = [common_metadata, measurement_metadata, reporting_metadata]
