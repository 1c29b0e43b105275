"""The renderings made with XLSX in a worker process are byte for byte those
made in this process, and a worker that dies costs no edition."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pytest

from services.reporting.rendering import Format, render
from services.reporting.rendering.workers import Renderer
from tests.reporting.rendering.report_samples import hostile_report, report


@pytest.fixture
def started() -> Iterator[Renderer]:
    renderer = Renderer()
    renderer.start()
    try:
        yield renderer
    finally:
        renderer.close()


def _workers() -> set[int]:
    return {child.pid for child in multiprocessing.active_children() if child.pid is not None}


@pytest.mark.parametrize("content", [report(), hostile_report()], ids=["report", "hostile"])
def test_a_worker_renders_the_same_bytes_as_this_process(started: Renderer, content) -> None:
    assert started.parallel and not Renderer().parallel
    made = started.all(content)
    assert list(made) == [fmt.value for fmt in Format]
    assert made == Renderer().all(content)
    assert made == {fmt.value: render(content, fmt) for fmt in Format}


def test_a_worker_that_died_is_replaced_and_the_edition_still_rendered(started: Renderer) -> None:
    content = report()
    expected = Renderer().all(content)
    before = _workers()
    assert len(before) == 1
    for child in multiprocessing.active_children():
        child.kill()
        child.join()
    assert started.all(content) == expected  # rendered here: the worker was gone
    assert started.parallel and _workers() and _workers() != before
    assert started.all(content) == expected  # by the new worker


def test_a_closed_renderer_renders_in_this_process() -> None:
    renderer = Renderer()
    renderer.start()
    renderer.close()
    assert not renderer.parallel and not _workers()
    assert renderer.all(report()) == Renderer().all(report())
