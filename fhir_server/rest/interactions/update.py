"""update (create-on-update allowed), and conditional update."""

from __future__ import annotations

from fhir_server.errors import bad_request, precondition_failed
from fhir_server.rest.context import Context
from fhir_server.rest.interactions.conditional import single_match
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.resources import (
    check_id,
    checked_resource,
    create_resource,
    update_resource,
    write_with_retries,
    written_response,
)
from fhir_server.rest.versioning import check_if_match, parse_etag
from fhir_server.storage.store import VersionConflict


def update(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str) -> FhirResponse:
    check_id(resource_id)
    content = checked_resource(ctx, req.body, resource_type)
    if content.get("id") != resource_id:
        raise bad_request("The resource's id must be present and equal the id in the URL", "id")
    return _write(ctx, req, resource_type, resource_id, content)


def conditional_update(ctx: Context, req: FhirRequest, resource_type: str) -> FhirResponse:
    content = checked_resource(ctx, req.body, resource_type)
    match = single_match(ctx, resource_type, req.query)
    body_id = content.get("id")
    if match is None:
        if body_id is None:
            content = dict(content)
            version = create_resource(ctx, resource_type, content, "PUT")
            return written_response(ctx, req, version, 201, f"Created {resource_type}/{version.id}")
        check_id(body_id)
        return _write(ctx, req, resource_type, body_id, content)
    if body_id is not None and body_id != match.id:
        raise bad_request("The resource's id differs from the id of the resource the criteria match", "id")
    return _write(ctx, req, resource_type, match.id, {**content, "id": match.id})


def _may_queue(ctx: Context) -> bool:
    """Whether a create by id may wait for the bundle's other creates (``ResourceStore.queue_new``): in a Bundle,
    on SQLite, whose writer lock is held from BEGIN, so no racer can take the id before the flush (on PostgreSQL
    one can: the create is written at once, where a clash is caught and retried)."""
    return ctx.in_bundle and not ctx.server.db.is_postgres


def _write(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str, content: dict) -> FhirResponse:
    if_match = req.header("if-match")

    def attempt() -> FhirResponse:
        current = ctx.store.current(resource_type, resource_id)
        check_if_match(if_match, current)
        if current is None:
            version = create_resource(ctx, resource_type, content, "PUT", resource_id, deferred=_may_queue(ctx))
            return written_response(ctx, req, version, 201, f"Created {resource_type}/{resource_id}")
        version, changed = update_resource(ctx, current, content, "PUT")
        message = "Updated" if changed else "No change: the resource is identical to the current version"
        return written_response(ctx, req, version, 200, message)

    if if_match is not None:
        try:
            return attempt()
        except VersionConflict as exc:
            raise precondition_failed(
                f"If-Match: version {parse_etag(if_match)} is no longer the current version"
            ) from exc
    return write_with_retries(ctx, attempt)
