"""Reading and writing registry records inside a subscriber's transaction: searches through the search engine,
versions through the same write path as any request (so they are indexed, owned and announced). What the workers
write is built here, not sent by a client, so it is not validated on each write: the tests validate every kind of
record the workflow writes against its profile (``tests/registry/test_records_conform.py``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from fhir_server.auth.ownership import owners, with_owners
from fhir_server.rest.context import Context
from fhir_server.rest.resources import create_resource, update_resource
from fhir_server.search.dates import as_naive_utc
from fhir_server.storage.schema import resource
from fhir_server.storage.store import CURRENT_COLUMNS, StoredVersion, current_version

EPISODE = "https://ryggrad.no/fhir/StructureDefinition/episode"
EXCLUSION_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry-exclusion"
#: Why a form is not sent to a patient who opted out (R4).
RESERVATION = ("reservation", "The patient has opted out of further questionnaires (R4)")
#: Task statuses of a form not yet sent to the patient.
UNSENT = frozenset({"draft", "requested", "received", "accepted"})


def find(ctx: Context, resource_type: str, params: list[tuple[str, str]], limit: int = 100) -> list[StoredVersion]:
    """The current versions a search finds (the server's view: every unit), the transaction's queued creates
    included."""
    ctx.store.flush()
    plan = ctx.server.search_plan(resource_type, params, strict=True)
    rows = ctx.conn.execute(select(*CURRENT_COLUMNS).where(*plan.conditions).order_by(resource.c.rid).limit(limit))
    return [current_version(row) for row in rows]


def create(ctx: Context, resource_type: str, content: dict[str, Any], units: set[str]) -> StoredVersion:
    """A new resource owned by ``units`` (the units that own what it follows from). Queued, and written with the
    transaction's other creates at its next read (``find``, the store) or its outbox rows (``record``): a batch
    of events costs a few inserts instead of a few per resource."""
    return create_resource(ctx, resource_type, with_owners(content, units), "POST", deferred=True)


def update(ctx: Context, current: StoredVersion, content: dict[str, Any]) -> StoredVersion:
    """The next version of ``current``, its owners kept."""
    version, _ = update_resource(ctx, current, with_owners(content, owners(current.content)), "PUT")
    return version


def new_guid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def extension_values(content: dict[str, Any], url: str, key: str) -> list[Any]:
    """The ``key`` values (``valueCoding``, ``valueDate`` …) of ``content``'s extensions with ``url``."""
    return [e.get(key) for e in content.get("extension") or [] if isinstance(e, dict) and e.get("url") == url]


def first_extension_value(content: dict[str, Any], url: str, key: str) -> Any:
    return next(iter(extension_values(content, url, key)), None)


def referenced_ids(references: list[Any], resource_type: str) -> list[str]:
    """The ids of ``resource_type`` that Reference objects point at (``EpisodeOfCare/123`` → ``123``)."""
    found = []
    for reference in references:
        text = str((reference or {}).get("reference") or "") if isinstance(reference, dict) else ""
        if text.startswith(f"{resource_type}/"):
            found.append(text.split("/")[1])
    return found


def episode_ids(content: dict[str, Any]) -> list[str]:
    """The episodes a Task, response or procedure belongs to (its ``episode`` extension)."""
    return referenced_ids(extension_values(content, EPISODE, "valueReference"), "EpisodeOfCare")


def reserved_patients(ctx: Context) -> set[str]:
    """Every patient with an active reservation (R4: opted out of questionnaires) — few, read at once."""
    consents = find(
        ctx, "Consent", [("category", f"{EXCLUSION_SYSTEM}|reservation"), ("status", "active")], limit=100_000
    )
    return {str(((c.content or {}).get("patient") or {}).get("reference") or "") for c in consents}


def parse_instant(text: Any) -> datetime | None:
    """A FHIR dateTime/instant as naive UTC (None when absent or not one)."""
    if not isinstance(text, str):
        return None
    try:
        return as_naive_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None
