"""``GET Measure/[id]/$evaluate-measure`` (and ``Measure/$evaluate-measure?measure=``): a registry indicator over a
period, for one unit (``subject=Organization/[id]``) or the whole country, as a MeasureReport.

The evaluation brings the registry's materialized views up to date in transactions of its own, so the operation
is GET only (a POST runs in the request's write transaction). A unit's staff evaluate their own unit or the
country; the registry administration any unit; patients not at all.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir_server.auth.units import unit_by_orgnr
from fhir_server.errors import FhirError, Issue, bad_request, not_found
from fhir_server.indicators.coverage import COVERAGE, low_coverage
from fhir_server.indicators.evaluate import NATIONAL, Tally, evaluate
from fhir_server.indicators.periods import between
from fhir_server.indicators.reports import measure_report
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.operations.unit_filter import require_staff
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.versioning import instant

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/measure-evaluate-measure"


def _measure(ctx: Context, key: str) -> dict[str, Any]:
    """A Measure by id or canonical URL: a stored one, else the conformance package's."""
    url, _, version = key.partition("|")
    if "/" not in key:
        stored = ctx.store.current("Measure", key)
        if stored is not None and not stored.deleted and stored.content:
            return stored.content
    for measure in ctx.server.definitions.resources_of_type("Measure"):
        if measure.get("id") == key or (
            measure.get("url") == url and (not version or measure.get("version") == version)
        ):
            return measure
    raise not_found(f"Measure/{key}" if "/" not in key else key)


def _date(values: dict[str, list[object]], name: str) -> date:
    try:
        return date.fromisoformat(str(values[name][0]))
    except ValueError as error:
        raise bad_request(f"{name} must be a full date (YYYY-MM-DD)", name) from error


def _unit(ctx: Context, subject: str | None) -> str | None:
    """The unit's Organization reference (None: the country), as the caller may ask for it."""
    own = ctx.ownership.unit
    if subject is None:
        return NATIONAL
    kind, _, organization = subject.partition("/")
    if kind != "Organization" or not organization:
        raise bad_request("subject is a unit: Organization/[id]", "subject")
    if own is not None:
        unit = unit_by_orgnr(ctx.conn, own)
        if unit is None or unit.organization_id != organization:
            raise FhirError(403, [Issue("forbidden", "Access denied: staff evaluate their own unit or the country")])
    return f"Organization/{organization}"


def evaluate_measure(
    ctx: Context, req: FhirRequest, resource_type: str, resource_id: str | None = None
) -> FhirResponse:
    require_staff(ctx)
    values = parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)
    key = resource_id or (str(values["measure"][0]) if values.get("measure") else None)
    if key is None:
        raise bad_request("name the Measure: Measure/[id]/$evaluate-measure or the measure parameter", "measure")
    report_type = str(values["reportType"][0]) if values.get("reportType") else "summary"
    if report_type != "summary":
        raise FhirError(400, [Issue("not-supported", f"reportType {report_type}: only summary reports are offered")])
    try:
        period = between(_date(values, "periodStart"), _date(values, "periodEnd"))
    except ValueError as error:
        raise bad_request(str(error), "periodEnd") from error
    measure = _measure(ctx, key)
    unit = _unit(ctx, str(values["subject"][0]) if values.get("subject") else None)
    measures = [measure]
    if unit is not NATIONAL and measure["url"] != COVERAGE:  # the unit's coverage, for the low-coverage flag
        measures += [m for m in ctx.server.definitions.resources_of_type("Measure") if m.get("url") == COVERAGE]
    tallies = evaluate(ctx.server, measures, [period])
    tally = tallies.get((measure["url"], period.label, unit), Tally())
    settings = ctx.server.settings
    flag = low_coverage(tallies, period.label, unit, settings.indicator_low_coverage)
    report = measure_report(
        measure,
        period,
        unit,
        tally,
        minimum_denominator=settings.indicator_minimum_denominator,
        now=instant(ctx.now),
        low_coverage=flag,
    )
    return FhirResponse(200, report)
