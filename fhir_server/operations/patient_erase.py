"""``POST Patient/[id]/$erase``: the registry administration erases a patient's registry data (R3: consent
withdrawn, or a deletion request) — the whole record, every unit's, history and search index included
(``fhir_server/storage/erasure.py``). What is left is the audit record that an erasure happened: who, when, why and
how many resources, written in the same transaction. Only the registry administration may erase."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Text, cast, select

from fhir_server.errors import FhirError, Issue, bad_request, not_found, operation_outcome
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.operations.patient_everything import record_condition, record_types
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.versioning import instant
from fhir_server.storage.erasure import erase
from fhir_server.storage.schema import resource, resource_history

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/patient-erase"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"


def _audit(ctx: Context, patient_id: str, reason: str, count: int) -> dict[str, Any]:
    who = ctx.principal.client_id if ctx.principal is not None else "ryggrad"
    return {
        "resourceType": "AuditEvent",
        "id": str(uuid.uuid4()),
        "type": {"system": DICOM, "code": "110110", "display": "Patient Record"},
        "subtype": [{"system": "https://ryggrad.no/fhir/CodeSystem/audit-subtype", "code": "erasure"}],
        "action": "D",
        "recorded": instant(ctx.now),
        "outcome": "0",
        "outcomeDesc": f"Erased the registry record of Patient/{patient_id}: {count} resources ({reason})"[:500],
        "agent": [{"requestor": True, "who": {"display": str(who)}}],
        "source": {"observer": {"display": "Ryggrad FHIR server"}},
        "entity": [{"what": {"reference": f"Patient/{patient_id}"}, "description": "erased"}],
    }


def _record(ctx: Context, patient_id: str) -> list[tuple[str, str]]:
    """(type, id) of everything in the patient's record: what is in it now (by the search index), and what was in it
    once — a resource deleted since, whose index rows are gone but whose history still names the patient."""
    ctx.store.flush()
    types = record_types(ctx)
    now_in = select(resource.c.resource_type, resource.c.id).where(record_condition(ctx, [patient_id], types))
    h = resource_history.c
    mentioned = f'%"Patient/{patient_id}"%'  # ids are [A-Za-z0-9.-]: nothing in them is a LIKE wildcard
    once_in = (
        select(h.resource_type, h.id)
        .where(h.resource_type.in_(types), cast(h.content, Text).like(mentioned))
        .distinct()
    )
    keys = {(row.resource_type, row.id) for query in (now_in, once_in) for row in ctx.conn.execute(query)}
    return sorted(keys | {("Patient", patient_id)})


def patient_erase(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str) -> FhirResponse:
    values = parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)
    if ctx.principal is not None and ctx.principal.role != "registry-admin":
        raise FhirError(403, [Issue("forbidden", "Access denied: only the registry administration erases records")])
    reason = str(values["reason"][0]).strip()
    if not reason:
        raise bad_request("Say why the record is erased (reason)", "reason")
    current = ctx.store.current("Patient", resource_id)
    if current is None or current.deleted:
        raise not_found(f"Patient/{resource_id} is not known")
    count = erase(ctx.conn, _record(ctx, resource_id))
    ctx.server.audit.write_now(ctx.conn, [_audit(ctx, resource_id, reason, count)], ctx.now)
    message = f"Erased Patient/{resource_id} and {count - 1} resources of their record"
    return FhirResponse(200, operation_outcome([Issue("informational", message, "information")]))
