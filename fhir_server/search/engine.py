"""Running a search: matching conditions, ``_sort``, keyset paging, ``_total``, includes, ``_summary``/``_elements``.

The matching half (parameters → SQL conditions) comes from the query builder; this module owns the result
controls, so every search — by type, system-wide or in a compartment — pages and shapes its results alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from fhir_server.errors import bad_request
from fhir_server.search.elements import SUMMARY_MODES, parse_elements
from fhir_server.search.include import IncludeSpec, parse_include, resolve_includes
from fhir_server.search.sort import SortKey, after, decode_values, encode_values, order_by, parse_sort
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
    base_url: str | None = None,
) -> SearchOutcome:
    keys: list[SortKey] = []
    if controls.sort:
        if resource_type is None:
            raise bad_request("_sort across resource types supports only _id and _lastUpdated", "_sort")
        keys = parse_sort(controls.sort, resource_type, param_types)
    total = None
    if controls.total != "none":
        total = conn.execute(select(func.count()).select_from(resource).where(*conditions)).scalar_one()
    if controls.count == 0:
        return SearchOutcome([], [], total, None)
    page_conditions = list(conditions)
    if cursor is not None:
        page_conditions.append(after(keys, decode_values(keys, cursor["v"]), cursor["r"]))
    labelled = [k.expression.label(f"sort_{i}") for i, k in enumerate(keys)]
    rows = conn.execute(
        select(*CURRENT_COLUMNS, *labelled).where(*page_conditions).order_by(*order_by(keys)).limit(controls.count + 1)
    ).all()
    page = rows[: controls.count]
    matches = [current_version(row) for row in page]
    next_cursor = None
    if len(rows) > controls.count and page:
        last = page[-1]
        next_cursor = {"v": encode_values([last._mapping[f"sort_{i}"] for i in range(len(keys))]), "r": last.rid}
    included = resolve_includes(conn, matches, controls.includes, base_url) if controls.includes else []
    return SearchOutcome(matches, included, total, next_cursor)
