"""search on a type (GET, or POST to ``_search`` so identifiers stay out of URLs).

Paging links carry a sealed token (``_page``) instead of the parameters, so a search by FNR posted in a form body
never comes back as a URL with the number in it.
"""

from __future__ import annotations

from typing import Any

from fhir_server.errors import Issue, operation_outcome
from fhir_server.rest.bundles import bundle, page_url
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.search.engine import run_search, split_controls
from fhir_server.storage.store import StoredVersion


def _strict(req: FhirRequest) -> bool:
    prefer = (req.header("prefer") or "").replace(" ", "")
    return "handling=strict" in prefer


def search_type(ctx: Context, req: FhirRequest, resource_type: str) -> FhirResponse:
    server = ctx.server
    settings = server.settings
    tokens = server.page_tokens
    params, cursor = req.query, None
    page_token = req.param("_page")
    if page_token:
        params, cursor = tokens.open(page_token, resource_type)
    matching, controls = split_controls(params, settings.default_page_size, settings.max_page_size)
    plan = server.search_plan(resource_type, matching, strict=_strict(req))
    outcome = run_search(ctx.conn, resource_type, plan.conditions, controls, server.param_types(resource_type), cursor)

    state = [*plan.used, *controls.echoed, ("_count", str(controls.count))]
    if req.method == "GET" and not page_token:
        self_url = page_url(ctx.base_url, resource_type, state)  # the client put these in the URL itself
    else:
        self_url = page_url(ctx.base_url, resource_type, [("_page", tokens.seal(resource_type, state, cursor))])
    links = [("self", self_url)]
    if outcome.next_cursor is not None:
        next_token = tokens.seal(resource_type, state, outcome.next_cursor)
        links.append(("next", page_url(ctx.base_url, resource_type, [("_page", next_token)])))

    def entry(version: StoredVersion, mode: str) -> dict[str, Any]:
        content = server.element_filter.apply(version.content or {}, controls.summary, controls.elements)
        return {
            "fullUrl": f"{ctx.base_url}/{version.resource_type}/{version.id}",
            "resource": content,
            "search": {"mode": mode},
        }

    entries = [entry(m, "match") for m in outcome.matches] + [entry(i, "include") for i in outcome.included]
    if plan.ignored:
        issues = [
            Issue("not-supported", f"Search parameter '{name}' was ignored: {why}", "warning")
            for name, why in plan.ignored
        ]
        entries.append({"resource": operation_outcome(issues), "search": {"mode": "outcome"}})
    return FhirResponse(200, bundle("searchset", entries, links, ctx.now, outcome.total))
