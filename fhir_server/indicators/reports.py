"""A Measure's counts as a MeasureReport (profile registry-measure-report): the populations, the share with its
95 % Wilson interval — withheld (``suppressed``) when the denominator is below the registry's minimum (N < 30) —
for one unit (``reporter``) or the whole country (no reporter), over one period."""

from __future__ import annotations

from typing import Any

from fhir_server.indicators.evaluate import Tally
from fhir_server.indicators.periods import Period
from fhir_server.indicators.wilson import wilson

SD = "https://ryggrad.no/fhir/StructureDefinition/"
POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"


def _population(code: str, count: int) -> dict[str, Any]:
    return {"code": {"coding": [{"system": POPULATION, "code": code}]}, "count": count}


def measure_report(
    measure: dict[str, Any],
    period: Period,
    unit: str | None,
    tally: Tally,
    *,
    minimum_denominator: int,
    now: str,
    low_coverage: bool | None = None,
) -> dict[str, Any]:
    group: dict[str, Any] = {
        "population": [_population("denominator", tally.denominator), _population("numerator", tally.numerator)]
    }
    if tally.denominator < minimum_denominator:
        group["extension"] = [{"url": SD + "suppressed", "valueBoolean": True}]
    else:
        group["measureScore"] = {"value": round(tally.numerator / tally.denominator, 4)}
        low, high = wilson(tally.numerator, tally.denominator) or (0.0, 0.0)
        group["extension"] = [
            {
                "url": SD + "score-interval",
                "valueRange": {"low": {"value": round(low, 4)}, "high": {"value": round(high, 4)}},
            }
        ]
    report: dict[str, Any] = {
        "resourceType": "MeasureReport",
        "meta": {"profile": [SD + "registry-measure-report"]},
        "status": "complete",
        "type": "summary",
        "measure": f"{measure['url']}|{measure['version']}" if measure.get("version") else measure["url"],
        "date": now,
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "group": [group],
    }
    if unit is not None:
        report["reporter"] = {"reference": unit}
    if low_coverage is not None:
        report["extension"] = [{"url": SD + "low-coverage", "valueBoolean": low_coverage}]
    return report
