"""Files of observations for other systems and for spreadsheets: CSV and
XLSX in exactly the columns the import reads, and SDMX-CSV 2.0. Each is
written row by row from an `ObservationExport` (queries/exports.py) and
depends on its pins alone, so the same pins make the same bytes."""
