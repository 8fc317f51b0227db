"""``GET Organization/[id]/$quality-report`` through the API: the unit's report as a Binary (HTML or PDF) for its own
staff and the registry administration, refused to other units' staff and to patients, with the period checked."""

from __future__ import annotations

import base64

from lxml import html as lxml_html

from fhir_server.indicators.evaluate import NATIONAL, Tally, evaluate
from fhir_server.indicators.periods import parse_period
from tests.conftest import bearer
from workers.reports.formatting import share_text
from workers.reports.indicators import minimum_denominator, nnrr_measures, share_of


def _report(client, unit_id: str, headers: dict[str, str] | None = None, **query: str):
    return client.get(f"/fhir/Organization/{unit_id}/$quality-report", params=query, headers=headers or {})


def test_the_units_staff_get_its_report_as_html(server, client, report_world):
    unit = report_world.unit
    answer = _report(client, unit.id, bearer(server, "clinician", org=unit.orgnr), period="2017")
    assert answer.status_code == 200, answer.text[:500]
    binary = answer.json()
    assert binary["resourceType"] == "Binary"
    assert binary["contentType"] == "text/html"
    document = base64.b64decode(binary["data"]).decode("utf-8")
    assert unit.name in document and report_world.other.name not in document
    page = lxml_html.fromstring(document)
    measures = nnrr_measures(server)
    tallies = evaluate(server, measures, [parse_period("2017")])
    least = minimum_denominator(server)
    for measure in measures:
        key = measure["url"].rsplit("/nnrr-", 1)[1]
        own = tallies.get((measure["url"], "2017", unit.reference), Tally())
        (row,) = page.xpath(f'//tr[@data-indicator="{key}"]')
        cells = [" ".join(c.text_content().split()) for c in row.xpath("./td")]
        assert cells[0:2] == [share_text(share_of(own, least)), str(own.denominator)]
        national = tallies.get((measure["url"], "2017", NATIONAL), Tally())
        assert cells[5] == str(national.denominator)


def test_the_report_as_pdf_and_by_default_the_last_completed_quarter(server, client, report_world):
    unit = report_world.unit
    answer = _report(client, unit.id, format="pdf")  # the registry administration
    assert answer.status_code == 200, answer.text[:500]
    binary = answer.json()
    assert binary["contentType"] == "application/pdf"
    assert base64.b64decode(binary["data"]).startswith(b"%PDF")
    assert f"nnrr-{unit.resh}-" in answer.headers["content-disposition"]


def test_the_report_is_the_units_own(server, client, report_world):
    unit, other = report_world.unit, report_world.other
    assert _report(client, unit.id, bearer(server, "clinician", org=other.orgnr)).status_code == 403
    assert _report(client, unit.id, bearer(server, "patient", patient="13097248022")).status_code == 403
    assert _report(client, "no-such-unit").status_code == 404
    wrong = _report(client, unit.id, period="2017-3")
    assert wrong.status_code == 400 and "2026Q3" in wrong.text
    assert _report(client, unit.id, format="docx").status_code == 400
    assert client.post(
        f"/fhir/Organization/{unit.id}/$quality-report", json={"resourceType": "Parameters"}
    ).status_code in (
        405,
        404,
        400,
    )
