"""A unit's report built from a synthetic cohort: its numbers are the evaluator's (the unit, the rest of the country
as national minus the unit, the nation), N<30 shows no share, no other unit is named, and the PDF's pages render."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from lxml import html as lxml_html

from fhir_server.indicators.evaluate import NATIONAL, Tally, evaluate
from fhir_server.indicators.periods import parse_period
from fhir_server.indicators.wilson import wilson
from tests.reports.printed import PDF_UNAVAILABLE, printed
from workers.reports.document import build_report, render
from workers.reports.formatting import SUPPRESSED, share_text
from workers.reports.indicators import nnrr_measures, quarters_ending
from workers.reports.rendering import render_html

TODAY = date(2018, 2, 1)


def _report(server, report_world, label: str):
    unit = report_world.unit
    return build_report(server, unit.resource(), unit.resh, parse_period(label), TODAY)


def _cells(page, key: str) -> list[str]:
    (row,) = page.xpath(f'//tr[@data-indicator="{key}"]')
    return [" ".join(cell.text_content().split()) for cell in row.xpath("./td")]


@pytest.mark.parametrize("label", ["2017", "2017Q3"])
def test_the_reports_numbers_are_the_evaluators(server, report_world, label):
    report = _report(server, report_world, label)
    period = parse_period(label)
    measures = nnrr_measures(server)
    periods = [period, *(q for q in quarters_ending(period) if q != period)]
    tallies = evaluate(server, measures, periods)
    unit = report_world.unit.reference
    page = lxml_html.fromstring(render_html(report))
    assert {i.url for i in report.indicators} == {m["url"] for m in measures}
    shown = 0
    for indicator in report.indicators:
        own = tallies.get((indicator.url, label, unit), Tally())
        national = tallies.get((indicator.url, label, NATIONAL), Tally())
        rest = (national.denominator - own.denominator, national.numerator - own.numerator)
        assert (indicator.unit.denominator, indicator.unit.numerator) == (own.denominator, own.numerator)
        assert (indicator.rest.denominator, indicator.rest.numerator) == rest
        assert (indicator.national.denominator, indicator.national.numerator) == (
            national.denominator,
            national.numerator,
        )
        for share in (indicator.unit, indicator.rest, indicator.national):
            assert share.suppressed == (share.denominator < 30)
            if not share.suppressed:
                shown += 1
                assert share.share == pytest.approx(share.numerator / share.denominator)
                assert (share.low, share.high) == pytest.approx(wilson(share.numerator, share.denominator))
        cells = _cells(page, indicator.key)  # the overview table: share (CI), N for the unit, the rest, the nation
        assert cells[0:6] == [
            share_text(indicator.unit),
            str(own.denominator),
            share_text(indicator.rest),
            str(rest[0]),
            share_text(indicator.national),
            str(national.denominator),
        ]
        for quarter_label, own_q, rest_q in indicator.quarters:
            counted = tallies.get((indicator.url, quarter_label, unit), Tally())
            assert (own_q.denominator, own_q.numerator) == (counted.denominator, counted.numerator)
            all_q = tallies.get((indicator.url, quarter_label, NATIONAL), Tally())
            assert rest_q.denominator == all_q.denominator - counted.denominator
    assert shown > 0  # the cohort is big enough to show shares
    assert len(report.indicators[0].quarters) == 8


def test_small_numbers_show_n_under_30_and_no_share(server, report_world):
    report = _report(server, report_world, "2017Q3")
    page = lxml_html.fromstring(render_html(report))
    suppressed = [i for i in report.indicators if i.unit.suppressed and i.unit.denominator > 0]
    assert suppressed, "the quarter should hold indicators with fewer than 30 episodes"
    for indicator in suppressed:
        cells = _cells(page, indicator.key)
        assert cells[0] == SUPPRESSED
        assert "%" not in cells[0]
    shown = [i for i in report.indicators if not i.unit.suppressed]
    assert all("%" in _cells(page, i.key)[0] for i in shown)


def test_only_the_unit_is_named(server, report_world):
    document = render(_report(server, report_world, "2017"), "html").content.decode("utf-8")
    unit, other = report_world.unit, report_world.other
    assert unit.name in document
    assert "Resten av landet" in document
    for secret in (other.name, other.id, other.resh, other.orgnr):
        assert secret not in document
    assert '<html lang="nb">' in document


def test_the_score_distributions_are_the_units(server, report_world):
    report = _report(server, report_world, "2017")
    odi = report.distributions[0]
    assert len(odi.before) == len(odi.after) > 0
    improved = next(i for i in report.indicators if i.key == "odi-minimal")
    assert len(odi.after) == improved.unit.denominator  # the same episodes: ODI before and at 6 months
    assert sum(1 for v in odi.after if v <= 23) == improved.unit.numerator


@pytest.mark.skipif(PDF_UNAVAILABLE is not None, reason=PDF_UNAVAILABLE or "")
def test_the_pdf_renders_into_pages(server, report_world, tmp_path: Path):
    report = _report(server, report_world, "2017")
    document = render(report, "pdf")
    assert document.media_type == "application/pdf"
    assert document.content.startswith(b"%PDF")
    shown = printed(document, tmp_path)
    pages, words = shown.pages, shown.words
    assert len(pages) >= 3
    assert all(p.stat().st_size > 1000 for p in pages)
    assert report.unit_name in words
    odi = next(i for i in report.indicators if i.key == "odi-minimal")
    assert share_text(odi.unit) in words  # the overview's numbers are in the printed document
    assert report_world.other.name not in words


def _entered_denominator(url: str, unit: str, label: str, count: int) -> dict:
    period = parse_period(label)
    code = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "denominator"}]}
    return {
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": "data-collection",
        "measure": url,
        "reporter": {"reference": unit},
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "group": [{"population": [{"code": code, "count": count}]}],
    }


def test_a_unit_with_low_coverage_is_flagged(server, client, report_world):
    coverage = next(m for m in nnrr_measures(server) if m["url"].endswith("/nnrr-coverage"))
    counted = _report(server, report_world, "2016")
    assert counted.low_coverage is False  # nine in ten of the cohort's clinician forms are finalised
    assert "Lav dekningsgrad" not in render_html(counted)
    entered = client.post(
        "/fhir/MeasureReport", json=_entered_denominator(coverage["url"], report_world.unit.reference, "2016", 1000)
    )
    assert entered.status_code == 201, entered.text
    try:
        flagged = _report(server, report_world, "2016")
        assert flagged.low_coverage is True
        page = lxml_html.fromstring(render_html(flagged))
        (warning,) = page.xpath('//section[@class="warning"]')
        assert "Lav dekningsgrad" in warning.text_content() and "60 %" in warning.text_content()
        (row,) = page.xpath('//tr[@data-indicator="coverage"]')
        assert row.xpath("./td")[1].text_content().strip() == "1000"
    finally:
        client.delete(f"/fhir/MeasureReport/{entered.json()['id']}")
