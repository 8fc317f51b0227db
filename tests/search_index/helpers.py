"""Small accessors for index rows in tests."""

from __future__ import annotations

from typing import Any

from fhir_server.search.index.date_spans import HULL
from fhir_server.search.index.rows import IndexRows


def of(rows: IndexRows, kind: str, param: str) -> list[Any]:
    """The rows of one table (``tokens``, ``strings``, ...) for one parameter code; of dates, the values only (the
    hull row of several values is ``hull``'s business)."""
    return [row for row in getattr(rows, kind) if row.param == param and getattr(row, "role", 0) != HULL]


def hull(rows: IndexRows, param: str) -> list[Any]:
    return [row for row in rows.dates if row.param == param and row.role == HULL]


def params(rows: IndexRows) -> set[str]:
    return {row.param for kind in rows.__slots__ for row in getattr(rows, kind)}
