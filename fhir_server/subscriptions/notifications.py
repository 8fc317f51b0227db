"""What is sent: events as read from the outbox, and the backport's notification Bundle (a ``history`` Bundle
whose first entry is the SubscriptionStatus, R4 form: a Parameters resource)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir_server.rest.versioning import instant
from fhir_server.subscriptions.spec import BACKPORT, SubscriptionSpec

NOTIFICATION_PROFILE = BACKPORT + "backport-subscription-notification-r4"
STATUS_PROFILE = BACKPORT + "backport-subscription-status-r4"


@dataclass(frozen=True)
class Event:
    subscription_id: str
    number: int
    event_id: str
    resource_type: str
    resource_id: str
    version_id: int
    action: str  # create | update | delete
    recorded: datetime
    content: dict[str, Any] | None = None  # the version's content, when the channel sends it

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.resource_id}"

    def as_task_payload(self, topic: str | None) -> dict[str, Any]:
        """What an internal subscriber (task channel) gets."""
        return {
            "subscription": self.subscription_id,
            "topic": topic,
            "event_id": self.event_id,
            "number": self.number,
            "resource_type": self.resource_type,
            "id": self.resource_id,
            "version_id": self.version_id,
            "action": self.action,
            "recorded": instant(self.recorded),
            "resource": self.content,
        }


def status_parameters(
    spec: SubscriptionSpec,
    base_url: str,
    kind: str,
    events_since_start: int,
    events: list[Event] = (),  # type: ignore[assignment]
    status: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The SubscriptionStatus (R4: Parameters) of a notification: ``kind`` handshake | heartbeat |
    event-notification | query-status | query-event."""
    parameters: list[dict[str, Any]] = [
        {"name": "subscription", "valueReference": {"reference": f"{base_url}/Subscription/{spec.id}"}},
    ]
    if spec.topic:
        parameters.append({"name": "topic", "valueCanonical": spec.topic})
    parameters += [
        {"name": "status", "valueCode": status or spec.status},
        {"name": "type", "valueCode": kind},
        {"name": "events-since-subscription-start", "valueString": str(events_since_start)},
    ]
    for event in events:
        part: list[dict[str, Any]] = [
            {"name": "event-number", "valueString": str(event.number)},
            {"name": "timestamp", "valueInstant": instant(event.recorded)},
        ]
        if spec.content != "empty":
            part.append({"name": "focus", "valueReference": {"reference": f"{base_url}/{event.reference}"}})
        parameters.append({"name": "notification-event", "part": part})
    if error:
        parameters.append({"name": "error", "valueCodeableConcept": {"text": error}})
    return {
        "resourceType": "Parameters",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [STATUS_PROFILE]},
        "parameter": parameters,
    }


_RESPONSE = {"create": "201", "update": "200", "delete": "204"}
_METHOD = {"create": "POST", "update": "PUT", "delete": "DELETE"}


def notification_bundle(
    spec: SubscriptionSpec,
    base_url: str,
    kind: str,
    events_since_start: int,
    events: list[Event],
    now: datetime,
    status: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """A notification Bundle: the status first, then, unless the payload is ``empty``, one entry per event (its
    resource too when ``full-resource``)."""
    status_resource = status_parameters(spec, base_url, kind, events_since_start, events, status, error)
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"urn:uuid:{status_resource['id']}",
            "resource": status_resource,
            "request": {"method": "GET", "url": f"{base_url}/Subscription/{spec.id}/$status"},
            "response": {"status": "200"},
        }
    ]
    if spec.content != "empty":
        for event in events:
            entry: dict[str, Any] = {"fullUrl": f"{base_url}/{event.reference}"}
            if spec.content == "full-resource" and event.content is not None:
                entry["resource"] = event.content
            entry["request"] = {
                "method": _METHOD[event.action],
                "url": event.resource_type if event.action == "create" else event.reference,
            }
            entry["response"] = {"status": _RESPONSE[event.action]}
            entries.append(entry)
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [NOTIFICATION_PROFILE]},
        "type": "history",
        "timestamp": instant(now),
        "entry": entries,
    }
