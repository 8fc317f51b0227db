"""``GET Organization/[id]/$quality-report?period=2026Q3|2026&format=html|pdf``: a unit's quality report (registry
rule N22) as a Binary holding the HTML document or its PDF (``workers.reports``).

Like ``$evaluate-measure`` it brings the registry's materialized views up to date in transactions of its own, so it
is GET only. A unit's staff get their own unit's report (the Organization whose organisation number their token
names); the registry administration any unit's; nobody else.
"""

from __future__ import annotations

import base64

from fhir_server.auth.units import unit_by_orgnr
from fhir_server.errors import FhirError, Issue, bad_request, not_found
from fhir_server.norway.identifiers import RESH_SYSTEM
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.operations.unit_filter import require_staff
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/organization-quality-report"


def _check_own_unit(ctx: Context, organization_id: str) -> None:
    own = ctx.ownership.unit
    if own is None:
        return
    unit = unit_by_orgnr(ctx.conn, own)
    if unit is None or unit.organization_id != organization_id:
        raise FhirError(403, [Issue("forbidden", "Access denied: staff get their own unit's report")])


def quality_report(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str) -> FhirResponse:
    from workers.reports.document import FORMATS, build_report, oslo_today, render, report_period

    require_staff(ctx)
    values = parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)
    form = str(values["format"][0]) if values.get("format") else "html"
    if form not in FORMATS:
        raise bad_request("format is html or pdf", "format")
    _check_own_unit(ctx, resource_id)
    stored = ctx.store.current("Organization", resource_id)
    if stored is None or stored.deleted or not stored.content:
        raise not_found(f"Organization/{resource_id}")
    organization = stored.content
    today = oslo_today(ctx.now)
    try:
        period = report_period(str(values["period"][0]) if values.get("period") else None, today)
    except ValueError as error:
        raise bad_request(str(error), "period") from error
    resh = next((str(i["value"]) for i in organization.get("identifier") or [] if i.get("system") == RESH_SYSTEM), None)
    document = render(build_report(ctx.server, organization, resh, period, today), form)
    binary = {
        "resourceType": "Binary",
        "contentType": document.media_type,
        "data": base64.b64encode(document.content).decode("ascii"),
    }
    return FhirResponse(200, binary, {"Content-Disposition": f'inline; filename="{document.filename}"'})
