"""A mapped Appointment as the transaction an intake posts: each actor it names by conditional reference is
created when missing (conditional create: only the identifier, owned like the appointment where it is registry
data), then the Appointment is PUT under its DIPS-derived id. Posting it again changes nothing.

The server resolves a conditional reference against what is stored before the transaction, not against the
Bundle's own conditional creates; so each create gets a ``urn:uuid`` fullUrl derived from its identifier (the same
for every push) and the Appointment points at that."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from fhir_server.auth.ownership import SHARED_TYPES

_NAMESPACE = uuid.UUID("5f0c7d5e-3b1a-4c36-9a52-2f8f0b6f1d10")  # fullUrls of the actors' conditional creates


def _create(reference: str, security: list[dict[str, Any]]) -> dict[str, Any]:
    kind, query = reference.split("?", 1)
    system, value = query.removeprefix("identifier=").split("|", 1)
    resource: dict[str, Any] = {"resourceType": kind, "identifier": [{"system": system, "value": value}]}
    if security and kind not in SHARED_TYPES:
        resource["meta"] = {"security": security}
    return {
        "fullUrl": f"urn:uuid:{uuid.uuid5(_NAMESPACE, reference)}",
        "resource": resource,
        "request": {"method": "POST", "url": kind, "ifNoneExist": f"identifier={system}|{value}"},
    }


def transaction(appointment: dict[str, Any]) -> dict[str, Any]:
    """The transaction Bundle for one mapped Appointment (which has an ``id``)."""
    security = (appointment.get("meta") or {}).get("security") or []
    body = copy.deepcopy(appointment)
    creates: dict[str, dict[str, Any]] = {}
    for participant in body.get("participant") or []:
        actor = participant.get("actor") or {}
        reference = str(actor.get("reference") or "")
        if "?" in reference:
            creates.setdefault(reference, _create(reference, security))
            actor["reference"] = creates[reference]["fullUrl"]
    entries = [*creates.values(), {"resource": body, "request": {"method": "PUT", "url": f"Appointment/{body['id']}"}}]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
