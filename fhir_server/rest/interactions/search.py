"""search on a type (GET, or POST to ``_search`` so identifiers stay out of URLs).

Paging links carry a sealed token (``_page``) instead of the parameters, so a search by FNR posted in a form body
never comes back as a URL with the number in it.
"""

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
    tokens = ctx.server.page_tokens
    params, cursor = req.query, None
    page_token = req.param("_page")
    if page_token:
        params, cursor = tokens.open(page_token, resource_type)
    query = build_query(
        resource_type,
        params,
        searchable=ctx.server.searchable(resource_type),
        strict=_strict(req),
        default_count=settings.default_page_size,
        max_count=settings.max_page_size,
    )
    query.cursor = cursor
    page = run_query(ctx.conn, query)
    state = [*query.used, ("_count", str(query.count))]
    if query.total != "none":
        state.append(("_total", query.total))
    if req.method == "GET" and not page_token:
        self_url = page_url(ctx.base_url, resource_type, state)  # the client put these in the URL itself
    else:
        self_url = page_url(ctx.base_url, resource_type, [("_page", tokens.seal(resource_type, state, cursor))])
    links = [("self", self_url)]
    if page.next_cursor is not None:
        next_token = tokens.seal(resource_type, state, page.next_cursor)
        links.append(("next", page_url(ctx.base_url, resource_type, [("_page", next_token)])))
    entries = [
        {"fullUrl": f"{ctx.base_url}/{m.resource_type}/{m.id}", "resource": m.content, "search": {"mode": "match"}}
        for m in page.matches
    ]
    return FhirResponse(200, bundle("searchset", entries, links, ctx.now, page.total))
