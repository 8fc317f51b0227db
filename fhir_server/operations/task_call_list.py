"""``GET Task/$call-list``: the office's call list (registry rule P1). The unit's baseline forms that went out and
are still unanswered, for consultations still ahead, soonest first — with each form's patient (whom to phone), its
appointment, and the reminders sent. Found through the search engine with the caller's own restrictions, so staff
see their unit's list only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fhir_server.errors import bad_request
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.operations.unit_filter import require_staff, unit_params
from fhir_server.rest.bundles import bundle
from fhir_server.rest.context import Context
from fhir_server.rest.interactions.search import search_type
from fhir_server.rest.messages import FhirRequest, FhirResponse

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/task-call-list"
TIMEPOINT_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry-timepoint"
REGISTRY_EXTENSION = "https://ryggrad.no/fhir/StructureDefinition/registry"


def _start(appointment: dict[str, Any] | None) -> datetime | None:
    text = (appointment or {}).get("start")
    if not isinstance(text, str):
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _registry(task: dict[str, Any]) -> str | None:
    for extension in task.get("extension") or []:
        if extension.get("url") == REGISTRY_EXTENSION:
            return (extension.get("valueCoding") or {}).get("code")
    return None


def _key(reference: str) -> str:
    """``Appointment/1/_history/2`` → ``Appointment/1``."""
    return "/".join(reference.split("/")[:2])


def call_list(ctx: Context, req: FhirRequest, resource_type: str) -> FhirResponse:
    require_staff(ctx)
    values = parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)
    within = int(values["within"][0]) if values.get("within") else None
    if within is not None and within < 0:
        raise bad_request("within is a number of days, 0 or more", "within")
    registry = str(values["registry"][0]) if values.get("registry") else None
    query = [
        ("status", "ready,in-progress"),
        ("code", f"{TIMEPOINT_SYSTEM}|baseline"),
        ("_include", "Task:based-on"),
        ("_include", "Task:patient"),
        ("_revinclude", "Communication:based-on"),
        ("_count", str(ctx.server.settings.max_page_size)),
        *unit_params(ctx, values),
    ]
    found = search_type(ctx, FhirRequest("GET", "Task", query), "Task").resource or {}
    entries = found.get("entry") or []
    included = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": e
        for e in entries
        if (e.get("search") or {}).get("mode") == "include"
    }
    horizon = ctx.now + timedelta(days=within) if within is not None else None
    rows: list[tuple[datetime, dict[str, Any], list[dict[str, Any]]]] = []
    for entry in entries:
        task = entry["resource"]
        if (entry.get("search") or {}).get("mode") != "match" or (registry and _registry(task) != registry):
            continue
        refs = [_key(str(b.get("reference") or "")) for b in task.get("basedOn") or []]
        appointment = next((included[r] for r in refs if r.startswith("Appointment/") and r in included), None)
        start = _start(appointment["resource"] if appointment else None)
        if start is None or start <= ctx.now or (horizon is not None and start > horizon):
            continue
        patient = included.get(str((task.get("for") or {}).get("reference") or ""))
        reminders = [
            e
            for e in included.values()
            if e["resource"]["resourceType"] == "Communication"
            and any(b.get("reference") == f"Task/{task['id']}" for b in e["resource"].get("basedOn") or [])
        ]
        rows.append((start, entry, [x for x in (appointment, patient, *reminders) if x is not None]))
    rows.sort(key=lambda row: (row[0], row[1]["resource"]["id"]))
    matches = [row[1] for row in rows]
    seen: set[str] = set()
    includes = []
    for _, _, related in rows:
        for entry in related:
            key = f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
            if key not in seen:
                seen.add(key)
                includes.append(entry)
    self_link = [("self", f"{ctx.base_url}/Task/$call-list")]
    return FhirResponse(200, bundle("searchset", [*matches, *includes], self_link, ctx.now, total=len(matches)))
