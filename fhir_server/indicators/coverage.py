"""Entered denominators and the coverage flag (N23).

A Measure marked ``entered-denominator`` lets each unit enter its own denominator for a period: a MeasureReport of
type ``data-collection`` for the Measure, with the unit as ``reporter``, the period, and the denominator's count.
An entered count wins over the counted one; the country's denominator is then the sum of its units'. A unit whose
coverage (the NNRR coverage Measure's share) is below the registry's limit is flagged in its reports.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fhir_server.indicators.periods import Period
from fhir_server.indicators.tally import NATIONAL, Key, Tally
from fhir_server.storage.schema import resource

ENTERED = "https://ryggrad.no/fhir/StructureDefinition/entered-denominator"
COVERAGE = "https://ryggrad.no/fhir/Measure/nnrr-coverage"


def takes_entered_denominator(measure: dict[str, Any]) -> bool:
    return any(e.get("url") == ENTERED and e.get("valueBoolean") for e in measure.get("extension") or [])


def _denominator(report: dict[str, Any]) -> int | None:
    for group in report.get("group") or []:
        for population in group.get("population") or []:
            codes = {c.get("code") for c in (population.get("code") or {}).get("coding") or []}
            if "denominator" in codes and isinstance(population.get("count"), int):
                return population["count"]
    return None


def entered_denominators(server: Any, measure: dict[str, Any], periods: list[Period]) -> dict[tuple[str, str], int]:
    """The denominators units entered for ``measure``: (period label, unit reference) → count (the newest report
    of a unit and period wins)."""
    spans = {(p.start.isoformat(), p.end.isoformat()): p.label for p in periods}
    plan = server.search_plan("MeasureReport", [("measure", measure["url"])], strict=True)
    query = select(resource.c.content).where(*plan.conditions).order_by(resource.c.last_updated)
    found: dict[tuple[str, str], int] = {}
    with server.db.reading() as conn:
        for (content,) in conn.execute(query):
            report = content or {}
            period = report.get("period") or {}
            label = spans.get((str(period.get("start", ""))[:10], str(period.get("end", ""))[:10]))
            unit = (report.get("reporter") or {}).get("reference")
            count = _denominator(report)
            if report.get("type") == "data-collection" and label and unit and count is not None:
                found[(label, unit)] = count
    return found


def apply_entered_denominators(
    server: Any, measures: list[dict[str, Any]], periods: list[Period], tallies: dict[Key, Tally]
) -> dict[Key, Tally]:
    """``tallies`` with the units' entered denominators in place of the counted ones, and the country's summed."""
    for measure in filter(takes_entered_denominator, measures):
        entered = entered_denominators(server, measure, periods)
        if not entered:
            continue
        url = measure["url"]
        for (label, unit), count in entered.items():
            tally = tallies.setdefault((url, label, unit), Tally())
            tally.denominator = count
        for period in periods:
            units = [k for k in tallies if k[0] == url and k[1] == period.label and k[2] is not NATIONAL]
            if units:
                national = tallies.setdefault((url, period.label, NATIONAL), Tally())
                national.denominator = sum(tallies[k].denominator for k in units)
                national.numerator = sum(tallies[k].numerator for k in units)
    return tallies


def low_coverage(tallies: dict[Key, Tally], label: str, unit: str | None, limit: float) -> bool | None:
    """Whether the unit's coverage in the period is below ``limit`` (None: not known, or the country)."""
    if unit is None:
        return None
    tally = tallies.get((COVERAGE, label, unit))
    if tally is None or tally.denominator <= 0:
        return None
    return tally.numerator / tally.denominator < limit
