"""patch with JSON Patch or FHIRPath Patch, and conditional patch."""

from __future__ import annotations

from fhir_server.errors import fhir_error, gone, not_found, precondition_failed, unprocessable
from fhir_server.patch import apply_fhirpath_patch, apply_json_patch
from fhir_server.rest.context import Context
from fhir_server.rest.interactions.conditional import find_matches
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.resources import check_id, checked_resource, update_resource, written_response
from fhir_server.rest.versioning import check_if_match, parse_etag
from fhir_server.storage.store import VersionConflict

JSON_PATCH = "application/json-patch+json"


def patch(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str) -> FhirResponse:
    check_id(resource_id)
    current = ctx.store.current(resource_type, resource_id)
    if current is None:
        raise not_found(f"{resource_type}/{resource_id} is not known")
    if current.deleted or current.content is None:
        raise gone(f"{resource_type}/{resource_id} was deleted")
    if_match = req.header("if-match")
    check_if_match(if_match, current)
    if req.content_type == JSON_PATCH:
        patched = apply_json_patch(current.content, req.body)
    elif isinstance(req.body, dict) and req.body.get("resourceType") == "Parameters":
        patched = apply_fhirpath_patch(current.content, req.body)
    else:
        raise fhir_error(415, "not-supported", f"PATCH takes {JSON_PATCH} or a FHIRPath Patch Parameters resource")
    if patched.get("resourceType") != resource_type or patched.get("id") != resource_id:
        raise unprocessable("A patch may not change the resource's type or id")
    content = checked_resource(ctx, patched, resource_type)
    try:
        version, changed = update_resource(ctx, current, content, "PATCH")
    except VersionConflict as exc:
        if if_match:
            raise precondition_failed(
                f"If-Match: version {parse_etag(if_match)} is no longer the current version"
            ) from exc
        raise
    return written_response(ctx, req, version, 200, "Patched" if changed else "No change")


def conditional_patch(ctx: Context, req: FhirRequest, resource_type: str) -> FhirResponse:
    matches = find_matches(ctx, resource_type, req.query, lock=True)
    if len(matches) > 1:
        raise precondition_failed("The search criteria match more than one resource; make them more selective")
    if not matches:
        raise not_found("No resource matches the search criteria")
    return patch(ctx, req, resource_type, matches[0].id)
