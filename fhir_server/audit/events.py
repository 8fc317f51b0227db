"""AuditEvent resources (R4) for one request: who (client, organisation, person, HPR), what (type, id, and the
names of the search parameters — never their values, which may identify a patient), when, and the outcome."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from fhir_server.auth.principal import Principal
from fhir_server.errors import FhirError
from fhir_server.rest.messages import FhirRequest
from fhir_server.rest.router import interaction

DICOM = "http://dicom.nema.org/resources/ontology/DCM"
INTERACTION = "http://hl7.org/fhir/restful-interaction"
AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
ROLE = "https://ryggrad.no/fhir/CodeSystem/role"
FNR, HPR, ORGNR = "urn:oid:2.16.578.1.12.4.1.4.1", "urn:oid:2.16.578.1.12.4.1.4.4", "urn:oid:2.16.578.1.12.4.1.4.101"
CLIENT = "https://ryggrad.no/fhir/sid/client-id"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"

#: AuditEvent.action per restful interaction.
_ACTIONS = {"create": "C", "read": "R", "vread": "R", "search-type": "E", "search-system": "E", "update": "U",
            "patch": "U", "delete": "D", "history-instance": "R", "history-type": "E", "history-system": "E",
            "transaction": "E", "batch": "E", "capabilities": "R"}  # fmt: skip


def _interaction(method: str, path: str, query: list[tuple[str, str]]) -> str:
    try:
        return interaction(FhirRequest("GET" if method == "HEAD" else method, path, query))[0]
    except FhirError:  # no such endpoint: still audited, as what it tried
        return "operation"


def touched(req: Any, response: Any) -> list[str]:
    """``Type/id`` of what a request read or wrote: the resource answered, a Bundle's entries, or the path."""
    found: list[str] = []
    resource = getattr(response, "resource", None)
    if isinstance(resource, dict) and resource.get("resourceType") == "Bundle":
        for entry in resource.get("entry") or []:
            inner = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(inner, dict) and inner.get("resourceType") not in (None, "OperationOutcome"):
                found.append(f"{inner['resourceType']}/{inner.get('id')}")
            location = (entry.get("response") or {}).get("location") if isinstance(entry, dict) else None
            if isinstance(location, str) and "/_history/" in location:
                found.append("/".join(location.split("/_history/")[0].split("/")[-2:]))
    elif isinstance(resource, dict) and resource.get("resourceType") not in (None, "OperationOutcome"):
        found.append(f"{resource['resourceType']}/{resource.get('id')}")
    else:
        parts = [p for p in str(getattr(req, "path", "")).strip("/").split("/") if p]
        if len(parts) >= 2 and not parts[1].startswith("_") and parts[0] != "bulk":  # bulk/: an export's URLs
            found.append(f"{parts[0]}/{parts[1]}")
    return list(dict.fromkeys(found))


def _agent(principal: Principal | None) -> dict[str, Any]:
    if principal is None:
        return {"requestor": True, "who": {"display": "unauthenticated caller"}}
    identifiers = [{"system": CLIENT, "value": principal.client_id or "unknown"}]
    agent: dict[str, Any] = {
        "requestor": True,
        "type": {"coding": [{"system": ROLE, "code": principal.role}]},
        "who": {"identifier": identifiers[0]},
    }
    alt = []
    if principal.hpr:
        alt.append({"system": HPR, "value": principal.hpr})
    if principal.pid:
        alt.append({"system": FNR, "value": principal.pid})
    if alt:
        agent["extension"] = [
            {"url": "https://ryggrad.no/fhir/StructureDefinition/audit-agent-person", "valueIdentifier": i} for i in alt
        ]
    if principal.org:
        agent["location"] = {"display": f"orgnr {principal.org}"}
        agent["role"] = [{"coding": [{"system": ORGNR, "code": principal.org}]}]
    return agent


def study_entity(study: str) -> dict[str, Any]:
    """The entity naming the ResearchStudy (data release) a request was made under."""
    return {
        "what": {"reference": f"ResearchStudy/{study}"},
        "type": {"system": RESOURCE_TYPES, "code": "ResearchStudy"},
    }


def audit_event(
    *,
    principal: Principal | None,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    status: int,
    recorded: datetime,
    targets: list[str] = (),  # type: ignore[assignment]
    kind: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The AuditEvent of one request that ended with ``status``; ``targets``: ``Type/id`` it touched."""
    code = kind or _interaction(method, path, query)
    outcome = "0" if status < 400 else "4" if status < 500 else "8"
    entities: list[dict[str, Any]] = [{"what": {"reference": t}} for t in targets[:50]]
    names = sorted({name for name, _ in query if name not in ("_format", "_pretty")})
    parts = [p for p in path.strip("/").split("/") if p]
    if names or (parts and not targets):
        entity: dict[str, Any] = {"type": {"code": parts[0] if parts else "system"}}
        if names:  # parameter names only: values may identify a patient
            entity["query"] = base64.b64encode("&".join(names).encode()).decode()
        entities.append(entity)
    if principal is not None and principal.study:  # the data release the access served (a researcher's study)
        entities.append(study_entity(principal.study))
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(uuid.uuid4()),
        "type": {"system": AUDIT_TYPE, "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": INTERACTION, "code": code}],
        "action": _ACTIONS.get(code, "E"),
        "recorded": recorded.isoformat(timespec="milliseconds") + "Z",
        "outcome": outcome,
        "agent": [_agent(principal)],
        "source": {"observer": {"display": "Ryggrad FHIR server"}},
    }
    if status >= 400 or description:
        event["outcomeDesc"] = description or f"HTTP {status}"
    if entities:
        event["entity"] = entities
    return event


def login_failure(recorded: datetime, reason: str, status: int) -> dict[str, Any]:
    """A refused sign-in (401/403 before any interaction): DICOM User Authentication, failed."""
    return {
        "resourceType": "AuditEvent",
        "id": str(uuid.uuid4()),
        "type": {"system": DICOM, "code": "110114", "display": "User Authentication"},
        "subtype": [{"system": DICOM, "code": "110122", "display": "Login"}],
        "action": "E",
        "recorded": recorded.isoformat(timespec="milliseconds") + "Z",
        "outcome": "4",
        "outcomeDesc": f"HTTP {status}: {reason}"[:500],
        "agent": [_agent(None)],
        "source": {"observer": {"display": "Ryggrad FHIR server"}},
    }
