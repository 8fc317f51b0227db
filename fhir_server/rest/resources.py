"""The shared write path: check a body, stamp it, store a version, index it, and answer per ``Prefer``."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select

from fhir_server.errors import FhirError, Issue, bad_request, conflict, not_found, operation_outcome
from fhir_server.rest.context import Change, Context
from fhir_server.rest.form_responses import prepared_response
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.versioning import next_timestamp, stamp_meta, version_headers, without_server_meta
from fhir_server.search.index.rows import IndexRows
from fhir_server.search.values import escape
from fhir_server.storage.schema import resource
from fhir_server.storage.store import IdTaken, StoredVersion, VersionConflict
from fhir_server.subscriptions.outbox import matches_before_delete
from fhir_server.subscriptions.writes import prepared_subscription
from fhir_server.validation.questionnaire_response import resolve_questionnaire

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
WRITE_RETRIES = 3


def check_type(ctx: Context, resource_type: str) -> None:
    if resource_type not in ctx.server.resource_types:
        raise not_found(f"Unknown resource type '{resource_type}'")


def check_id(resource_id: str) -> None:
    if not ID_PATTERN.match(resource_id):
        raise bad_request("A resource id is 1-64 characters of A-Z, a-z, 0-9, '-' and '.'")


def checked_resource(ctx: Context, body: Any, resource_type: str) -> dict[str, Any]:
    """The request body as a valid R4 resource of ``resource_type`` (400 otherwise)."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a FHIR resource (a JSON object)")
    actual = body.get("resourceType")
    if not isinstance(actual, str):
        raise bad_request("The body has no resourceType", "resourceType")
    if actual != resource_type:
        raise bad_request(f"The body is a {actual}, but the URL names {resource_type}", "resourceType")
    if resource_type == "QuestionnaireResponse":  # a registry form's response gets what the renderer leaves out
        body = prepared_response(ctx, body)
    issues = ctx.server.validator.validate(body)
    errors = [i for i in issues if i.severity in ("error", "fatal")]
    if errors:
        raise FhirError(400, errors)
    errors = [i for i in content_issues(ctx, body, ctx.server.profiles_for(body)) if i.severity in ("error", "fatal")]
    if errors:  # valid R4, but not what a profile or the resource's Questionnaire demands
        raise FhirError(422, errors)
    return body


def content_issues(ctx: Context, body: dict[str, Any], profiles: list[str]) -> list[Issue]:
    """What valid R4 content breaks beyond R4: the ``profiles`` (each known to the server) and, for a
    QuestionnaireResponse, its Questionnaire where the server holds it (one it does not hold is not judged)."""
    issues: list[Issue] = []
    for profile in profiles:
        issues += ctx.server.profile_validator.validate(body, profile)
    canonical = body.get("questionnaire")
    if body.get("resourceType") == "QuestionnaireResponse" and isinstance(canonical, str):
        questionnaire = resolve_questionnaire(canonical, lambda url: find_questionnaires(ctx, url))
        if questionnaire is not None:
            issues += ctx.server.response_validator.validate(body, questionnaire)
    return issues


def find_questionnaires(ctx: Context, url: str) -> list[dict[str, Any]]:
    """The Questionnaires with canonical ``url``: stored ones (found by the search engine), then the conformance
    package's."""
    ctx.store.flush()  # a Questionnaire created earlier in the transaction
    plan = ctx.server.search_plan("Questionnaire", [("url", escape(url))], strict=True)
    rows = ctx.conn.execute(select(resource.c.content).where(*plan.conditions).limit(50)).all()
    found = [row.content for row in rows if isinstance(row.content, dict)]
    packaged = ctx.server.definitions.resource("Questionnaire", url)
    return found + ([packaged] if packaged is not None else [])


def new_id() -> str:
    return str(uuid.uuid4())


def _index(ctx: Context, content: dict[str, Any] | None) -> IndexRows | None:
    return ctx.server.indexer.rows(content) if content else None


def create_resource(
    ctx: Context,
    resource_type: str,
    content: dict[str, Any],
    method: str,
    resource_id: str | None = None,
    *,
    deferred: bool = False,
) -> StoredVersion:
    """Version 1. A client-chosen id (update as create) may clash with a racer: ``IdTaken``.
    POST ids are fresh UUIDs (assigned here or by a transaction), which cannot clash; ``deferred`` leaves the
    write to the store's next ``flush`` (a Bundle's creates, or a worker's, are written together): only for an id
    no racer can take meanwhile (a fresh one, or see ``update._may_queue``)."""
    rid = resource_id or new_id()
    if resource_type == "Subscription":
        content = prepared_subscription(ctx, rid, content)
    stamped = stamp_meta(ctx.ownership.stamp(resource_type, content, None), rid, 1, ctx.now)
    if deferred:
        version = ctx.store.queue_new(resource_type, rid, stamped, ctx.now, method, _index(ctx, stamped))
    else:
        may_exist = method != "POST"
        index = _index(ctx, stamped)
        version = ctx.store.insert_new(resource_type, rid, stamped, ctx.now, method, index, may_exist=may_exist)
    ctx.changes.append(Change(version, None, "create"))
    return version


