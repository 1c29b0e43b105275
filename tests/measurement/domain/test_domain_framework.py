from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from services.common.errors import ConflictError
from services.measurement.domain.framework import Framework, FrameworkDocument

CODE = "GSC-POA-2017-21"
PRINCIPAL = "pmt@ilo.org"


@pytest.fixture
def document(framework: FrameworkDocument) -> dict[str, Any]:
    return copy.deepcopy(framework.content)


@pytest.fixture
def registered() -> Framework:
    return Framework(code=CODE, principal=PRINCIPAL)


@pytest.fixture
def loaded(registered: Framework, document: dict[str, Any]) -> Framework:
    """A framework with revision 2 (digest 'd2') loaded."""
    registered.load_revision(version=2, digest="d2", document=document, principal=PRINCIPAL)
    return registered


def event_names(framework: Framework) -> list[str]:
    return [type(e).__name__ for e in framework.collect_events()]


# --- FrameworkDocument ------------------------------------------------------------


def test_document_names_its_code_and_version(framework):
    assert (framework.code, framework.version) == (CODE, 1)


def test_document_lists_the_ten_critical_assumptions(framework):
    assert framework.assumption_codes() == [f"CA{i}" for i in range(1, 11)]


def test_document_lists_the_thirty_workplan_deliverables(framework):
    codes = framework.deliverable_codes()

    assert len(codes) == 30
    assert {"1.1", "8.2", "9.2"} <= set(codes)


def test_document_names_pb_indicators_by_biennium_and_code(framework):
    ids = framework.pb_indicator_ids()

    assert "2018-19:1.4" in ids
    assert all(re.fullmatch(r"20\d\d-\d\d:(\d+\.\d+|A\d)", indicator) for indicator in ids)


# --- register and load ------------------------------------------------------------


def test_a_registered_framework_has_no_revision_yet(registered):
    assert (registered.code, registered.revision, registered.document) == (CODE, 0, None)
    assert event_names(registered) == ["Registered"]


def test_a_framework_id_is_derived_from_its_code(registered):
    assert registered.id == Framework.create_id(CODE)


def test_load_revision_makes_the_document_current(registered, document):
    registered.load_revision(version=1, digest="d1", document=document, principal=PRINCIPAL)

    assert registered.revision == 1
    assert registered.document == FrameworkDocument(document)
    assert event_names(registered) == ["Registered", "RevisionLoaded"]


def test_a_loaded_revision_is_detectable_by_version_and_digest(loaded):
    assert loaded.has_revision(2, "d2")


@pytest.mark.parametrize("version, digest", [(2, "other"), (1, "d2"), (3, "d2")])
def test_has_revision_is_false_for_another_version_or_digest(loaded, version, digest):
    assert not loaded.has_revision(version, digest)


def test_a_higher_version_is_loaded_over_the_current_one(loaded, document):
    loaded.load_revision(version=3, digest="d3", document=document, principal=PRINCIPAL)

    assert loaded.revision == 3
    assert loaded.has_revision(2, "d2") and loaded.has_revision(3, "d3")


def test_the_same_version_with_other_content_is_refused(loaded, document):
    with pytest.raises(ConflictError) as caught:
        loaded.load_revision(version=2, digest="other", document=document, principal=PRINCIPAL)

    assert "already loaded with other content" in caught.value.detail


def test_a_lower_version_is_refused(loaded, document):
    with pytest.raises(ConflictError):
        loaded.load_revision(version=1, digest="d1", document=document, principal=PRINCIPAL)


def test_reloading_the_loaded_revision_is_refused_so_callers_check_has_revision_first(loaded, document):
    with pytest.raises(ConflictError):
        loaded.load_revision(version=2, digest="d2", document=document, principal=PRINCIPAL)


def test_a_refused_load_records_no_event(loaded, document):
    with pytest.raises(ConflictError):
        loaded.load_revision(version=2, digest="other", document=document, principal=PRINCIPAL)

    assert event_names(loaded) == ["Registered", "RevisionLoaded"]
    assert loaded.has_revision(2, "d2")


# --- history ----------------------------------------------------------------------


def test_replaying_the_events_of_a_framework_rebuilds_its_state(loaded, document):
    loaded.load_revision(version=3, digest="d3", document=document, principal=PRINCIPAL)
    events = loaded.collect_events()

    replayed: Framework | None = None
    for domain_event in events:
        replayed = domain_event.mutate(replayed)

    assert replayed is not None
    assert vars(replayed) == vars(loaded)
    assert replayed.digests == {2: "d2", 3: "d3"}
