"""string parameters: starts-with (default), ``:exact``, ``:contains``, all case- and accent-insensitive except
``:exact``. Search values are normalised with the index's own ``normalize_string`` (``Søreng`` → ``soreng``)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, FromClause, and_

from fhir_server.errors import bad_request
from fhir_server.search.index.normalize import MAX_STRING, normalize_string
from fhir_server.search.query.context import QueryContext, Target
from fhir_server.search.query.parameters import unescape
from fhir_server.search.query.sql import any_of, has_row, starts_with
from fhir_server.storage.schema import search_string

MODIFIERS = frozenset({"exact", "contains"})


def row_clause(table: FromClause, raw: str, modifier: str | None = None) -> ColumnElement[bool]:
    text = unescape(raw)
    normalized = normalize_string(text)[:MAX_STRING]
    if modifier == "exact":
        # the normalised column narrows through the index; the exact column decides
        return and_(table.c.value == normalized, table.c.exact == text[:MAX_STRING])
    if modifier == "contains":
        return table.c.value.contains(normalized, autoescape=True)
    return starts_with(table.c.value, normalized)


def condition(ctx: QueryContext, target: Target, modifier: str | None, values: list[str]) -> ColumnElement[bool]:
    if modifier is not None and modifier not in MODIFIERS:
        raise bad_request(
            f"'{target.name}': a string parameter takes :exact, :contains or :missing, not :{modifier}", target.name
        )
    clause = any_of(row_clause(search_string, v, modifier) for v in values)
    return has_row(search_string, target.resource_type, target.code, clause)
