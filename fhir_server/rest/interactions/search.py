"""search on a type (GET, or POST to ``_search`` so identifiers stay out of URLs).

Paging links carry a sealed token (``_page``) instead of the parameters, so a search by FNR posted in a form body
never comes back as a URL with the number in it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_

from fhir_server.auth import patient_scope
from fhir_server.auth.ownership import refuse_label_searches
from fhir_server.errors import bad_request, not_found, operation_outcome
from fhir_server.rest.bundles import bundle, page_url
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.search.engine import run_search, split_controls
from fhir_server.storage.schema import resource
from fhir_server.storage.store import StoredVersion


def _strict(req: FhirRequest) -> bool:
    prefer = (req.header("prefer") or "").replace(" ", "")
    return "handling=strict" in prefer


def search_type(ctx: Context, req: FhirRequest, resource_type: str) -> FhirResponse:
    return _search(ctx, req, resource_type, resource_type, [])


def search_compartment(
    ctx: Context, req: FhirRequest, compartment_type: str, owner_id: str, resource_type: str
) -> FhirResponse:
    """``Patient/123/Observation`` (or ``Patient/123/*``): a search limited to one patient's compartment."""
    compartments = ctx.server.compartments
    if resource_type == "*":
        types = [t for t in compartments.resource_types(compartment_type) if t not in ctx.hidden_types]
        scope = [or_(*[compartments.condition(compartment_type, owner_id, t) for t in types])]
        return _search(ctx, req, None, f"{compartment_type}/{owner_id}/*", scope)
    if resource_type not in ctx.server.resource_types:
        raise not_found(f"Unknown resource type '{resource_type}'")
    scope = [compartments.condition(compartment_type, owner_id, resource_type)]
    return _search(ctx, req, resource_type, f"{compartment_type}/{owner_id}/{resource_type}", scope)


def search_system(ctx: Context, req: FhirRequest) -> FhirResponse:
    """``GET [base]?_type=Patient,Practitioner&…``: parameters common to all resources."""
    scope: list[ColumnElement[bool]] = []
    types: list[str] = []
    for value in req.params("_type"):
        types += [t.strip() for t in value.split(",") if t.strip()]
    unknown = sorted(set(types) - ctx.server.resource_types)
    if unknown:
        raise bad_request(f"_type names unknown resource types: {', '.join(unknown)}", "_type")
    if types:
        scope.append(resource.c.resource_type.in_(types))
    elif ctx.hidden_types:
        scope.append(resource.c.resource_type.not_in(sorted(ctx.hidden_types)))
    query = [(k, v) for k, v in req.query if k != "_type"]
    echoed = [("_type", ",".join(types))] if types else []
    return _search(ctx, FhirRequest(req.method, req.path, query, req.headers), None, "", scope, echoed)


def _search(
    ctx: Context,
    req: FhirRequest,
    resource_type: str | None,
    path: str,
    scope: list[ColumnElement[bool]],
    echoed: list[tuple[str, str]] | None = None,
) -> FhirResponse:
    server = ctx.server
    settings = server.settings
    tokens = server.page_tokens
    params, cursor = req.query, None
    page_token = req.param("_page")
    if page_token:
        params, cursor = tokens.open(page_token, path)
    ownership = ctx.ownership
    if not ownership.sees_all:
        refuse_label_searches(params)  # _sort included
    matching, controls = split_controls(params, settings.default_page_size, settings.max_page_size)
    plan = server.search_plan(resource_type, matching, strict=_strict(req), ownership=ownership)
    param_types = server.param_types(resource_type) if resource_type else {}
    conditions = [*plan.conditions, *scope]
    if ctx.is_patient and resource_type is not None:  # only the patient's own rows, in the query itself
        own = patient_scope.condition(resource_type, ctx.patient_ids(), ctx.principal.task if ctx.principal else None)
        if own is not None:
            conditions.append(own)
    unit = ownership.condition(resource_type) if resource_type else ownership.any_type_condition()
    if unit is not None:  # only the unit's own rows (and shared ones), in the query itself
        conditions.append(unit)
    outcome = run_search(
        ctx.conn,
        resource_type,
        conditions,
        controls,
        param_types,
        cursor,
        ctx.hidden_types,
        ownership.any_type_condition(),
    )

    state = [*(echoed or []), *plan.used, *controls.echoed, ("_count", str(controls.count))]
    if req.method == "GET" and not page_token:
        self_url = page_url(ctx.base_url, path, state)  # the client put these in the URL itself
    else:
        self_url = page_url(ctx.base_url, path, [("_page", tokens.seal(path, state, cursor))])
    links = [("self", self_url)]
    if outcome.next_cursor is not None:
        next_token = tokens.seal(path, state, outcome.next_cursor)
        links.append(("next", page_url(ctx.base_url, path, [("_page", next_token)])))

    def entry(version: StoredVersion, mode: str) -> dict[str, Any]:
        content = server.element_filter.apply(version.content or {}, controls.summary, controls.elements)
        return {
            "fullUrl": f"{ctx.base_url}/{version.resource_type}/{version.id}",
            "resource": content,
            "search": {"mode": mode},
        }

    entries = [entry(m, "match") for m in outcome.matches] + [entry(i, "include") for i in outcome.included]
    if plan.unknown:
        entries.append({"resource": operation_outcome(plan.issues()), "search": {"mode": "outcome"}})
    return FhirResponse(200, bundle("searchset", entries, links, ctx.now, outcome.total))
