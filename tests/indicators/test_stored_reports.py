"""The scheduler's stored indicator results (N22): every registry Measure's MeasureReport per unit and for the
country, for the last completed quarter and year — replaced, not added to, when stored again; a unit's reports
readable by its own staff only."""

from __future__ import annotations

from datetime import date

from fhir_server.indicators.evaluate import NATIONAL, evaluate
from fhir_server.indicators.periods import quarter, year
from fhir_server.norway.identifiers import ORGNR_SYSTEM, orgnr_control_digit
from tests.conftest import bearer
from tests.indicators.conftest import YEAR
from workers.indicator_reports import IDENTIFIER_SYSTEM, registry_measures, store_reports


def _orgnr(seed: int) -> str:
    for n in range(seed, seed + 100):
        digit = orgnr_control_digit(f"{n:08d}")
        if digit is not None:
            return f"{n:08d}{digit}"
    raise AssertionError("no organisation number")


def _stored(client, key: str, headers: dict | None = None) -> list[dict]:
    found = client.get(
        "/fhir/MeasureReport", params={"identifier": f"{IDENTIFIER_SYSTEM}|{key}"}, headers=headers or {}
    )
    assert found.status_code == 200, found.text
    return [e["resource"] for e in found.json().get("entry", [])]


def test_the_last_quarter_and_year_are_stored_per_unit_and_for_the_country(server, client, cohort):
    _, units = cohort
    unit = units[0].removeprefix("Organization/")
    orgnr = _orgnr(91400000)
    organization = {
        "resourceType": "Organization",
        "id": unit,
        "identifier": [{"system": ORGNR_SYSTEM, "value": orgnr}],
    }
    assert client.put(f"/fhir/Organization/{unit}", json=organization).is_success

    first = store_reports(server, date(YEAR + 1, 4, 15))  # the last completed quarter: Q1 next year; the year: YEAR
    again = store_reports(server, date(YEAR + 1, 5, 2))
    assert sorted(first) == sorted(again)  # replaced, not added to

    measures = {m["id"]: m for m in registry_measures(server)}
    tallies = evaluate(server, list(measures.values()), [year(YEAR), quarter(YEAR + 1, 1)])
    for key, where in (
        (f"nnrr-coping-talk/{YEAR}/{units[0]}", units[0]),
        (f"nnrr-coping-talk/{YEAR}/national", NATIONAL),
    ):
        (report,) = _stored(client, key)
        tally = tallies[(measures["nnrr-coping-talk"]["url"], str(YEAR), where)]
        counts = {p["code"]["coding"][0]["code"]: p["count"] for p in report["group"][0]["population"]}
        assert counts == {"denominator": tally.denominator, "numerator": tally.numerator}
        assert report.get("reporter") == ({"reference": where} if where else None)
    assert _stored(client, f"nnrr-odi-improved/{YEAR + 1}Q1/{units[0]}")  # attributed to visit + 6 months

    own = bearer(server, "clinician", org=orgnr)
    other = bearer(server, "clinician", org=_orgnr(91500000))
    assert len(_stored(client, f"nnrr-coping-talk/{YEAR}/{units[0]}", own)) == 1
    assert _stored(client, f"nnrr-coping-talk/{YEAR}/{units[0]}", other) == []
