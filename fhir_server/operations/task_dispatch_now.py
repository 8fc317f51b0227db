"""``POST Task/[id]/$dispatch-now``: send a waiting form now (registry rule N7). The Task becomes available now and
``ready``, which the dispatch subscriber hears of at once; one already sent, done or cancelled is a 409."""

from __future__ import annotations

import copy

from fhir_server.auth.roles import role_allows
from fhir_server.errors import FhirError, Issue, not_found
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.resources import update_resource, write_with_retries
from fhir_server.rest.versioning import instant, version_headers

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/task-dispatch-now"
WAITING = frozenset({"draft", "requested", "received", "accepted"})


def dispatch_now(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str) -> FhirResponse:
    parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)
    principal = ctx.principal
    if principal is not None and not (
        principal.permissions.allows("Task", "u") and role_allows(principal.role, "Task", "u")
    ):
        raise FhirError(403, [Issue("forbidden", "Access denied: sending a form now changes the Task")])

    def attempt() -> FhirResponse:
        current = ctx.store.current("Task", resource_id)
        if current is None or current.deleted or current.content is None:
            raise not_found(f"Task/{resource_id} is not known")
        if current.content.get("status") not in WAITING:
            status = current.content.get("status")
            raise FhirError(409, [Issue("business-rule", f"The Task is {status}: only a waiting form can be sent now")])
        content = copy.deepcopy(current.content)
        content["status"] = "ready"
        period = dict((content.get("restriction") or {}).get("period") or {})
        period["start"] = instant(ctx.now)
        content["restriction"] = {**(content.get("restriction") or {}), "period": period}
        version, _ = update_resource(ctx, current, content, "PUT")
        return FhirResponse(200, version.content, version_headers(version))

    return write_with_retries(ctx, attempt)
