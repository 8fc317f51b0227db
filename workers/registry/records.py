"""Reading and writing registry records inside a subscriber's transaction: searches through the search engine,
versions through the same write path as any request (so they are validated, indexed, owned and announced)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from fhir_server.auth.ownership import owners, with_owners
from fhir_server.rest.context import Context
from fhir_server.rest.resources import create_resource, update_resource
from fhir_server.storage.schema import resource
from fhir_server.storage.store import CURRENT_COLUMNS, StoredVersion, current_version


def find(ctx: Context, resource_type: str, params: list[tuple[str, str]], limit: int = 100) -> list[StoredVersion]:
    """The current versions a search finds (the server's view: every unit)."""
    plan = ctx.server.search_plan(resource_type, params, strict=True)
    rows = ctx.conn.execute(select(*CURRENT_COLUMNS).where(*plan.conditions).order_by(resource.c.rid).limit(limit))
    return [current_version(row) for row in rows]


def create(ctx: Context, resource_type: str, content: dict[str, Any], units: set[str]) -> StoredVersion:
    """A new resource owned by ``units`` (the units that own what it follows from)."""
    return create_resource(ctx, resource_type, with_owners(content, units), "POST")


def update(ctx: Context, current: StoredVersion, content: dict[str, Any]) -> StoredVersion:
    """The next version of ``current``, its owners kept."""
    version, _ = update_resource(ctx, current, with_owners(content, owners(current.content)), "PUT")
    return version


def new_guid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"
