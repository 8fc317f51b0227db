"""delete, and conditional delete. A deletion is a new version marked deleted; history keeps the rest."""

from __future__ import annotations

from fhir_server.errors import precondition_failed
from fhir_server.rest.context import Context
from fhir_server.rest.interactions.conditional import find_matches
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.resources import check_id, update_resource, write_with_retries
from fhir_server.rest.versioning import check_if_match, version_headers


def delete(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str) -> FhirResponse:
    check_id(resource_id)
    if_match = req.header("if-match")

    def attempt() -> FhirResponse:
        current = ctx.store.current(resource_type, resource_id)
        check_if_match(if_match, current)
        if current is None:
            return FhirResponse(204)
        version, _ = update_resource(ctx, current, None, "DELETE")
        return FhirResponse(204, None, version_headers(version))

    return attempt() if if_match else write_with_retries(ctx, attempt)


def conditional_delete(ctx: Context, req: FhirRequest, resource_type: str) -> FhirResponse:
    matches = find_matches(ctx, resource_type, req.query, lock=True)
    if len(matches) > 1:
        raise precondition_failed("The search criteria match more than one resource; make them more selective")
    if not matches:
        return FhirResponse(204)
    return delete(ctx, req, resource_type, matches[0].id)
