"""Small accessors for index rows in tests."""

from __future__ import annotations

from typing import Any

from fhir_server.search.index.rows import IndexRows


def of(rows: IndexRows, kind: str, param: str) -> list[Any]:
    """The rows of one table (``tokens``, ``strings``, ...) for one parameter code."""
    return [row for row in getattr(rows, kind) if row.param == param]


def params(rows: IndexRows) -> set[str]:
    return {row.param for kind in rows.__slots__ for row in getattr(rows, kind)}
