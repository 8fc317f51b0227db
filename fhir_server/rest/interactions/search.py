"""search on a type (GET, or POST to ``_search`` so identifiers stay out of URLs)."""

from __future__ import annotations

from fhir_server.rest.bundles import bundle, page_url
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.search.basic import build_query, run_query


def _strict(req: FhirRequest) -> bool:
    prefer = (req.header("prefer") or "").replace(" ", "")
    return "handling=strict" in prefer


def search_type(ctx: Context, req: FhirRequest, resource_type: str) -> FhirResponse:
    settings = ctx.server.settings
    query = build_query(
        resource_type,
        req.query,
        searchable=ctx.server.searchable(resource_type),
        strict=_strict(req),
        default_count=settings.default_page_size,
        max_count=settings.max_page_size,
    )
    page = run_query(ctx.conn, query)
    base_params = [*query.used, ("_count", str(query.count))]
    if query.total != "none":
        base_params.append(("_total", query.total))
    self_params = [*base_params, *([("_cursor", str(query.cursor))] if query.cursor is not None else [])]
    links = [("self", page_url(ctx.base_url, resource_type, self_params))]
    if page.next_cursor is not None:
        links.append(
            (
                "next",
                page_url(ctx.base_url, resource_type, [*base_params, ("_cursor", str(page.next_cursor))]),
            )
        )
    entries = [
        {
            "fullUrl": f"{ctx.base_url}/{m.resource_type}/{m.id}",
            "resource": m.content,
            "search": {"mode": "match"},
        }
        for m in page.matches
    ]
    return FhirResponse(200, bundle("searchset", entries, links, ctx.now, page.total))
