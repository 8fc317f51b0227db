"""An internal subscriber for tests (a task channel): records each event it gets as a Basic resource whose
identifier is the event id, with exactly-once effect. ``RYGGRAD_TEST_SUBSCRIBER_DELAY_S`` makes it slow (for
killing a worker in the middle)."""

from __future__ import annotations

import os
import time
from typing import Any

from fhir_server.rest.resources import create_resource
from fhir_server.subscriptions.channels.task import exactly_once, subscriber

NAME = "ryggrad.test.record"
SYSTEM = "urn:ryggrad:test:event"


@subscriber(NAME)
def record_event(server: Any, payload: dict[str, Any]) -> None:
    delay = float(os.environ.get("RYGGRAD_TEST_SUBSCRIBER_DELAY_S", "0") or 0)
    with exactly_once(server, payload) as ctx:
        if ctx is None:
            return
        if delay:
            time.sleep(delay)  # the effect is under way, not committed: a kill now must leave nothing behind
        basic = {
            "resourceType": "Basic",
            "identifier": [{"system": SYSTEM, "value": payload["event_id"]}],
            "code": {"text": f"{payload['action']} {payload['resource_type']}/{payload['id']} #{payload['number']}"},
        }
        create_resource(ctx, "Basic", basic, "POST")
