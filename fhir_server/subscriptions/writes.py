"""A client's Subscription write, checked and normalised before it is stored.

- The server decides when a Subscription is ``active`` or in ``error``: a client asks with ``requested`` (or sends
  one of the server's statuses back, which asks again) or switches it ``off``. Asking again resets the retries, so
  a fixed endpoint is tried at once and catches up.
- The signing secret (``subscription-signing-secret`` on the channel) is kept apart, never in the resource.
- The criteria and filters must be searches the engine runs, on types the caller may search, within what the
  caller's unit may see (the Subscription belongs to that unit: its owner label).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from fhir_server.auth.ownership import owners
from fhir_server.auth.roles import role_allows
from fhir_server.errors import FhirError, Issue
from fhir_server.subscriptions.spec import SECRET_EXTENSION, Search, SubscriptionSpec, invalid, parse_spec

if TYPE_CHECKING:
    from fhir_server.rest.context import Context

CLIENT_STATUSES = {"requested": "requested", "active": "requested", "error": "requested", "off": "off"}


def _forbidden(message: str) -> FhirError:
    return FhirError(403, [Issue("forbidden", f"Access denied: {message}")])


def prepared_subscription(ctx: Context, resource_id: str, content: dict[str, Any]) -> dict[str, Any]:
    """``content`` as stored: status normalised, secret taken out (into ``ctx.subscription_secrets``); 422 when
    it could never be served, 403 when the caller may not subscribe to what it names."""
    if ctx.subscription_status_write:
        return content
    if ctx.is_patient:
        raise _forbidden("patients do not subscribe")
    content = copy.deepcopy(content)
    channel = content.get("channel")
    if isinstance(channel, dict) and isinstance(channel.get("extension"), list):
        secrets = [e for e in channel["extension"] if isinstance(e, dict) and e.get("url") == SECRET_EXTENSION]
        if secrets:
            secret = secrets[0].get("valueString")
            if not isinstance(secret, str) or len(secret) < 16:
                raise invalid("The signing secret is a string of at least 16 characters", "Subscription.channel")
            ctx.subscription_secrets[resource_id] = secret
            channel["extension"] = [e for e in channel["extension"] if e not in secrets]
            if not channel["extension"]:
                del channel["extension"]
    status = CLIENT_STATUSES.get(str(content.get("status")))
    if status is None:
        raise invalid("Subscription.status is requested or off", "Subscription.status")
    content["status"] = status
    content.pop("error", None)
    if len(owners(content)) > 1:
        raise invalid("A Subscription belongs to one unit (one owner label)", "Subscription.meta.security")
    spec = parse_spec(resource_id, 0, content, ctx.server.topics)
    _check_access(ctx, spec)
    return content


def _searches(ctx: Context, spec: SubscriptionSpec) -> list[Search]:
    if spec.criteria is not None:
        return [spec.criteria]
    topic = ctx.server.topics.get(spec.topic or "")
    types = sorted(topic.resource_types) if topic else []
    return [*spec.filters, *(Search(t, ()) for t in types if not any(f.resource_type == t for f in spec.filters))]


def _check_access(ctx: Context, spec: SubscriptionSpec) -> None:
    principal = ctx.principal
    if spec.channel == "task" and principal is not None and principal.role != "registry-admin":
        raise _forbidden("task channels are the server's own subscribers")
    for search in _searches(ctx, spec):
        if search.resource_type not in ctx.server.resource_types:
            raise invalid(f"'{search.resource_type}' is not a resource type", "Subscription.criteria")
        if principal is not None and not (
            principal.permissions.allows(search.resource_type, "s")
            and role_allows(principal.role, search.resource_type, "s")
        ):
            raise _forbidden(f"the caller may not search {search.resource_type}, so cannot subscribe to it")
        try:
            ctx.server.search_plan(search.resource_type, list(search.params), strict=True, ownership=ctx.ownership)
        except FhirError as error:
            detail = error.issues[0].diagnostics if error.issues else "not a valid search"
            raise invalid(f"Criteria '{search.resource_type}?…': {detail}", "Subscription.criteria") from None
