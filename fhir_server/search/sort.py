"""``_sort`` on any search parameter, several keys, ascending or descending, with keyset paging.

A key's value for a resource is the lowest of its index values (ascending) or the highest (descending), as the
spec describes for repeating elements; resources without a value sort last either way. The keyset cursor holds
the last row's key values and ``rid``, so the next page starts exactly after it however the data change.

A date parameter as the first key is joined, not computed: every resource with a value has exactly one date
row that is not ``MULTI`` (its only value, or the hull of several: lowest low, highest high; see
``search/index/date_spans.py``), so the page is read in the order of the ``(…, low, rid)`` / ``(…, high, rid)``
index and stops after ``_count`` rows. Resources without a value follow in a second phase, in ``rid`` order. Other
keys (and later keys) are the lowest / highest index value per resource, computed per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, func, literal, or_, select, tuple_

from fhir_server.errors import bad_request
from fhir_server.search.index.date_spans import MULTI
from fhir_server.search.index.rows import DATE_MAX, DATE_MIN
from fhir_server.search.query.sql import TYPE_TABLES
from fhir_server.storage.schema import resource, search_date

# The value a sort uses, per SearchParameter type: (ascending column, descending column, kind).
_SORT_COLUMNS: dict[str, tuple[str, str, str]] = {
    "string": ("value", "value", "string"),
    "token": ("code", "code", "string"),
    "uri": ("value", "value", "string"),
    "reference": ("target_id", "target_id", "string"),
    "date": ("low", "high", "date"),
    "number": ("low", "high", "number"),
    "quantity": ("low", "high", "number"),
}
# Missing values sort last: the largest value ascending, the smallest descending.
_LAST = {"string": ("\U0010ffff", ""), "date": (DATE_MAX, DATE_MIN), "number": (Decimal("1e30"), Decimal("-1e30"))}


@dataclass(frozen=True)
class SortKey:
    name: str
    descending: bool
    kind: str  # string | date | number
    expression: ColumnElement[Any]


@dataclass(frozen=True)
class JoinedKey:
    """A first key read from its own index row: ``table`` joins ``resource`` on ``on``; ``value`` orders."""

    table: FromClause
    on: ColumnElement[bool]
    value: ColumnElement[Any]


def _index_key(resource_type: str, code: str, param_type: str, descending: bool) -> tuple[ColumnElement[Any], str]:
    if param_type not in _SORT_COLUMNS:
        raise bad_request(f"_sort: the {param_type} parameter '{code}' cannot be sorted on", "_sort")
    asc_column, desc_column, kind = _SORT_COLUMNS[param_type]
    table = TYPE_TABLES[param_type]
    column = table.c[desc_column] if descending else table.c[asc_column]
    aggregate = func.max(column) if descending else func.min(column)
    value = (
        select(aggregate)
        .where(table.c.rid == resource.c.rid, table.c.resource_type == resource_type, table.c.param == code)
        .scalar_subquery()
    )
    last = _LAST[kind][1 if descending else 0]
    return func.coalesce(value, literal(last)), kind


def parse_sort(value: str, resource_type: str, param_types: dict[str, str]) -> list[SortKey]:
    """``_sort=-date,name`` → keys; ``param_types`` maps the type's SearchParameter codes to their types."""
    keys: list[SortKey] = []
    for raw in value.split(","):
        name = raw.strip()
        descending = name.startswith("-")
        code = name.lstrip("-")
        if not code:
            raise bad_request("_sort has an empty key", "_sort")
        if code == "_id":
            keys.append(SortKey(code, descending, "string", resource.c.id))
        elif code == "_lastUpdated":
            keys.append(SortKey(code, descending, "date", resource.c.last_updated))
        elif code in param_types:
            expression, kind = _index_key(resource_type, code, param_types[code], descending)
            keys.append(SortKey(code, descending, kind, expression))
        else:
            raise bad_request(f"_sort: '{code}' is not a search parameter of {resource_type}", "_sort")
    return keys


def joined_key(resource_type: str, key: SortKey, param_types: dict[str, str]) -> JoinedKey | None:
    """The first key as a join, where its parameter is a date; else None (``_lastUpdated`` is a resource column)."""
    if key.name in ("_id", "_lastUpdated") or param_types.get(key.name) != "date":
        return None
    row = search_date.alias("sort_row")
    on = and_(
        row.c.rid == resource.c.rid,
        row.c.resource_type == resource_type,
        row.c.param == key.name,
        row.c.role != MULTI,
    )
    return JoinedKey(row, on, row.c.high if key.descending else row.c.low)


def without_value(joined: JoinedKey) -> ColumnElement[bool]:
    """Resources with no row of the joined key's parameter (its second phase)."""
    row = joined.table
    return ~select(row.c.rid).where(joined.on).correlate(resource).exists()


def _ties_descending(keys: list[SortKey]) -> bool:
    """Ties are broken by ``rid`` in the first key's direction, so one index read backwards serves the whole order."""
    return bool(keys) and keys[0].descending


def order_by(
    keys: list[SortKey], first: ColumnElement[Any] | None = None, tie: ColumnElement[Any] = resource.c.rid
) -> list[Any]:
    """ORDER BY the keys (the first one as ``first`` where given), then ``tie`` (a rid column)."""
    expressions = [first if first is not None and i == 0 else k.expression for i, k in enumerate(keys)]
    clauses = [e.desc() if k.descending else e.asc() for e, k in zip(expressions, keys, strict=True)]
    return [*clauses, tie.desc() if _ties_descending(keys) else tie.asc()]


def after(
    keys: list[SortKey],
    values: list[Any],
    rid: int,
    first: ColumnElement[Any] | None = None,
    tie: ColumnElement[Any] = resource.c.rid,
) -> ColumnElement[bool]:
    """Rows strictly after (values, rid) in the sort order: a keyset condition. One key is a row comparison,
    ``(value, rid) > (:v, :rid)``, which both databases answer from an index on ``(value, rid)``; several keys
    (directions may differ) are the lexicographic OR of comparisons."""
    if len(keys) == 1:
        row = tuple_(first if first is not None else keys[0].expression, tie)
        return row < tuple_(values[0], rid) if keys[0].descending else row > tuple_(values[0], rid)
    alternatives: list[ColumnElement[bool]] = []
    equal_so_far: list[ColumnElement[bool]] = []
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        expression = first if first is not None and i == 0 else key.expression
        beyond = expression < value if key.descending else expression > value
        alternatives.append(and_(*equal_so_far, beyond))
        equal_so_far.append(expression == value)
    alternatives.append(and_(*equal_so_far, tie < rid if _ties_descending(keys) else tie > rid))
    return or_(*alternatives)


def encode_values(values: list[Any]) -> list[Any]:
    """Sort values as JSON (for the sealed cursor)."""
    return [
        v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, Decimal | float) else v for v in values
    ]


def decode_values(keys: list[SortKey], values: list[Any]) -> list[Any]:
    decoded: list[Any] = []
    for key, value in zip(keys, values, strict=True):
        if key.kind == "date" and isinstance(value, str):
            decoded.append(datetime.fromisoformat(value))
        elif key.kind == "number" and isinstance(value, str):
            decoded.append(Decimal(value))
        else:
            decoded.append(value)
    return decoded
