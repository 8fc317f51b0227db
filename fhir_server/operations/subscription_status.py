"""``GET Subscription/[id]/$status``: the Subscription as the server sees it — status, events so far, the last
delivery error — as a searchset Bundle holding one SubscriptionStatus (the R5 Subscriptions Backport's $status)."""

from __future__ import annotations

from sqlalchemy import select

from fhir_server.errors import not_found
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.rest.bundles import bundle
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.storage.schema import subscription_state
from fhir_server.subscriptions.notifications import status_parameters
from fhir_server.subscriptions.spec import SubscriptionSpec

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/subscription-status"


def subscription_and_state(ctx: Context, resource_id: str) -> tuple[SubscriptionSpec, object]:
    spec = ctx.server.active_subscriptions.spec(ctx.conn, resource_id)
    state = ctx.conn.execute(select(subscription_state).where(subscription_state.c.id == resource_id)).first()
    if spec is None or state is None:
        raise not_found(f"Subscription/{resource_id} is not known")
    return spec, state


def status(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str) -> FhirResponse:
    parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)
    spec, state = subscription_and_state(ctx, resource_id)
    error = state.last_error if state.status == "error" or state.attempts else None  # type: ignore[attr-defined]
    parameters = status_parameters(
        spec,
        ctx.base_url,
        "query-status",
        state.events_since_start,
        [],
        state.status,
        error,  # type: ignore[attr-defined]
    )
    entry = {"fullUrl": f"urn:uuid:{parameters['id']}", "resource": parameters, "search": {"mode": "match"}}
    return FhirResponse(200, {**bundle("searchset", [entry], [], ctx.now), "total": 1})
