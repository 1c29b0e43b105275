"""The IATI 2.03 activity XML of an export's content (domain/iati.py), and
its validation against the standard's XSD (standards/iati-2.03, shipped with
the package) before anything is served.

Byte-reproducible: the content fixes every attribute, including the
generated and last-updated times (the log's time at the export's position),
and lxml writes elements and attributes in the order given. The export's
pins (valid date, log position, checkpoint, framework, versions) follow the
activity in a `stocktake:pins` element of our own namespace, which the IATI
schema allows there."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import as_file, files
from typing import Any, cast

from lxml import etree

VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# The export's pins, in an extension element of our own namespace after the
# activity (iati-activities allows elements of other namespaces there).
PINS_NAMESPACE = "urn:stocktake:export-pins:1"
REPORTING_ORGANISATION_VOCABULARY = "99"  # IATI IndicatorVocabulary: the reporting organisation's own
GENERAL = "1"  # IATI DescriptionType
IMPLEMENTING = "4"  # IATI OrganisationRole
PLANNED_START, ACTUAL_START, PLANNED_END = "1", "2", "3"  # IATI ActivityDateType

# What XML 1.0 cannot hold (C0 controls other than tab, LF and CR; lone surrogates; U+FFFE/FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class IatiSchemaError(Exception):
    """The XML does not validate against the IATI 2.03 activity schema."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _element(parent: etree._Element, tag: str, **attributes: object) -> etree._Element:
    element = etree.SubElement(parent, tag)
    for name, value in attributes.items():
        if value is not None:
            element.set(name.replace("_", "-"), _text(value))
    return element


def _narrative(parent: etree._Element, tag: str, text: str, **attributes: object) -> etree._Element:
    element = _element(parent, tag, **attributes)
    etree.SubElement(element, "narrative").text = _text(text)
    return element


def _figure(parent: etree._Element, tag: str, figure: Mapping[str, Any], **attributes: object) -> etree._Element:
    element = _element(parent, tag, **attributes, value=figure["value"])
    return element


def _comment(element: etree._Element, comment: str | None) -> None:
    if comment is not None:
        _narrative(element, "comment", comment)


def _indicator(result: etree._Element, item: Mapping[str, Any]) -> None:
    indicator = _element(result, "indicator", measure=item["measure"], ascending="1" if item["ascending"] else "0")
    _narrative(indicator, "title", item["title"])
    _narrative(indicator, "description", item["description"])
    _element(indicator, "reference", vocabulary=REPORTING_ORGANISATION_VOCABULARY, code=item["benchmark"])
    baseline = item["baseline"]
    element = _element(
        indicator, "baseline", year=baseline["year"], iso_date=baseline["iso_date"], value=baseline["value"]
    )
    _comment(element, baseline["comment"])
    for period in item["periods"]:
        node = _element(indicator, "period")
        _element(node, "period-start", iso_date=period["start"])
        _element(node, "period-end", iso_date=period["end"])
        if period["target"] is not None:
            target = _figure(node, "target", period["target"])
            _comment(target, period["target"]["comment"])
        if period["actual"] is not None:
            actual = _figure(node, "actual", period["actual"])
            _comment(actual, period["actual"]["comment"])
        for dimension in period["dimensions"]:
            actual = _element(node, "actual", value=dimension["value"])
            _element(actual, "dimension", name=dimension["dimension"], value=dimension["category"])


def _activity(root: etree._Element, content: Mapping[str, Any]) -> None:
    activity = content["activity"]
    organisation = activity["reporting_org"]
    node = _element(root, "iati-activity", last_updated_datetime=content["generated"], hierarchy="1")
    node.set(XML_LANG, "en")
    etree.SubElement(node, "iati-identifier").text = _text(activity["identifier"])
    _narrative(node, "reporting-org", organisation["name"], ref=organisation["ref"], type=organisation["type"])
    _narrative(node, "title", activity["title"])
    _narrative(node, "description", activity["description"], type=GENERAL)
    _narrative(
        node,
        "participating-org",
        organisation["name"],
        ref=organisation["ref"],
        type=organisation["type"],
        role=IMPLEMENTING,
    )
    _element(node, "activity-status", code=activity["status"])
    _element(node, "activity-date", type=PLANNED_START, iso_date=activity["start"])
    _element(node, "activity-date", type=ACTUAL_START, iso_date=activity["start"])
    _element(node, "activity-date", type=PLANNED_END, iso_date=activity["end"])
    for result in content["results"]:
        element = _element(node, "result", type="2")
        _narrative(element, "title", f"{result['assumption']}: {result['text']}")
        for item in result["indicators"]:
            _indicator(element, item)


def _pins(root: etree._Element, pins: Mapping[str, Any]) -> None:
    checkpoint = pins["checkpoint"]
    element = etree.SubElement(root, f"{{{PINS_NAMESPACE}}}pins", nsmap={"stocktake": PINS_NAMESPACE})
    for name in ("kind", "as_of", "position", "framework", "template_version", "generator_version"):
        element.set(name.replace("_", "-"), _text(pins[name]))
    element.set("checkpoint-size", str(checkpoint["size"]))
    element.set("checkpoint-root-hash", _text(checkpoint["root_hash"]))
    etree.SubElement(element, f"{{{PINS_NAMESPACE}}}checkpoint-note").text = _text(checkpoint["note"])


@cache
def _schema() -> etree.XMLSchema:
    resource = files("services.reporting").joinpath("standards/iati-2.03/iati-activities-schema.xsd")
    with as_file(resource) as path:
        return etree.XMLSchema(etree.parse(str(path)))


def schema_errors(document: bytes) -> list[str]:
    """Where `document` breaks the IATI 2.03 activity schema (empty: it validates)."""
    schema = _schema()
    try:
        tree = etree.fromstring(document, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        return [f"not well-formed XML: {error}"]
    if schema.validate(tree):
        return []
    entries = cast(Iterable[etree._LogEntry], schema.error_log)  # lxml-stubs: an _ErrorLog is iterable
    return [f"line {entry.line}: {entry.message}" for entry in entries]


def render_iati(content: Mapping[str, Any]) -> bytes:
    """The activity's XML, validated against the IATI 2.03 schema (IatiSchemaError if not)."""
    root = etree.Element("iati-activities", version=VERSION, **{"generated-datetime": content["generated"]})
    _activity(root, content)
    _pins(root, content["export"])
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    errors = schema_errors(document)
    if errors:
        raise IatiSchemaError(errors)
    return document
