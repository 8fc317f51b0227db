"""Small helpers shared by the REST tests."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from fhir_server.server import FhirServer
from fhir_server.storage.schema import resource, resource_history, search_token

FHIR_JSON = "application/fhir+json"


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def patient(family: str = "Nordmann", **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "name": [{"family": family, "given": ["Kari"]}], **extra}


def with_identifier(resource: dict[str, Any], system: str, value: str) -> dict[str, Any]:
    return {**resource, "identifier": [{"system": system, "value": value}]}


def row_counts(server: FhirServer) -> tuple[int, int, int]:
    """Rows in every table: any failed request must leave these exactly as they were."""
    with server.db.reading() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (resource, resource_history, search_token)
        )
