"""Running a search: matching conditions, ``_sort``, keyset paging, ``_total``, includes, ``_summary``/``_elements``.

The matching half (parameters → SQL conditions) comes from the query builder; this module owns the result
controls, so every search — by type, system-wide or in a compartment — pages and shapes its results alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, func, null, select

from fhir_server.errors import bad_request
from fhir_server.search import rid_space
from fhir_server.search.elements import SUMMARY_MODES, parse_elements
from fhir_server.search.include import IncludeSpec, parse_include, resolve_includes
from fhir_server.search.sort import (
    JoinedKey,
    SortKey,
    after,
    decode_values,
    encode_values,
    joined_key,
    order_by,
    parse_sort,
    without_value,
)
from fhir_server.storage.schema import resource
from fhir_server.storage.store import CURRENT_COLUMNS, StoredVersion, current_version

TOTAL_MODES = ("none", "estimate", "accurate")
FORMAT_PARAMETERS = ("_format", "_pretty", "_page")


@dataclass
class ResultControls:
    count: int
    sort: str | None = None
    includes: list[IncludeSpec] = field(default_factory=list)
    summary: str | None = None
    elements: list[str] | None = None
    total: str = "none"
    echoed: list[tuple[str, str]] = field(default_factory=list)  # for the self/next links


@dataclass
class SearchOutcome:
    matches: list[StoredVersion]
    included: list[StoredVersion]
    total: int | None
    next_cursor: dict[str, Any] | None


def _whole_number(name: str, value: str) -> int:
    if not value.isdigit():
        raise bad_request(f"{name} must be a whole number", name)
    return int(value)


def split_controls(
    params: list[tuple[str, str]], default_count: int, max_count: int
) -> tuple[list[tuple[str, str]], ResultControls]:
    """(matching parameters, result controls)."""
    matching: list[tuple[str, str]] = []
    controls = ResultControls(count=default_count)
    for name, value in params:
        base = name.split(":", 1)[0]
        if base == "_count":
            controls.count = min(_whole_number("_count", value), max_count)
        elif base == "_sort":
            controls.sort = value
        elif base in ("_include", "_revinclude"):
            controls.includes.append(parse_include(name, value))
        elif base == "_summary":
            if value not in SUMMARY_MODES:
                raise bad_request("_summary must be true, text, data, count or false", "_summary")
            controls.summary = value
        elif base == "_elements":
            controls.elements = parse_elements(value)
        elif base == "_total":
            if value not in TOTAL_MODES:
                raise bad_request("_total must be none, estimate or accurate", "_total")
            controls.total = value
        elif base == "_contained":
            if value not in ("false",):
                raise bad_request("_contained is not supported (contained resources are not searched)", name)
        elif base in FORMAT_PARAMETERS:
            continue
        else:
            matching.append((name, value))
            continue
        if base not in FORMAT_PARAMETERS:
            controls.echoed.append((name, value))
    if controls.summary == "count":
        controls.count = 0
        controls.total = "accurate"
    return matching, controls


def run_search(
    conn: Connection,
    resource_type: str | None,
    conditions: list[ColumnElement[bool]],
    controls: ResultControls,
    param_types: dict[str, str],
    cursor: dict[str, Any] | None,
    hidden: frozenset[str] = frozenset(),
    visible: ColumnElement[bool] | None = None,
) -> SearchOutcome:
    keys: list[SortKey] = []
    joined: JoinedKey | None = None
    if controls.sort:
        if resource_type is None:
            raise bad_request("_sort across resource types supports only _id and _lastUpdated", "_sort")
        keys = parse_sort(controls.sort, resource_type, param_types)
        joined = joined_key(resource_type, keys[0], param_types)
    total = None
    if controls.total == "accurate" or (controls.total == "estimate" and conn.dialect.name != "postgresql"):
        total = _count(conn, conditions)
    elif controls.total == "estimate":
        total = _estimate(conn, select(resource.c.rid).where(*conditions))
    if controls.count == 0:
        return SearchOutcome([], [], total, None)
    if joined is None:
        rows, without = _page(conn, conditions, keys, controls.count + 1, cursor), False
    else:
        rows, without = _joined_page(conn, conditions, keys, joined, controls.count + 1, cursor)
    page = rows[: controls.count]
    if controls.total == "estimate" and cursor is None and len(rows) <= controls.count:
        total = len(rows)  # the whole result is on this page: no need to guess
    matches = [current_version(row) for row in page]
    next_cursor = None
    if len(rows) > controls.count and page:
        last = page[-1]
        values = encode_values([last._mapping[f"sort_{i}"] for i in range(len(keys))])
        next_cursor = {"v": values, "r": last.rid, **({"m": True} if without else {})}
    included = []
    if controls.includes:
        included = resolve_includes(conn, matches, controls.includes, hidden=hidden, visible=visible)
    return SearchOutcome(matches, included, total, next_cursor)


def _count(conn: Connection, conditions: list[ColumnElement[bool]]) -> int:
    """``_total=accurate``: counted in the index tables where the conditions allow (no resource rows read)."""
    found = rid_space.split(conditions)
    if found.sources:
        counted = select(func.count()).select_from(rid_space.matching_rids(found).subquery("matches"))
    else:
        counted = select(func.count()).select_from(resource).where(*conditions)
    return int(conn.execute(counted).scalar_one())


def _estimate(conn: Connection, statement: Select[Any]) -> int:
    """PostgreSQL's planner's estimate of the rows ``statement`` returns (``_total=estimate``): no rows read."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar_one()
    return max(0, round(plan[0]["Plan"]["Plan Rows"]))


