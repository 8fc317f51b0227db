"""The search half of conditional create, update, delete and patch, and conditional references."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import select

from fhir_server.errors import bad_request, precondition_failed
from fhir_server.rest.context import Context
from fhir_server.rest.resources import claim_resource
from fhir_server.storage.locks import serialise
from fhir_server.storage.schema import resource
from fhir_server.storage.store import CURRENT_COLUMNS, StoredVersion, current_version


def parse_criteria(criteria: str) -> tuple[str, list[tuple[str, str]]]:
    """``Type?a=b&c=d`` → (``Type``, params)."""
    resource_type, _, query_string = criteria.partition("?")
    return resource_type, parse_qsl(query_string, keep_blank_values=True)


def criteria_params(value: str) -> list[tuple[str, str]]:
    """The search parameters of ``If-None-Exist``/``ifNoneExist``: ``a=b&c=d``, ``?a=b`` or ``Type?a=b``."""
    _, question, query = value.partition("?")
    return parse_qsl(query if question else value, keep_blank_values=True)


def lock_criteria(ctx: Context, resource_type: str, params: Sequence[tuple[str, str]]) -> None:
    """Serialise concurrent conditional writes with the same criteria (PostgreSQL; SQLite writers are serial),
    so two simultaneous conditional creates cannot both create."""
    key = resource_type + "?" + "&".join(f"{k}={v}" for k, v in sorted(params))
    serialise(ctx.conn, ctx.server.db.is_postgres, key)


def find_matches(
    ctx: Context,
    resource_type: str,
    params: Sequence[tuple[str, str]],
    *,
    lock: bool = False,
    limit: int = 2,
    claim: bool = False,
) -> list[StoredVersion]:
    """The resources the criteria select (at most ``limit``), of those the caller's unit may see. Always strict:
    an unknown parameter must never widen a conditional delete to "everything". ``claim``: a unit that finds
    nothing of its own by a Patient's national identity number claims the one another unit registered
    (``auth/ownership.py``), for a conditional create, update or reference; never for a delete or a patch."""
    params = [(k, v) for k, v in params if k not in ("_format", "_pretty")]
    if not params:
        raise bad_request("A conditional interaction needs at least one search parameter")
    if lock:
        lock_criteria(ctx, resource_type, params)
    ownership = ctx.ownership
    plan = ctx.server.search_plan(resource_type, params, strict=True, ownership=ownership)
    unit = ownership.condition(resource_type)
    restriction = [unit] if unit is not None else []
    found = _select(ctx, [*plan.conditions, *restriction], limit)
    if not found and claim and unit is not None and ownership.claimable(resource_type, params):
        others = _select(ctx, plan.conditions, 2)
        if len(others) == 1:
            return [claim_resource(ctx, others[0])]
    return found


def _select(ctx: Context, conditions: list[Any], limit: int) -> list[StoredVersion]:
    query = select(*CURRENT_COLUMNS).where(*conditions).order_by(resource.c.rid).limit(limit)
    return [current_version(row) for row in ctx.conn.execute(query).all()]


def single_match(ctx: Context, resource_type: str, params: Sequence[tuple[str, str]]) -> StoredVersion | None:
    """None for no match; 412 when the criteria are not selective enough (conditional create and update)."""
    matches = find_matches(ctx, resource_type, params, lock=True, claim=True)
    if len(matches) > 1:
        raise precondition_failed("The search criteria match more than one resource; make them more selective")
    return matches[0] if matches else None


def resolve_conditional_reference(ctx: Context, reference: str) -> str:
    """``Patient?identifier=…`` → ``Patient/<id>``; exactly one match required."""
    resource_type, params = parse_criteria(reference)
    if resource_type not in ctx.server.resource_types:
        raise bad_request("A conditional reference names an unknown resource type")
    matches = find_matches(ctx, resource_type, params, claim=True)
    if len(matches) != 1:
        found = "no resource" if not matches else "more than one resource"
        raise precondition_failed(f"A conditional reference to {resource_type} matches {found}")
    return f"{resource_type}/{matches[0].id}"
