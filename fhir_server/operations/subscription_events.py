"""``GET Subscription/[id]/$events``: replay a Subscription's events by number (``eventsSinceNumber``,
``eventsUntilNumber``, ``content``) as a notification Bundle of type query-event — how a subscriber catches up."""

from __future__ import annotations

import dataclasses

from fhir_server.errors import bad_request
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.operations.subscription_status import subscription_and_state
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.subscriptions.delivery import read_events
from fhir_server.subscriptions.notifications import notification_bundle
from fhir_server.subscriptions.spec import CONTENTS

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/subscription-events"


def _number(values: dict, name: str) -> int | None:
    found = values.get(name)
    if not found:
        return None
    try:
        number = int(str(found[0]))
    except ValueError:
        raise bad_request(f"$events: {name} is an event number", name) from None
    if number < 0:
        raise bad_request(f"$events: {name} is an event number", name)
    return number


def events(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str) -> FhirResponse:
    values = parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)
    spec, state = subscription_and_state(ctx, resource_id)
    since = _number(values, "eventsSinceNumber") or 1
    until = _number(values, "eventsUntilNumber")
    content = (values.get("content") or [spec.content or "id-only"])[0]
    if content not in CONTENTS:
        raise bad_request(f"$events: content is one of {', '.join(CONTENTS)}", "content")
    shaped = dataclasses.replace(spec, content=content)
    limit = ctx.server.settings.max_page_size
    found = read_events(ctx.server, shaped, since - 1, until, limit, content == "full-resource")
    body = notification_bundle(
        shaped,
        ctx.base_url,
        "query-event",
        state.events_since_start,
        found,
        ctx.now,
        status=state.status,  # type: ignore[attr-defined]
    )
    return FhirResponse(200, body)
