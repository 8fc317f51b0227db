"""A registry form as a PromTask: what it is (the registry, the episode, the form's kind and action, its
Questionnaire), for whom, and from when to when it can be answered. A form that fell due but is excluded is the same
Task, ``cancelled`` with the exclusion as its reason, so response rates can leave it out."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from fhir_server.rest.context import Context
from fhir_server.rest.versioning import instant
from fhir_server.storage.store import StoredVersion
from workers.registry.definitions import REGISTRY_EXTENSION, REGISTRY_SYSTEM, TIMEPOINT_SYSTEM, FormAction
from workers.registry.records import EPISODE, EXCLUSION_SYSTEM, create, find, new_guid, update

SD = "https://ryggrad.no/fhir/StructureDefinition/"
TASK_PROFILE = SD + "prom-task"
SERVICE_AREA = {"system": "urn:oid:2.16.578.1.12.4.1.1.7618", "code": "3"}  # tjenesteområde
GUID_SYSTEM = "urn:ietf:rfc:3986"
FORM_KEY = "https://ryggrad.no/fhir/sid/registry-form"  # <episode>/<action>[/<anchor>][/<n>]: one Task per key
REMINDER_AT = SD + "reminder-at"


def open_period(due: datetime, expiry: timedelta, open_until: datetime | None = None) -> dict[str, Any]:
    """A form's ``Task.restriction``: sent at ``due``, open for ``expiry`` and at least until ``open_until``."""
    return {"period": {"start": instant(due), "end": instant(max(due + expiry, open_until or due))}}


def form_task(
    ctx: Context,
    *,
    registry: str,
    episode_id: str,
    action: FormAction,
    patient: str,
    due: datetime,
    expiry: timedelta,
    units: set[str],
    key: str | None = None,
    based_on: str | None = None,
    excluded: tuple[str, str] | None = None,
    reminder_at: datetime | None = None,
    open_until: datetime | None = None,
) -> StoredVersion:
    """Create the Task for ``action``, open for ``expiry`` after it is due (and at least until ``open_until``: a
    form before a consultation stays open until the consultation); ``excluded`` (code, text): recorded as not
    sent, and why."""
    identifiers = [{"system": GUID_SYSTEM, "value": new_guid()}]
    if key:
        identifiers.append({"system": FORM_KEY, "value": key})
    task: dict[str, Any] = {
        "resourceType": "Task",
        "meta": {"profile": [TASK_PROFILE], "security": [SERVICE_AREA]},
        "extension": [
            {"url": REGISTRY_EXTENSION, "valueCoding": {"system": REGISTRY_SYSTEM, "code": registry}},
            {"url": EPISODE, "valueReference": {"reference": f"EpisodeOfCare/{episode_id}"}},
        ],
        "identifier": identifiers,
        "status": "requested",
        "intent": "order",
        "priority": "routine",
        "code": {"coding": [{"system": TIMEPOINT_SYSTEM, "code": action.kind}], "text": action.id},
        "description": action.title,
        "focus": {"reference": action.questionnaire.split("|", 1)[0]},
        "for": {"reference": patient},
        "owner": {"reference": patient},
        "authoredOn": instant(ctx.server.clock()),
        "restriction": open_period(due, expiry, open_until),
    }
    if based_on:
        task["basedOn"] = [{"reference": based_on}]
    if reminder_at is not None:
        task["extension"].append({"url": REMINDER_AT, "valueDateTime": instant(reminder_at)})
    if excluded is not None:
        task.update(excluded_fields(*excluded))
    return create(ctx, "Task", task, units)


def clinician_draft(
    ctx: Context, *, registry: str, episode_id: str, action: FormAction, patient: str, units: set[str]
) -> StoredVersion:
    """N5: the episode's clinician form, as a draft nobody has started yet (the clinician fills it in and
    finalises it; the unfinished-forms list shows it once the consultation has passed)."""
    draft: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "meta": {"profile": [SD + "registry-questionnaire-response"]},
        "extension": [
            {"url": REGISTRY_EXTENSION, "valueCoding": {"system": REGISTRY_SYSTEM, "code": registry}},
            {"url": EPISODE, "valueReference": {"reference": f"EpisodeOfCare/{episode_id}"}},
        ],
        "questionnaire": action.questionnaire,
        "status": "in-progress",
        "subject": {"reference": patient},
    }
    return create(ctx, "QuestionnaireResponse", draft, units)


CLOSED = frozenset({"cancelled", "completed", "entered-in-error", "failed"})


def withdraw_episode_forms(ctx: Context, episode_id: str, reason: str) -> None:
    """An episode deleted (N11, N12, N19): its open forms ``cancelled`` with the reason (sent ones too: nothing of
    it is to be answered or counted), its clinician form's draft ``entered-in-error``."""
    for task in find(ctx, "Task", [("episode", f"EpisodeOfCare/{episode_id}")], limit=1000):
        content = task.content or {}
        if content.get("status") not in CLOSED:
            update(ctx, task, {**copy.deepcopy(content), "status": "cancelled", "statusReason": {"text": reason}})
    for draft in find(ctx, "QuestionnaireResponse", [("episode", f"EpisodeOfCare/{episode_id}")], limit=1000):
        if (draft.content or {}).get("status") == "in-progress":
            update(ctx, draft, {**copy.deepcopy(draft.content or {}), "status": "entered-in-error"})


def excluded_fields(code: str, text: str) -> dict[str, Any]:
    """A form recorded as due but not sent, and why (response rates leave it out)."""
    return {
        "status": "cancelled",
        "statusReason": {"coding": [{"system": EXCLUSION_SYSTEM, "code": code}], "text": text},
        "businessStatus": {"text": "excluded"},
    }
