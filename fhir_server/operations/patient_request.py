"""A patient's request to the registry (patients' rights): a Task for the staff who hold the patient's data — the
units that own their Patient resource and episodes — with what the patient wrote, the resources it is about and
the right it invokes. Shared by ``$request-correction`` (R2) and ``$request-erasure`` (R3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fhir_server.auth.ownership import owners, with_owners
from fhir_server.errors import FhirError, Issue, bad_request, not_found
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.resources import create_resource
from fhir_server.rest.versioning import instant
from fhir_server.storage.schema import resource

REQUEST_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/patient-request"
MAX_TEXT = 4000


def _patient(ctx: Context, resource_id: str | None) -> str:
    """The patient the request is from: a patient their own (only), staff on a patient's behalf by id."""
    if ctx.is_patient:
        own = ctx.patient_ids()
        if resource_id is None and len(own) == 1:
            return own[0]
        if resource_id is None or resource_id not in own:
            raise (
                not_found(f"Patient/{resource_id} is not known")
                if resource_id
                else bad_request("Name the patient: Patient/[id]/$request-…")
            )
        return resource_id
    if resource_id is None:
        raise bad_request("Name the patient: Patient/[id]/$request-…")
    return resource_id


def _holders(ctx: Context, patient_id: str) -> set[str]:
    """The units holding the patient's data: owners of the Patient resource and of their episodes."""
    ctx.store.flush()
    plan = ctx.server.search_plan("EpisodeOfCare", [("patient", f"Patient/{patient_id}")], strict=True)
    rows = ctx.conn.execute(select(resource.c.content).where(*plan.conditions).limit(1000))
    found = set().union(*(owners(row.content) for row in rows)) if rows else set()
    current = ctx.store.current("Patient", patient_id)
    return found | owners(current.content if current is not None else None)


def request(ctx: Context, req: FhirRequest, definition: str, kind: str, resource_id: str | None) -> FhirResponse:
    values = parse(operation_definition(ctx.server.definitions, definition), req.body, req.query)
    patient_id = _patient(ctx, resource_id)
    current = ctx.store.current("Patient", patient_id)
    if current is None or current.deleted:
        raise not_found(f"Patient/{patient_id} is not known")
    text = str((values.get("text") or [""])[0]).strip()
    if not text and kind == "correction":
        raise bad_request("Say what is wrong and what it should be (text)", "text")
    if len(text) > MAX_TEXT:
        raise bad_request(f"The text is longer than {MAX_TEXT} characters", "text")
    about: list[dict[str, Any]] = []
    for reference in values.get("about") or []:
        target = str(reference.get("reference") or "") if isinstance(reference, dict) else str(reference)
        if target.count("/") != 1:
            raise bad_request("about is a reference to a resource of the patient's record (Type/id)", "about")
        about.append({"reference": target})
    patient = {"reference": f"Patient/{patient_id}"}
    task: dict[str, Any] = {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "priority": "routine",
        "code": {"coding": [{"system": REQUEST_SYSTEM, "code": kind}]},
        "description": text or None,
        "for": patient,
        "requester": patient,
        "authoredOn": instant(ctx.now),
        **({"focus": about[0]} if about else {}),
        "input": [{"type": {"text": "about"}, "valueReference": ref} for ref in about],
    }
    task = {k: v for k, v in task.items() if v not in (None, [])}
    holders = _holders(ctx, patient_id)
    if not holders and kind == "correction":
        raise FhirError(409, [Issue("business-rule", "No unit holds registry data about the patient to correct")])
    version = create_resource(ctx, "Task", with_owners(task, holders), "POST")
    return FhirResponse(201, version.content, {"Location": f"{ctx.base_url}/Task/{version.id}"})
