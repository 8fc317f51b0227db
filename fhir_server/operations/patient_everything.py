"""``GET Patient/[id]/$everything`` (and ``Patient/$everything`` for a signed-in patient): everything the registry
holds about a patient (patients' right of access, R1) — the resources of the Patient compartment, and the forms sent
to them (Tasks, which R4's compartment leaves out) — as a searchset Bundle, for the portal's "see all my data"
page and its download. ``_type`` narrows the types, ``_since`` to what changed since then; the audit trail is not
part of it. A patient gets their own data only; staff their unit's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from fhir_server.errors import FhirError, Issue, bad_request, not_found
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.rest.bundles import bundle
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.search.dates import parse_date_range
from fhir_server.storage.schema import resource, search_reference

DEFINITION = "http://hl7.org/fhir/OperationDefinition/Patient-everything"
#: Types outside R4's Patient compartment that are nevertheless about the patient, by the parameters that say so.
ALSO = {"Task": ("patient", "owner")}
LIMIT = 10_000


def _also(resource_type: str, patient_id: str) -> Any:
    ref = search_reference.c
    about = select(ref.rid).where(
        ref.resource_type == resource_type,
        ref.param.in_(ALSO[resource_type]),
        ref.target_type == "Patient",
        ref.target_id == patient_id,
    )
    return and_(resource.c.resource_type == resource_type, resource.c.rid.in_(about))


def record_types(ctx: Context) -> list[str]:
    """The types a patient's record is made of: the Patient compartment's (without the audit trail), and Tasks."""
    types = [t for t in ctx.server.compartments.resource_types("Patient") if t != "AuditEvent"]
    return types + [t for t in ALSO if t not in types]


def record_condition(ctx: Context, patient_ids: list[str], types: list[str]) -> Any:
    """The resources of ``types`` in the records of ``patient_ids``."""
    compartments = ctx.server.compartments
    return or_(
        *(
            compartments.condition("Patient", pid, t) if t not in ALSO else _also(t, pid)
            for pid in patient_ids
            for t in types
        )
    )


def _patients(ctx: Context, resource_id: str | None) -> list[str]:
    if ctx.is_patient:
        own = ctx.patient_ids()
        if resource_id is None:
            return own
        if resource_id not in own:
            raise not_found(f"Patient/{resource_id} is not known")
        return [resource_id]
    if resource_id is None:
        raise bad_request("Name the patient: Patient/[id]/$everything (all patients at once is an export)")
    current = ctx.store.current("Patient", resource_id)
    if current is None or current.deleted:
        raise not_found(f"Patient/{resource_id} is not known")
    return [resource_id]


def everything(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str | None = None) -> FhirResponse:
    values = parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)
    if values.get("start") or values.get("end"):
        raise bad_request("start and end (care dates) are not supported; use _since or _type")
    patients = _patients(ctx, resource_id)
    types = [t for t in record_types(ctx) if t not in ctx.hidden_types]
    wanted = {t.strip() for value in req.params("_type") for t in value.split(",") if t.strip()}
    if wanted - set(types):
        raise bad_request(f"_type names types outside a patient's record: {', '.join(sorted(wanted - set(types)))}")
    chosen = [t for t in types if not wanted or t in wanted]
    conditions = [~resource.c.deleted, record_condition(ctx, patients, chosen)]
    since = next(iter(req.params("_since")), None)
    if since:
        conditions.append(resource.c.last_updated >= parse_date_range(since, "_since").low)
    unit = ctx.ownership.any_type_condition()
    if unit is not None:
        conditions.append(unit)
    query = select(resource.c.content).where(*conditions).order_by(resource.c.resource_type, resource.c.id)
    rows = ctx.conn.execute(query.limit(LIMIT + 1)).all()
    if len(rows) > LIMIT:
        raise FhirError(400, [Issue("too-costly", f"More than {LIMIT} resources: narrow with _type or _since")])
    entries = [
        {
            "fullUrl": f"{ctx.base_url}/{row.content['resourceType']}/{row.content['id']}",
            "resource": row.content,
            "search": {"mode": "match"},
        }
        for row in rows
        if isinstance(row.content, dict)
    ]
    links = [("self", f"{ctx.base_url}/{req.path.strip('/')}")]
    return FhirResponse(200, bundle("searchset", entries, links, ctx.now, len(entries)))
