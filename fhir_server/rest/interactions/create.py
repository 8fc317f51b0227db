"""create, and conditional create (If-None-Exist)."""

from __future__ import annotations

from fhir_server.rest.context import Context
from fhir_server.rest.interactions.conditional import criteria_params, single_match
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.resources import checked_resource, create_resource, written_response


def create(ctx: Context, req: FhirRequest, resource_type: str) -> FhirResponse:
    content = checked_resource(ctx, req.body, resource_type)
    if_none_exist = req.header("if-none-exist")
    if if_none_exist:
        existing = single_match(ctx, resource_type, criteria_params(if_none_exist))
        if existing is not None:
            return written_response(ctx, req, existing, 200, "An existing resource matches If-None-Exist")
    content = {k: v for k, v in content.items() if k != "id"}  # the server assigns ids on create
    version = create_resource(ctx, resource_type, content, "POST")
    return written_response(ctx, req, version, 201, f"Created {resource_type}/{version.id}")
