"""Coverage (N23): patients registered (a finalised clinician form) among those who attended, counted from the
registry's episodes — or over the unit's own denominator for the period, where it entered one, which wins; a unit
below 60 % is flagged in its reports."""

from __future__ import annotations

from fhir_server.indicators.evaluate import NATIONAL, evaluate
from fhir_server.indicators.periods import year
from tests.indicators.conftest import YEAR

SD = "https://ryggrad.no/fhir/StructureDefinition/"


def _entered(measure: dict, unit: str, denominator: int) -> dict:
    return {
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": "data-collection",
        "measure": measure["url"],
        "reporter": {"reference": unit},
        "period": {"start": f"{YEAR}-01-01", "end": f"{YEAR}-12-31"},
        "group": [
            {
                "population": [
                    {
                        "code": {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/measure-population",
                                    "code": "denominator",
                                }
                            ]
                        },
                        "count": denominator,
                    }
                ]
            }
        ],
    }


def _flag(report: dict) -> bool | None:
    return next((e["valueBoolean"] for e in report.get("extension", []) if e["url"] == SD + "low-coverage"), None)


def test_coverage_counted_then_over_an_entered_denominator(server, client, measures, cohort):
    cases, units = cohort
    coverage = measures["coverage"]
    period = year(YEAR)
    counted = evaluate(server, [coverage], [period])
    expected = {}
    for unit in units:
        mine = [c for c in cases if unit.endswith(c.unit) and c.visit.year == YEAR]
        expected[unit] = (len(mine), sum(c.final for c in mine))
        tally = counted[(coverage["url"], str(YEAR), unit)]
        assert (tally.denominator, tally.numerator) == expected[unit]

    entered = client.post("/fhir/MeasureReport", json=_entered(coverage, units[1], 100))
    assert entered.status_code == 201, entered.text
    try:
        tallies = evaluate(server, [coverage], [period])
        b = tallies[(coverage["url"], str(YEAR), units[1])]
        assert (b.denominator, b.numerator) == (100, expected[units[1]][1])  # the entered count wins
        national = tallies[(coverage["url"], str(YEAR), NATIONAL)]
        assert national.denominator == expected[units[0]][0] + 100
        assert national.numerator == expected[units[0]][1] + expected[units[1]][1]

        params = {"periodStart": f"{YEAR}-01-01", "periodEnd": f"{YEAR}-12-31"}
        url = "/fhir/Measure/nnrr-coping-talk/$evaluate-measure"
        low = client.get(url, params={**params, "subject": units[1]}).json()
        assert _flag(low) is (expected[units[1]][1] / 100 < 0.6) and _flag(low) is True
        high = client.get(url, params={**params, "subject": units[0]}).json()
        assert _flag(high) is (expected[units[0]][1] / expected[units[0]][0] < 0.6)
        assert _flag(client.get(url, params=params).json()) is None  # the country is not flagged
    finally:
        client.delete(f"/fhir/MeasureReport/{entered.json()['id']}")
