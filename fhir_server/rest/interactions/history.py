"""history of an instance, a type, or the whole system; ``_since``, ``_at``, ``_count``, keyset paging."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, select
from sqlalchemy.orm import aliased

from fhir_server.errors import bad_request
from fhir_server.rest.bundles import bundle, page_url
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.versioning import instant
from fhir_server.search.dates import parse_date_range
from fhir_server.storage.schema import resource_history
from fhir_server.storage.store import StoredVersion, history_version

_STATUS = {"POST": "201 Created", "PUT": "200 OK", "PATCH": "200 OK", "DELETE": "204 No Content"}


def history(
    ctx: Context, req: FhirRequest, resource_type: str | None = None, resource_id: str | None = None
) -> FhirResponse:
    h = resource_history.c
    conditions: list[ColumnElement[bool]] = []
    if resource_type:
        conditions.append(h.resource_type == resource_type)
    elif ctx.hidden_types:
        conditions.append(h.resource_type.not_in(sorted(ctx.hidden_types)))
    if resource_id:
        conditions.append(h.id == resource_id)
    owned = ctx.ownership.any_type_condition(resource_history)
    if owned is not None:  # a unit's user: its own resources' histories (and shared ones), in the query
        conditions.append(owned)
    settings = ctx.server.settings
    count, cursor = settings.default_page_size, None
    used: list[tuple[str, str]] = []
    for name, value in req.query:
        if name == "_count":
            if not value.isdigit():
                raise bad_request("_count must be a whole number")
            count = min(int(value), settings.max_page_size)
        elif name == "_cursor":
            if not value.isdigit():
                raise bad_request("_cursor is not valid")
            cursor = int(value)
        elif name == "_since":
            conditions.append(h.last_updated >= parse_date_range(value, "_since").low)
            used.append((name, value))
        elif name == "_at":
            conditions.append(_current_at(value))
            used.append((name, value))
        elif name not in ("_format", "_pretty"):
            raise bad_request(f"History does not support the parameter '{name}'")
    if cursor is not None:
        conditions.append(h.seq < cursor)
    rows = ctx.conn.execute(select(resource_history).where(*conditions).order_by(h.seq.desc()).limit(count + 1)).all()
    versions = [history_version(r) for r in rows[:count]]
    path = "/".join(p for p in (resource_type, resource_id, "_history") if p)
    links = [("self", page_url(ctx.base_url, path, [*used, ("_count", str(count))]))]
    if len(rows) > count and versions:
        next_params = [*used, ("_count", str(count)), ("_cursor", str(versions[-1].seq))]
        links.append(("next", page_url(ctx.base_url, path, next_params)))
    entries = [_entry(ctx, v) for v in versions]
    return FhirResponse(200, bundle("history", entries, links, ctx.now))


def _current_at(value: str) -> ColumnElement[bool]:
    """Versions that were current at some moment of the ``_at`` period."""
    period = parse_date_range(value, "_at")
    h = resource_history.c
    nxt = aliased(resource_history)
    superseded_before = exists(
        select(1).where(
            nxt.c.resource_type == h.resource_type,
            nxt.c.id == h.id,
            nxt.c.version_id == h.version_id + 1,
            nxt.c.last_updated <= period.low,
        )
    )
    return and_(h.last_updated < period.high, not_(superseded_before))


def _entry(ctx: Context, version: StoredVersion) -> dict[str, Any]:
    method = version.method or "PUT"
    url = version.resource_type if method == "POST" else f"{version.resource_type}/{version.id}"
    entry: dict[str, Any] = {"fullUrl": f"{ctx.base_url}/{version.resource_type}/{version.id}"}
    if version.content is not None:
        entry["resource"] = version.content
    entry["request"] = {"method": method, "url": url}
    status = "201 Created" if method == "PUT" and version.version_id == 1 else _STATUS[method]
    entry["response"] = {
        "status": status,
        "etag": f'W/"{version.version_id}"',
        "lastModified": instant(version.last_updated),
    }
    return entry
