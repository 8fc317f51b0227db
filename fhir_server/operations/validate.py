"""``$validate`` (the core OperationDefinition Resource-validate): would this resource be accepted?

``POST [type]/$validate`` with a Parameters body (``resource``, ``mode``, ``profile``) or the resource itself;
``POST|GET [type]/[id]/$validate`` for an update of that resource (or, with no resource given, the stored one),
and ``mode=delete`` to ask whether it may be deleted. Always 200 with an OperationOutcome listing every issue —
the same checks a write makes (R4 structure, the claimed, enforced or given profile, a response's
Questionnaire) — or one informational issue when there are none. Nothing is written.
"""

from __future__ import annotations

from typing import Any

from fhir_server.errors import Issue, bad_request, not_found, operation_outcome
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.resources import content_issues, is_locked_form

DEFINITION = "http://hl7.org/fhir/OperationDefinition/Resource-validate"
MODES = ("create", "update", "delete", "profile")


def _one(values: dict[str, list[Any]], name: str) -> Any:
    found = values.get(name)
    return found[0] if found else None


def validate(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str | None = None) -> FhirResponse:
    definition = operation_definition(ctx.server.definitions, DEFINITION)
    values = parse(definition, req.body, req.query, resource_body_param="resource")
    mode = _one(values, "mode") or ("update" if resource_id else "create")
    if mode not in MODES:
        raise bad_request(f"$validate: mode must be one of {', '.join(MODES)}", "mode")
    current = ctx.store.current(resource_type, resource_id) if resource_id else None
    if (
        resource_id
        and (current is None or current.deleted)
        and mode in ("delete", "update")
        and not values.get("resource")
    ):
        raise not_found(f"{resource_type}/{resource_id} is not known")
    if mode == "delete":
        issues = _delete_issues(current, resource_type, resource_id)
    else:
        candidate = _one(values, "resource")
        if candidate is None and current is not None and not current.deleted:
            candidate = current.content
        if candidate is None:
            raise bad_request("$validate needs a resource (the 'resource' parameter, or the body itself)", "resource")
        issues = _content_issues(ctx, candidate, resource_type, resource_id, mode, _one(values, "profile"))
    if not issues:
        issues = [Issue("informational", "No issues found", "information")]
    return FhirResponse(200, operation_outcome(issues))


def _delete_issues(current: Any, resource_type: str, resource_id: str | None) -> list[Issue]:
    if resource_id is None:
        raise bad_request("$validate with mode=delete names the resource: [type]/[id]/$validate", "mode")
    if current is not None and is_locked_form(current):
        return [Issue("business-rule", "A completed patient questionnaire response cannot be deleted (N20)")]
    return []


def _content_issues(
    ctx: Context, candidate: Any, resource_type: str, resource_id: str | None, mode: str, profile: str | None
) -> list[Issue]:
    if not isinstance(candidate, dict) or candidate.get("resourceType") != resource_type:
        return [Issue("invalid", f"The resource to validate must be a {resource_type}", "error", ("resourceType",))]
    if mode == "update" and resource_id is not None and candidate.get("id") != resource_id:
        return [Issue("invalid", "The resource's id must equal the id in the URL", "error", ("id",))]
    issues = ctx.server.validator.validate(candidate)
    if any(i.severity in ("error", "fatal") for i in issues):
        return issues
    if profile is not None:
        if not ctx.server.profile_validator.knows(profile):
            return [*issues, Issue("not-supported", f"The profile {profile} is not known to this server", "error")]
        profiles = [profile]
    else:
        profiles = ctx.server.profiles_for(candidate)
    return issues + content_issues(ctx, candidate, profiles)
