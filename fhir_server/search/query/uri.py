"""uri parameters: exact match (default), ``:below`` (at or under a path), ``:above`` (at or over a path)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, FromClause, or_

from fhir_server.errors import bad_request
from fhir_server.search.query.context import QueryContext, Target
from fhir_server.search.query.parameters import unescape
from fhir_server.search.query.sql import any_of, has_row, starts_with
from fhir_server.storage.schema import search_uri

MODIFIERS = frozenset({"above", "below"})
MAX_URI = 1000


def ancestors(uri: str) -> list[str]:
    """``uri`` and every path above it, with and without a trailing ``/`` (``http://a/b/c`` → ``http://a/b``, …).

    Only URLs (``scheme://authority/path``) have paths; other URIs (``urn:…``) are their own only ancestor.
    """
    found = [uri]
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return found
    path = rest.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    segments = path.split("/")
    for end in range(len(segments), 0, -1):
        base = f"{scheme}://{'/'.join(segments[:end])}"
        found += [base, base + "/"]
    return list(dict.fromkeys(u[:MAX_URI] for u in found))


def row_clause(table: FromClause, raw: str, modifier: str | None = None) -> ColumnElement[bool]:
    uri = unescape(raw)[:MAX_URI]
    if modifier == "above":
        return table.c.value.in_(ancestors(uri))
    if modifier == "below":
        if uri.endswith("/"):
            return starts_with(table.c.value, uri)
        return or_(table.c.value == uri, starts_with(table.c.value, uri + "/"))
    return table.c.value == uri


def condition(ctx: QueryContext, target: Target, modifier: str | None, values: list[str]) -> ColumnElement[bool]:
    if modifier is not None and modifier not in MODIFIERS:
        raise bad_request(
            f"'{target.name}': a uri parameter takes :above, :below or :missing, not :{modifier}", target.name
        )
    clause = any_of(row_clause(search_uri, v, modifier) for v in values)
    return has_row(search_uri, target.resource_type, target.code, clause)
