"""Completion: a completed QuestionnaireResponse for a registry Task completes the Task, names the response in its
output, and records when the patient started and submitted the form (``executionPeriod``), which the
time-to-complete statistic (OPR T14) needs.

The response names its Task in ``basedOn`` (the portal sets it). Started: the ``started`` extension when the
portal sends one, else when the response was first saved (a draft); submitted: ``authored``, else when it was
completed. A clinic tablet's session for the Task (a one-time code, N8) ends with it.
"""

from __future__ import annotations

import copy
from typing import Any

from fhir_server.rest.context import Context
from fhir_server.rest.versioning import instant
from fhir_server.subscriptions.channels.task import exactly_once, subscriber
from workers.registry.channels.helsenorge import answered_there
from workers.registry.records import first_extension_value, referenced_ids, update

NAME = "ryggrad.registry.response"
STARTED = "https://ryggrad.no/fhir/StructureDefinition/started"
OPEN = frozenset({"requested", "ready", "received", "accepted", "in-progress"})


@subscriber(NAME)
def on_completed_response(server: Any, payload: dict[str, Any]) -> None:
    with exactly_once(server, payload) as ctx:
        if ctx is not None:
            complete_tasks(ctx, payload["id"])


def _started(ctx: Context, response_id: str, response: dict[str, Any]) -> str | None:
    started = first_extension_value(response, STARTED, "valueDateTime")
    if isinstance(started, str):
        return started
    first = ctx.store.version("QuestionnaireResponse", response_id, 1)
    return instant(first.last_updated) if first is not None else None


def complete_tasks(ctx: Context, response_id: str) -> list[str]:
    """Complete the open Tasks the (completed) response is based on; their ids."""
    current = ctx.store.current("QuestionnaireResponse", response_id)
    response = current.content if current is not None and not current.deleted else None
    if response is None or response.get("status") != "completed":
        return []
    assert current is not None
    submitted = response.get("authored") or instant(current.last_updated)
    started = _started(ctx, response_id, response)
    completed = []
    for task_id in referenced_ids(response.get("basedOn") or [], "Task"):
        task = ctx.store.current("Task", task_id)
        if task is None or task.deleted or (task.content or {}).get("status") not in OPEN:
            continue
        content = copy.deepcopy(task.content or {})
        content["status"] = "completed"
        if answered_there(content):  # the response Helsenorge announced (the readback) has arrived
            content.pop("businessStatus")
        content["executionPeriod"] = {"start": started or submitted, "end": submitted}
        content["output"] = [
            {
                "type": {"coding": [{"system": "http://hl7.org/fhir/resource-types", "code": "QuestionnaireResponse"}]},
                "valueReference": {"reference": f"QuestionnaireResponse/{response_id}"},
            }
        ]
        update(ctx, task, content)
        ctx.server.one_time_codes.end_sessions(ctx.conn, task.id, ctx.now)  # a clinic tablet's work is done
        completed.append(task.id)
    return completed
