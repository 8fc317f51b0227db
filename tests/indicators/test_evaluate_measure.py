"""``Measure/$evaluate-measure`` through the API: a unit's or the country's MeasureReport for a period, with the
counts the evaluator gives, the share and its interval or the N<30 suppression, and who may ask for what."""

from __future__ import annotations

from fhir_server.indicators.evaluate import NATIONAL, evaluate
from fhir_server.indicators.periods import quarter, year
from fhir_server.indicators.wilson import wilson
from tests.conftest import bearer
from tests.indicators.conftest import YEAR

SD = "https://ryggrad.no/fhir/StructureDefinition/"


def _counts(report: dict) -> tuple[int, int]:
    found = {p["code"]["coding"][0]["code"]: p["count"] for p in report["group"][0]["population"]}
    return found["denominator"], found["numerator"]


def _extension(element: dict, name: str) -> dict | None:
    return next((e for e in element.get("extension", []) if e["url"] == SD + name), None)


def test_a_unit_and_the_country_over_a_year_and_a_quarter(server, client, measures, cohort):
    _, units = cohort
    measure = measures["coping-talk"]
    for period in (year(YEAR), quarter(YEAR, 2)):
        tallies = evaluate(server, [measure], [period])
        for unit in (units[0], NATIONAL):
            params = {"periodStart": period.start.isoformat(), "periodEnd": period.end.isoformat()}
            if unit is not None:
                params["subject"] = unit
            answer = client.get("/fhir/Measure/nnrr-coping-talk/$evaluate-measure", params=params)
            assert answer.status_code == 200, answer.text
            report = answer.json()
            assert report["resourceType"] == "MeasureReport" and report["type"] == "summary"
            assert report["measure"] == f"{measure['url']}|{measure['version']}"
            assert report["period"] == {"start": period.start.isoformat(), "end": period.end.isoformat()}
            assert report.get("reporter") == ({"reference": unit} if unit else None)
            tally = tallies[(measure["url"], period.label, unit)]
            assert _counts(report) == (tally.denominator, tally.numerator)
            group = report["group"][0]
            if tally.denominator < 30:
                assert _extension(group, "suppressed")["valueBoolean"] is True and "measureScore" not in group
            else:
                assert group["measureScore"]["value"] == round(tally.numerator / tally.denominator, 4)
                low, high = wilson(tally.numerator, tally.denominator)
                interval = _extension(group, "score-interval")["valueRange"]
                assert (interval["low"]["value"], interval["high"]["value"]) == (round(low, 4), round(high, 4))
            checked = client.post("/fhir/MeasureReport/$validate", json=report).json()
            assert [i for i in checked.get("issue", []) if i["severity"] in ("error", "fatal")] == []


def test_the_type_level_form_names_the_measure(client, measures, cohort):
    params = {"periodStart": f"{YEAR}-01-01", "periodEnd": f"{YEAR}-12-31", "measure": measures["odi-improved"]["url"]}
    answer = client.get("/fhir/Measure/$evaluate-measure", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["measure"].startswith(measures["odi-improved"]["url"])


def test_bad_requests_and_access(server, client, cohort):
    _, units = cohort
    url = "/fhir/Measure/nnrr-coping-talk/$evaluate-measure"
    period = {"periodStart": f"{YEAR}-01-01", "periodEnd": f"{YEAR}-12-31"}
    assert client.get(url, params={"periodStart": f"{YEAR}-01-01"}).status_code == 400  # periodEnd is required
    assert client.get(url, params={**period, "periodEnd": f"{YEAR - 1}-01-01"}).status_code == 400
    assert client.get(url, params={**period, "reportType": "subject-list"}).status_code == 400
    assert client.get(url, params={**period, "subject": "Patient/x"}).status_code == 400
    assert client.get("/fhir/Measure/no-such-indicator/$evaluate-measure", params=period).status_code == 404
    patient = bearer(server, "patient", patient="01010112345")
    assert client.get(url, params=period, headers=patient).status_code == 403
    clinician = bearer(server, "clinician", org="974589095")  # another unit than the cohort's
    assert client.get(url, params={**period, "subject": units[0]}, headers=clinician).status_code == 403
    national = client.get(url, params=period, headers=clinician)
    assert national.status_code == 200 and "reporter" not in national.json()
    assert client.post(url, json={"resourceType": "Parameters"}).status_code in (404, 405)
