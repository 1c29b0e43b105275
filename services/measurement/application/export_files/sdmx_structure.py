"""The structure of the SDMX-CSV export (sdmx_csv.py) as an SDMX-ML 3.0
structure message, so that an SDMX system (a registry, ILOSTAT's loaders,
pysdmx) can check and load the data: the dataflow
ILO:DF_STOCKTAKE_OBSERVATIONS(1.0), its data structure definition (the
columns of the SDMX-CSV, in order), the concept scheme, and the codelists
of the coded dimensions and attribute as known at a log position:

- CL_BENCHMARK: every benchmark defined (retired ones too: their values stay
  in exports), named by its title;
- CL_AREA: every country ever selected (ISO 3166 alpha-3), and _Z for the
  international level;
- CL_SECTOR: every sector ever selected, and _Z for none;
- CL_OBS_STATUS: A (as recorded) and R (revised by a correction).

Codes are only ever added (a benchmark, country or sector is never removed
from the log), so a later message's codelists hold an earlier one's.
SDMX identifiers allow no dot, so a code's "." is written "@" (which
Stocktake's codes never hold): the same in the data and the structure.

The disaggregations (SEX, ETHNICITY, INDIGENOUS_IDENTITY, DISABILITY) are
dimensions of free text (the categories are the offices' own), _T for the
total; OBS_VALUE is text (a number, a level or a qualitative value); the
attribute LOG_POSITION is an integer.

Written by pysdmx (the SDMX library of the BIS; the route imports this
module only when a structure is asked for), with a header that depends on
the position alone (its id, and the time the log recorded that position),
so the same position gives the same bytes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pysdmx.io.xml.sdmx30.writer.structure import write
from pysdmx.model import (
    Code,
    Codelist,
    Component,
    Components,
    Concept,
    ConceptScheme,
    Dataflow,
    DataStructureDefinition,
    DataType,
    Organisation,
    Role,
)
from pysdmx.model.message import Header

from services.measurement.application.export_files.sdmx_ids import (
    AGENCY,
    DATAFLOW_ID,
    DIMENSIONS,
    DSD_ID,
    NOT_APPLICABLE,
    TOTAL,
    VERSION,
    sdmx_code,
)
from services.measurement.application.queries.exports import StructureCodes

_CONCEPTS = f"urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept={AGENCY}:CS_STOCKTAKE({VERSION})."


def _concept(concept_id: str, name: str, description: str | None = None) -> Concept:
    return Concept(id=concept_id, name=name, description=description, urn=_CONCEPTS + concept_id)


def _codelist(codelist_id: str, name: str, codes: Sequence[tuple[str, str]], description: str) -> Codelist:
    items = [Code(id=sdmx_code(code), name=label) for code, label in codes]
    return Codelist(id=codelist_id, agency=AGENCY, version=VERSION, name=name, description=description, items=items)


def structure_message(codes: StructureCodes) -> str:
    """The SDMX-ML 3.0 structure message of the dataflow, its codes as known at `codes.position`."""
    benchmark = _codelist(
        "CL_BENCHMARK", "Benchmarks", codes.benchmarks, "The benchmarks of the critical assumptions, by code"
    )
    area = _codelist(
        "CL_AREA",
        "Reference areas",
        [*codes.countries, (NOT_APPLICABLE, "Not applicable (international level)")],
        "The programme's countries (ISO 3166-1 alpha-3)",
    )
    sector = _codelist(
        "CL_SECTOR", "Sectoral supply chains", [*codes.sectors, (NOT_APPLICABLE, "No sector")], "The sectors selected"
    )
    status = _codelist(
        "CL_OBS_STATUS",
        "Observation status",
        [("A", "Normal value (as recorded)"), ("R", "Revised (by a correction)")],
        "Whether the value is as recorded or as corrected since",
    )
    concepts = [
        _concept("BENCHMARK", "Benchmark"),
        _concept("REF_AREA", "Reference area"),
        _concept("SECTOR", "Sectoral supply chain"),
        *(
            _concept(
                sdmx_id, dimension.replace("_", " ").capitalize(), f"A category of {dimension}; {TOTAL}: the total"
            )
            for dimension, sdmx_id in DIMENSIONS.items()
        ),
        _concept("TIME_PERIOD", "Time period"),
        _concept(
            "OBS_VALUE", "Observation value", "A number, a level or a qualitative value, as the benchmark measures"
        ),
        _concept("OBS_STATUS", "Observation status"),
        _concept(
            "LOG_POSITION", "Log position", "The position in Stocktake's event log of the event that gave the value"
        ),
    ]
    scheme = ConceptScheme(id="CS_STOCKTAKE", agency=AGENCY, version=VERSION, name="Stocktake concepts", items=concepts)
    concept = {item.id: item for item in concepts}

    def component(component_id: str, role: Role, represented: Codelist | DataType) -> Component:
        """A component of the structure: coded by a codelist, or of a data type (every one required;
        an attribute is attached to each observation)."""
        codes = represented if isinstance(represented, Codelist) else None
        return Component(
            id=component_id,
            required=True,
            role=role,
            concept=concept[component_id],
            local_codes=codes,
            local_dtype=represented if isinstance(represented, DataType) else None,
            attachment_level="O" if role is Role.ATTRIBUTE else None,
        )

    components = Components(
        [
            component("BENCHMARK", Role.DIMENSION, benchmark),
            component("REF_AREA", Role.DIMENSION, area),
            component("SECTOR", Role.DIMENSION, sector),
            *(component(sdmx_id, Role.DIMENSION, DataType.STRING) for sdmx_id in DIMENSIONS.values()),
            component("TIME_PERIOD", Role.DIMENSION, DataType.PERIOD),
            component("OBS_VALUE", Role.MEASURE, DataType.STRING),
            component("OBS_STATUS", Role.ATTRIBUTE, status),
            component("LOG_POSITION", Role.ATTRIBUTE, DataType.INTEGER),
        ]
    )
    structure = DataStructureDefinition(
        id=DSD_ID,
        agency=AGENCY,
        version=VERSION,
        name="Stocktake observations",
        description="Progress observations against the benchmarks of the ILO Programme of Action on decent "
        "work in global supply chains (2017-21)",
        components=components,
    )
    dataflow = Dataflow(
        id=DATAFLOW_ID,
        agency=AGENCY,
        version=VERSION,
        name="Stocktake observations",
        structure=f"DataStructure={AGENCY}:{DSD_ID}({VERSION})",
    )
    header = Header(
        id=f"STOCKTAKE-STRUCTURE-AT-{codes.position}",
        prepared=codes.recorded_at or datetime(1970, 1, 1, tzinfo=UTC),  # the empty log: nothing recorded yet
        sender=Organisation(id=AGENCY),
    )
    written = write([benchmark, area, sector, status, scheme, structure, dataflow], header=header)
    assert written is not None  # pysdmx returns the text when given no output path
    return written
