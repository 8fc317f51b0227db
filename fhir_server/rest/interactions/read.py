"""read and vread, with If-None-Match and If-Modified-Since."""

from __future__ import annotations

from fhir_server.errors import bad_request, gone, not_found
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.versioning import parse_etag, parse_http_date, version_headers


def read(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str) -> FhirResponse:
    current = ctx.store.current(resource_type, resource_id)
    if current is None:
        raise not_found(f"{resource_type}/{resource_id} is not known")
    if current.deleted:
        error = gone(f"{resource_type}/{resource_id} was deleted")
        error.headers.update(version_headers(current))
        raise error
    headers = version_headers(current)
    if_none_match = req.header("if-none-match")
    if if_none_match and if_none_match.strip() != "*" and parse_etag(if_none_match) == current.version_id:
        return FhirResponse(304, None, headers)
    if_modified_since = req.header("if-modified-since")
    if if_modified_since and current.last_updated.replace(microsecond=0) <= parse_http_date(if_modified_since):
        return FhirResponse(304, None, headers)
    return FhirResponse(200, current.content, headers)


def vread(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str, version: str) -> FhirResponse:
    if not version.isdigit():
        raise bad_request("A version id is a whole number")
    stored = ctx.store.version(resource_type, resource_id, int(version))
    if stored is None:
        raise not_found(f"{resource_type}/{resource_id} has no version {version}")
    if stored.deleted:
        error = gone(f"Version {version} of {resource_type}/{resource_id} is a deletion")
        error.headers.update(version_headers(stored))
        raise error
    return FhirResponse(200, stored.content, version_headers(stored))
