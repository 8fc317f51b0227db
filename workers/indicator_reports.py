"""The scheduler's indicator results: each registry Measure's MeasureReport per unit and for the country, for the
last completed quarter and the last completed year (N22), stored so that the units' reports read them instead of
evaluating again. Each run replaces the reports of those periods (one per Measure, period and unit, found by its
identifier): run twice, the same reports. A unit's report belongs to the unit (its staff read it); the country's
to no unit."""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir_server.auth.ownership import owners
from fhir_server.indicators.coverage import low_coverage
from fhir_server.indicators.evaluate import NATIONAL, evaluate
from fhir_server.indicators.periods import Period, last_completed_quarter, year
from fhir_server.indicators.reports import measure_report
from fhir_server.norway.identifiers import ORGNR_SYSTEM
from fhir_server.rest.context import Context
from fhir_server.rest.versioning import instant
from fhir_server.subscriptions.outbox import record
from workers.registry.records import create, find, update

IDENTIFIER_SYSTEM = "https://ryggrad.no/fhir/NamingSystem/registry-measure-report"
REGISTRY = "https://ryggrad.no/fhir/StructureDefinition/registry"


def registry_measures(server: Any) -> list[dict[str, Any]]:
    """The Measures of the registries (those naming their registry)."""
    return [
        m
        for m in server.definitions.resources_of_type("Measure")
        if any(e.get("url") == REGISTRY for e in m.get("extension") or [])
    ]


def report_periods(today: date) -> list[Period]:
    return [last_completed_quarter(today), year(today.year - 1)]


def _identifier(measure: dict[str, Any], period: Period, unit: str | None) -> str:
    return f"{measure['id']}/{period.label}/{unit or 'national'}"


def _unit_owner(ctx: Context, unit: str | None) -> set[str]:
    """The unit's organisation number, which its staff's tokens name (none for the country)."""
    if unit is None:
        return set()
    current = ctx.store.current("Organization", unit.removeprefix("Organization/"))
    content = current.content if current is not None and not current.deleted else None
    for identifier in (content or {}).get("identifier") or []:
        if identifier.get("system") == ORGNR_SYSTEM and identifier.get("value"):
            return {str(identifier["value"])}
    return owners(content)


def store_reports(server: Any, today: date) -> list[str]:
    """Evaluate every registry Measure for the report periods and store the results; the MeasureReports' ids."""
    measures = registry_measures(server)
    periods = report_periods(today)
    by_url = {m["url"]: m for m in measures}
    by_label = {p.label: p for p in periods}
    tallies = evaluate(server, measures, periods)
    minimum = server.settings.indicator_minimum_denominator
    written = []
    with server.db.writing() as conn:
        ctx = Context(server, conn)
        for (url, label, unit), tally in sorted(
            tallies.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "")
        ):
            measure, period = by_url[url], by_label[label]
            flag = low_coverage(tallies, label, unit, server.settings.indicator_low_coverage)
            report = measure_report(
                measure, period, unit, tally, minimum_denominator=minimum, now=instant(ctx.now), low_coverage=flag
            )
            key = _identifier(measure, period, unit if unit is not NATIONAL else None)
            report["identifier"] = [{"system": IDENTIFIER_SYSTEM, "value": key}]
            (existing,) = find(ctx, "MeasureReport", [("identifier", f"{IDENTIFIER_SYSTEM}|{key}")], limit=1) or (None,)
            if existing is None:
                written.append(create(ctx, "MeasureReport", report, _unit_owner(ctx, unit)).id)
            else:
                written.append(update(ctx, existing, {**report, "id": existing.id}).id)
        wake = record(ctx)
    server.wake(wake)
    return written