def update_resource(
    ctx: Context, current: StoredVersion, content: dict[str, Any] | None, method: str
) -> tuple[StoredVersion, bool]:
    """The next version (``content`` None deletes). Returns (version, changed): no new version when nothing
    changed, so repeated identical pushes from an EHR are idempotent. Another unit's resource is not found."""
    ownership = ctx.ownership
    latest = current.content  # the owners are those of the last content, even once deleted
    if current.deleted and (content is not None or not ownership.sees_all):
        _, latest = ctx.store.latest_content(current.resource_type, current.id)
    if not ownership.sees(current.resource_type, latest):
        raise not_found(f"{current.resource_type}/{current.id} is not known")
    if content is not None:
        content = ownership.stamp(current.resource_type, content, latest)
        if current.resource_type == "Subscription":
            content = prepared_subscription(ctx, current.id, content)
    unchanged = (
        current.deleted
        if content is None
        else not current.deleted and without_server_meta(content) == without_server_meta(current.content)
    )
    if unchanged:
        return current, False
    if is_locked_form(current):
        raise FhirError(
            409,
            [Issue("business-rule", "A completed patient questionnaire response cannot be changed or deleted (N20)")],
        )
    now = next_timestamp(ctx.now, current)
    stamped = None if content is None else stamp_meta(content, current.id, current.version_id + 1, now)
    # a deleted resource's matches are known only while its index rows are there
    matched = matches_before_delete(ctx, current) if content is None else None
    version = ctx.store.write_version(current, stamped, now, method, _index(ctx, stamped))
    previous = None if current.deleted else current.content
    action = "delete" if content is None else "create" if current.deleted else "update"
    ctx.changes.append(Change(version, previous, action, matched))
    return version, True


def claim_resource(ctx: Context, current: StoredVersion) -> StoredVersion:
    """``current`` (another unit's Patient, found by national identity number) owned by the caller's unit too:
    a new version with one more owner label. The only write a unit makes to what it could not see."""
    assert current.content is not None
    now = next_timestamp(ctx.now, current)
    content = ctx.ownership.claim(current.content)
    stamped = stamp_meta(content, current.id, current.version_id + 1, now)
    version = ctx.store.write_version(current, stamped, now, "PUT", _index(ctx, stamped))
    ctx.changes.append(Change(version, current.content, "update"))
    return version


_PATIENT_REFERENCE = re.compile(r"(^|/)Patient/[A-Za-z0-9\-.]{1,64}(/_history/[^/]+)?$")


def is_locked_form(version: StoredVersion) -> bool:
    """A completed (or amended) QuestionnaireResponse the patient wrote: nobody changes it; the registry's
    administration erases it only through the patient-rights erasure (R3)."""
    content = version.content
    if version.resource_type != "QuestionnaireResponse" or version.deleted or not isinstance(content, dict):
        return False
    if content.get("status") not in ("completed", "amended"):
        return False
    for key in ("author", "source"):
        reference = content.get(key)
        if isinstance(reference, dict) and _PATIENT_REFERENCE.search(str(reference.get("reference", ""))):
            return True
    return False


def write_with_retries(ctx: Context, attempt: Any) -> Any:
    """Run ``attempt()`` again after a lost race (another writer committed first), a few times at most."""
    for _ in range(WRITE_RETRIES):
        try:
            return attempt()
        except (VersionConflict, IdTaken):
            continue
    raise conflict("The resource was changed by another request at the same time; try again")


def location(ctx: Context, version: StoredVersion) -> str:
    return f"{ctx.base_url}/{version.resource_type}/{version.id}/_history/{version.version_id}"


def prefer_return(req: FhirRequest) -> str:
    prefer = req.header("prefer") or ""
    for part in prefer.split(";"):
        for item in part.split(","):
            key, _, value = item.strip().partition("=")
            if key == "return" and value.strip('"') in ("minimal", "representation", "OperationOutcome"):
                return value.strip('"')
    return "representation"


def written_response(ctx: Context, req: FhirRequest, version: StoredVersion, status: int, message: str) -> FhirResponse:
    headers = version_headers(version)
    headers["Location"] = location(ctx, version)
    body: dict[str, Any] | None
    match prefer_return(req):
        case "minimal":
            body = None
        case "OperationOutcome":
            body = operation_outcome([Issue("informational", message, severity="information")])
        case _:
            body = version.content
    return FhirResponse(status, body, headers)
