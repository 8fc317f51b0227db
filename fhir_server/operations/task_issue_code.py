"""``POST Task/[id]/$issue-code``: the form is filled in at the clinic (registry rule N8). Staff get a one-time code
for a clinic tablet; the form is available now and is not sent to the patient (a Communication through the
``on-site`` channel records the hand-over, and the dispatch channels skip a Task that has one). The code itself is
in the answer only; a new code voids the Task's earlier unredeemed ones. A form already answered, cancelled or not
a registry form is a 409."""

from __future__ import annotations

import copy
from typing import Any

from fhir_server.auth.ownership import owners, with_owners
from fhir_server.errors import FhirError, Issue, not_found
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.resources import create_resource, update_resource, write_with_retries
from fhir_server.rest.versioning import instant

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/task-issue-code"
TIMEPOINT_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry-timepoint"
CHANNEL_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/dispatch-channel"
KIND_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/dispatch-kind"
MODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
ON_SITE = "on-site"
WAITING = frozenset({"draft", "requested", "received", "accepted"})
OPEN = WAITING | {"ready", "in-progress"}


def _is_registry_form(task: dict[str, Any]) -> bool:
    return any(c.get("system") == TIMEPOINT_SYSTEM for c in (task.get("code") or {}).get("coding") or [])


def _checked(task: dict[str, Any]) -> str:
    """The Task's patient id, once the Task is a registry form still open."""
    if not _is_registry_form(task):
        raise FhirError(409, [Issue("business-rule", "Only a registry form can be filled in on a clinic tablet")])
    if task.get("status") not in OPEN:
        status = task.get("status")
        raise FhirError(409, [Issue("business-rule", f"The form is {status}: there is nothing left to fill in")])
    patient = str((task.get("for") or {}).get("reference") or "")
    if not patient.startswith("Patient/"):
        raise FhirError(409, [Issue("business-rule", "The form is for no patient of this server")])
    return patient.split("/", 1)[1]


def _hand_over(ctx: Context, task_id: str, task: dict[str, Any]) -> dict[str, Any]:
    """The record that the form was handed over at the clinic instead of being sent."""
    return with_owners(
        {
            "resourceType": "Communication",
            "status": "completed",
            "basedOn": [{"reference": f"Task/{task_id}"}],
            "category": [
                {"coding": [{"system": CHANNEL_SYSTEM, "code": ON_SITE}]},
                {"coding": [{"system": KIND_SYSTEM, "code": "form"}]},
            ],
            "medium": [{"coding": [{"system": MODE_SYSTEM, "code": "WRITTEN"}]}],
            "subject": task.get("for"),
            "recipient": [task.get("for")],
            "sent": instant(ctx.now),
        },
        owners(task),
    )


def issue_code(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str) -> FhirResponse:
    parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)

    def attempt() -> FhirResponse:
        current = ctx.store.current("Task", resource_id)
        if current is None or current.deleted or current.content is None:
            raise not_found(f"Task/{resource_id} is not known")
        patient_id = _checked(current.content)
        if current.content.get("status") in WAITING:
            content = copy.deepcopy(current.content)
            content["status"] = "ready"
            restriction = content.get("restriction") or {}
            content["restriction"] = {
                **restriction,
                "period": {**(restriction.get("period") or {}), "start": instant(ctx.now)},
            }
            update_resource(ctx, current, content, "PUT")
        create_resource(ctx, "Communication", _hand_over(ctx, resource_id, current.content), "POST")
        issued = ctx.server.one_time_codes.issue(ctx.conn, resource_id, patient_id, ctx.now)
        parameters = [
            {"name": "code", "valueString": issued.code},
            {"name": "expires", "valueInstant": instant(issued.expires)},
            {"name": "task", "valueReference": {"reference": f"Task/{resource_id}"}},
        ]
        return FhirResponse(200, {"resourceType": "Parameters", "parameter": parameters})

    return write_with_retries(ctx, attempt)
