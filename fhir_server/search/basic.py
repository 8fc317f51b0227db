"""The first search: ``_id``, ``_lastUpdated``, ``identifier``, ``_count`` and ``_total`` on one resource type.

Results page by the resource's surrogate key (a keyset cursor, sealed in the paging link by ``paging.py``), so a
next link stays valid while data change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from sqlalchemy import ColumnElement, and_, not_, or_, select

from fhir_server.errors import bad_request
from fhir_server.search.dates import parse_date_range
from fhir_server.search.values import parse_token, split_prefix, split_unescaped, unescape
from fhir_server.storage.schema import resource, search_token

#: Parameters about the result set, not about matching.
RESULT_PARAMETERS = frozenset({"_count", "_page", "_total", "_format", "_pretty"})
#: Matching parameters every resource type has here.
COMMON_PARAMETERS = frozenset({"_id", "_lastUpdated"})
TOTAL_MODES = ("none", "estimate", "accurate")


@dataclass
class SearchQuery:
    resource_type: str
    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    used: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (parameter, why), lenient handling
    count: int = 50
    cursor: int | None = None
    total: str = "none"


def _last_updated_condition(value: str) -> ColumnElement[bool]:
    prefix, raw = split_prefix(value)
    rng = parse_date_range(raw, "_lastUpdated")
    col = resource.c.last_updated
    conditions: dict[str, ColumnElement[bool]] = {
        "eq": and_(col >= rng.low, col < rng.high),
        "ne": or_(col < rng.low, col >= rng.high),
        "gt": col >= rng.high,
        "sa": col >= rng.high,
        "lt": col < rng.low,
        "eb": col < rng.low,
        "ge": col >= rng.low,
        "le": col < rng.high,
    }
    if prefix == "ap":
        margin = (rng.high - rng.low) / 10
        return and_(col >= rng.low - margin, col < rng.high + margin)
    return conditions[prefix]


def _identifier_condition(resource_type: str, value: str) -> ColumnElement[bool]:
    token = parse_token(value, "identifier")
    clauses = [
        search_token.c.resource_type == resource_type,
        search_token.c.param == "identifier",
    ]
    if token.code is not None:
        clauses.append(search_token.c.code == token.code)
    if token.system == "":
        clauses.append(search_token.c.system.is_(None))
    elif token.system is not None:
        clauses.append(search_token.c.system == token.system)
    # an uncorrelated subquery: the planner starts from the (selective) token index, not from every resource
    return resource.c.rid.in_(select(search_token.c.rid).where(*clauses))


def _int_param(name: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise bad_request(f"{name} must be a whole number") from exc
    if number < minimum:
        raise bad_request(f"{name} must be at least {minimum}")
    return number


def build_query(
    resource_type: str,
    params: Sequence[tuple[str, str]],
    *,
    searchable: frozenset[str],
    strict: bool,
    default_count: int = 50,
    max_count: int = 1000,
) -> SearchQuery:
    """Parse search parameters. ``strict``: an unknown parameter is an error rather than ignored."""
    query = SearchQuery(resource_type, count=default_count)
    query.conditions.append(not_(resource.c.deleted))
    if resource_type:  # empty for searches across types (system-wide, compartment *)
        query.conditions.append(resource.c.resource_type == resource_type)
    for name, value in params:
        if name == "_count":
            query.count = min(_int_param("_count", value, 0), max_count)
        elif name == "_total":
            if value not in TOTAL_MODES:
                raise bad_request("_total must be one of none, estimate, accurate")
            query.total = value
        elif name in ("_format", "_pretty", "_page"):
            continue
        elif name in searchable:
            alternatives = split_unescaped(value, ",")
            if name == "_id":
                query.conditions.append(resource.c.id.in_([unescape(v) for v in alternatives]))
            elif name == "_lastUpdated":
                query.conditions.append(or_(*[_last_updated_condition(v) for v in alternatives]))
            elif name == "identifier":
                query.conditions.append(or_(*[_identifier_condition(resource_type, v) for v in alternatives]))
            query.used.append((name, value))
        elif strict:
            raise bad_request(f"Search parameter '{name}' is not supported for {resource_type}")
        else:
            query.ignored.append((name, f"not supported for {resource_type}"))
    return query


def parse_criteria(criteria: str) -> tuple[str, list[tuple[str, str]]]:
    """``Type?a=b&c=d`` → (``Type``, params)."""
    resource_type, _, query_string = criteria.partition("?")
    return resource_type, parse_qsl(query_string, keep_blank_values=True)
