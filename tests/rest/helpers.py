"""Small helpers shared by the REST tests."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from fhir_server.norway.identifiers import synthetic_fnr
from fhir_server.server import FhirServer
from fhir_server.storage.schema import resource, resource_history, search_token

FHIR_JSON = "application/fhir+json"


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def unique_fnr() -> str:
    """A synthetic FNR no other test will draw: a random birth date over a century as well as a random number
    (tests share databases, so a fixed date's few hundred numbers would collide)."""
    rng = random.Random(uuid.uuid4().int)
    return synthetic_fnr(date(1920, 1, 1) + timedelta(days=rng.randrange(36_500)), rng)


def patient(family: str = "Nordmann", **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "name": [{"family": family, "given": ["Kari"]}], **extra}


def with_identifier(resource: dict[str, Any], system: str, value: str) -> dict[str, Any]:
    return {**resource, "identifier": [{"system": system, "value": value}]}


def row_counts(server: FhirServer) -> tuple[int, int, int]:
    """Rows in every table, the audit trail aside (a failed request is audited too): any failed request must leave
    these exactly as they were."""
    with server.db.reading() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(
                select(func.count()).select_from(table).where(table.c.resource_type != "AuditEvent")
            ).scalar_one()
            for table in (resource, resource_history, search_token)
        )
