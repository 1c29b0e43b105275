"""The HTML rendering, read back with the standard library's parser: what a
person (or a screen reader) finds on the page."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

from services.reporting.rendering import Format, render
from services.reporting.rendering.labels import STATUS_LABELS
from tests.reporting.rendering.report_samples import assumption, hostile_report, report, workplan

VOID = {"meta", "br", "img", "input", "link", "hr"}
SVG_LEAVES = {"line", "polyline", "path", "circle", "rect"}


class Page(HTMLParser):
    """Tags with attributes, the text of every element with an id, and whether tags balance."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[tuple[str, str | None]] = []
        self.text_by_id: dict[str, str] = {}
        self.unbalanced: list[str] = []
        self.svgs: list[list[tuple[str, dict[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "svg":
            self.svgs.append([])
        if (self.svgs and any(name == "svg" for name, _ in self.open)) or tag == "svg":
            self.svgs[-1].append((tag, attributes))
        if tag not in VOID:
            self.open.append((tag, attributes.get("id")))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if self.svgs and any(name == "svg" for name, _ in self.open):
            self.svgs[-1].append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.open or self.open[-1][0] != tag:
            self.unbalanced.append(tag)
            return
        self.open.pop()

    def handle_data(self, data):
        for _, element_id in self.open:
            if element_id:
                self.text_by_id[element_id] = self.text_by_id.get(element_id, "") + data


def parse(content) -> tuple[Page, str]:
    page = Page()
    text = render(content, Format.HTML).decode("utf-8")
    page.feed(text)
    page.close()
    return page, text


def test_the_page_parses_with_balanced_tags():
    page, text = parse(report())
    assert text.startswith("<!DOCTYPE html>")
    assert page.unbalanced == [] and page.open == []
    assert Counter(tag for tag, _ in page.tags)["article"] == 5


def test_a_chart_per_numeric_benchmark_each_labelled_for_screen_readers():
    page, _ = parse(report())
    assert len(page.svgs) == 4  # every benchmark but the qualitative one
    for svg in page.svgs:
        root = svg[0][1]
        assert root["role"] == "img"
        title, desc = (root["aria-labelledby"] or "").split()
        ids = {attributes.get("id"): tag for tag, attributes in svg}
        assert ids[title] == "title" and ids[desc] == "desc"
        assert page.text_by_id[title] and page.text_by_id[desc]
    assert len({svg[0][1]["aria-labelledby"] for svg in page.svgs}) == 4  # ids are unique on the page


def test_the_lower_is_better_benchmark_says_so_in_its_chart():
    page, _ = parse(report())
    assert "Lower is better." in page.text_by_id["chart-ILL-CA2-VIOLATIONS-desc"]
    assert "lower is better" in page.text_by_id["benchmark-ILL-CA2-VIOLATIONS"]
    assert "Higher is better." in page.text_by_id["chart-ILL-CA2-INSPECTION-desc"]


def test_a_qualitative_benchmark_has_no_chart_and_its_text_is_escaped():
    page, text = parse(report())
    article = page.text_by_id["benchmark-ILL-CA5-COHERENCE"]
    assert "No chart" in article
    assert "a joint statement <em>drafted</em> & circulated." in article
    assert "<em>" not in text
    assert "em" not in {tag for tag, _ in page.tags}


def test_nothing_is_fetched_and_nothing_runs():
    page, text = parse(report())
    assert "http://" not in text and "https://" not in text
    for tag, attributes in page.tags:
        assert tag not in {"script", "link", "img", "iframe", "object", "embed"}
        for name in ("src", "href", "xlink:href"):
            value = attributes.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    assert "url(" not in text and "@import" not in text


def test_every_status_is_in_words_beside_its_colour():
    content = report()
    page, _ = parse(content)
    for item in content["assumptions"]:
        for bench in item["benchmarks"]:
            article = page.text_by_id[f"benchmark-{bench['code']}"]
            assert STATUS_LABELS[bench["status"]] in article
            assert f"({bench['colour']})" in article
    assert STATUS_LABELS.keys() <= {
        status for entry in content["colour_rule"]["legend"] for status in entry["statuses"]
    }
    assert all(label in page.text_by_id["colour-rule"] for label in STATUS_LABELS.values())


def test_figures_show_the_log_position_they_were_read_at():
    content = report()
    page, _ = parse(content)
    inspection = page.text_by_id["benchmark-ILL-CA2-INSPECTION"]
    assert "log position 240" in inspection
    for cell in content["assumptions"][0]["benchmarks"][0]["cells"]:
        assert cell["country"] in inspection and str(cell["known_at"]) in inspection
    assert "log position 90" in inspection  # the trend's previous edition


def test_coverage_trend_restatements_and_the_theory_of_change_are_shown():
    page, _ = parse(report())
    inspection = page.text_by_id["benchmark-ILL-CA2-INSPECTION"]
    assert "3 of 4 selected countries reporting" in inspection and "KHM" in inspection
    assert "from 13.1 % to 14.25 %, a change of 1.15 % (better)" in inspection
    restatements = page.text_by_id["restatements"]
    assert "correction" in restatements and "new observation" in restatements and "no value" in restatements
    # Each restated cell names its sector, or all sectors for an observation that names none.
    assert "ETHtextiles" in restatements and "BGDall sectors" in restatements
    programme = page.text_by_id["programme"]
    assert "Decent work deficits are reduced in GSCs." in programme
    assert "Current situation" not in programme  # a box the framework does not have is left out


def test_an_assumption_without_benchmarks_and_a_benchmark_without_data_render():
    page, _ = parse(report())
    assert "No benchmark measures this assumption" in page.text_by_id["assumption-CA4"]
    empty = page.text_by_id["benchmark-ILL-CA10-DATASETS"]
    assert "No data" in empty and "No country has a value in force" in empty
    assert "There is no combined figure yet." in page.text_by_id["chart-ILL-CA10-DATASETS-desc"]


def test_the_workplan_section_shows_each_deliverable_and_milestone_as_recorded():
    content = report()
    assert "workplan" not in parse(content)[0].text_by_id  # an edition made before workplans has none
    content["workplan"] = workplan()
    page, text = parse(content)
    section = page.text_by_id["workplan"]
    assert "2 deliverables: 1 delivered, 1 dropped; 0 late" in section
    assert "delivered 2018-11-30 (https://www.ilo.org/gsc/research)" in section
    assert "dropped 2018-03-01: =merged into 9.1" in section
    assert "2 milestones: 1 met, 1 open." in section and "met 2019-10-15: GB.337 <report>" in section
    assert "no date" in section and "none recorded" in section
    assert "GB.337 &lt;report&gt;" in text and ('href="#workplan"') in text


def test_an_edition_with_no_benchmark_and_no_restatement_renders():
    content = report([assumption("CA1", [])])
    content["restatements"] = []
    content["edition"]["previous"] = None
    page, _ = parse(content)
    assert page.svgs == []
    assert "first edition of its kind" in page.text_by_id["restatements"]


def test_hostile_texts_are_text_on_the_page():
    page, text = parse(hostile_report())
    assert page.unbalanced == []
    assert "=HYPERLINK(&#34;http://evil.example&#34;)" in text or "=HYPERLINK(&quot;http" in text