def _page(
    conn: Connection,
    conditions: list[ColumnElement[bool]],
    keys: list[SortKey],
    limit: int,
    cursor: dict[str, Any] | None,
) -> list[Row[Any]]:
    if not keys:
        found = rid_space.split(conditions)
        if found.sources:  # the page's rids from the index tables, then its rows
            rids = rid_space.page_rids(found, limit, cursor["r"] if cursor is not None else None)
            statement = select(*CURRENT_COLUMNS).where(resource.c.rid.in_(rids)).order_by(resource.c.rid)
            return list(conn.execute(statement).all())
    where = list(conditions)
    if cursor is not None:
        where.append(after(keys, decode_values(keys, cursor["v"]), cursor["r"]))
    labelled = [k.expression.label(f"sort_{i}") for i, k in enumerate(keys)]
    statement = select(*CURRENT_COLUMNS, *labelled).where(*where).order_by(*order_by(keys)).limit(limit)
    return list(conn.execute(statement).all())


def _joined_page(
    conn: Connection,
    conditions: list[ColumnElement[bool]],
    keys: list[SortKey],
    joined: JoinedKey,
    limit: int,
    cursor: dict[str, Any] | None,
) -> tuple[list[Row[Any]], bool]:
    """A page sorted on a joined first key: resources with a value, then (once those run out) those without.
    Returns the rows and whether the last of them is one without a value."""
    values = decode_values(keys, cursor["v"]) if cursor is not None else None
    rows: list[Row[Any]] = []
    if cursor is None or not cursor.get("m"):
        where = list(conditions)
        if cursor is not None:
            where.append(after(keys, values, cursor["r"], first=joined.value, tie=joined.table.c.rid))  # type: ignore[arg-type]
        labelled = [joined.value.label("sort_0"), *(k.expression.label(f"sort_{i}") for i, k in enumerate(keys) if i)]
        statement = (
            select(*CURRENT_COLUMNS, *labelled)
            .select_from(resource.join(joined.table, joined.on))
            .where(*where)
            .order_by(*order_by(keys, joined.value, joined.table.c.rid))
            .limit(limit)
        )
        rows = list(conn.execute(statement).all())
        if len(rows) == limit:
            return rows, False
    where = [*conditions, without_value(joined)]
    if cursor is not None and cursor.get("m"):
        where.append(after(keys[1:], values[1:], cursor["r"]))  # type: ignore[index]
    labelled = [null().label("sort_0"), *(k.expression.label(f"sort_{i}") for i, k in enumerate(keys) if i)]
    statement = select(*CURRENT_COLUMNS, *labelled).where(*where).order_by(*order_by(keys[1:])).limit(limit - len(rows))
    # the page is the first limit - 1 rows: its last row is one without a value when the first phase fell short
    return rows + list(conn.execute(statement).all()), len(rows) < limit - 1
