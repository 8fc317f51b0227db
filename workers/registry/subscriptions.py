"""The registry's own Subscriptions: each internal subscriber is a Subscription with a task channel, made (or
brought up to date) by ``ryggrad migrate`` and when a worker starts, so appointments are never missed."""

from __future__ import annotations

from typing import Any

from fhir_server.errors import FhirError
from fhir_server.rest.messages import FhirRequest
from fhir_server.subscriptions.spec import BACKPORT, CHANNEL_TYPE_SYSTEM, TASK_ENDPOINT_PREFIX
from workers.registry import appointments, dispatch, followups, responses
from workers.scoring import worker as scoring

#: (Subscription id, criteria, subscriber, why)
INTERNAL = (
    (
        "registry-appointments",
        "Appointment",
        appointments.NAME,
        "The registry workflow: appointments open episodes and schedule forms (N5, N6, N9-N12)",
    ),
    (
        "registry-dispatch",
        "Task?status=ready",
        dispatch.NAME,
        "The registry workflow: ready forms are sent to the patient (Helsenorge, e-mail)",
    ),
    (
        "registry-dispatch-sync",
        "Task?status=ready,in-progress,completed,cancelled,entered-in-error,failed",
        dispatch.SYNC_NAME,
        "The registry workflow: a form sent to Helsenorge that moves, is cancelled, expires or is answered is "
        "brought in step there",
    ),
    (
        "registry-responses",
        "QuestionnaireResponse?status=completed",
        responses.NAME,
        "The registry workflow: a completed form completes its Task, with start and submit times",
    ),
    (
        "registry-scores",
        "QuestionnaireResponse",
        scoring.NAME,
        "Scores: a completed form's scores stored as Observations derived from it, withdrawn when it is no longer "
        "completed",
    ),
    (
        "registry-episodes",
        "EpisodeOfCare",
        followups.EPISODES,
        "The registry workflow: follow-up forms from the visit date and the episode's start and end (N21, P3, P5)",
    ),
    (
        "registry-procedures",
        "Procedure",
        followups.PROCEDURES,
        "The registry workflow: follow-up forms after RF and SCS procedures (P3)",
    ),
)


def internal_subscription(criteria: str, task: str, reason: str) -> dict[str, Any]:
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": reason,
        "criteria": criteria,
        "channel": {
            "type": "rest-hook",
            "_type": {
                "extension": [
                    {
                        "url": BACKPORT + "backport-channel-type",
                        "valueCoding": {"system": CHANNEL_TYPE_SYSTEM, "code": "task"},
                    }
                ]
            },
            "endpoint": TASK_ENDPOINT_PREFIX + task,
        },
    }


def ensure_subscriptions(server: Any) -> list[str]:
    """Create the internal Subscriptions that are missing or differ; their ids. One that exists as wanted is left
    as it is (its status and delivery state included)."""
    changed = []
    for sid, criteria, task, reason in INTERNAL:
        wanted = internal_subscription(criteria, task, reason)
        have = _current(server, sid)
        if have is not None and have.get("criteria") == criteria and have.get("channel") == wanted["channel"]:
            continue
        server.execute(FhirRequest("PUT", f"Subscription/{sid}", body={**wanted, "id": sid}))
        changed.append(sid)
    return changed


def _current(server: Any, sid: str) -> dict[str, Any] | None:
    try:
        response = server.execute(FhirRequest("GET", f"Subscription/{sid}"))
    except FhirError:  # not there, or deleted
        return None
    return response.resource
