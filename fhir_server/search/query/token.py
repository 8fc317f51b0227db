"""token parameters: ``code``, ``system|code``, ``|code`` (no system), ``system|`` (any code in the system), and
the modifiers ``:not``, ``:text``, ``:of-type``, ``:in``, ``:not-in`` (``:missing`` is generic, in ``builder``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_

from fhir_server.errors import bad_request
from fhir_server.search.index.normalize import MAX_STRING, normalize_string
from fhir_server.search.query.context import QueryContext, Target
from fhir_server.search.query.parameters import split_unescaped, unescape
from fhir_server.search.query.sql import all_of, any_of, has_no_row, has_row, starts_with
from fhir_server.storage.schema import search_token

MODIFIERS = frozenset({"not", "text", "of-type", "in", "not-in"})
UNSUPPORTED = frozenset({"above", "below"})  # subsumption needs a terminology server


@dataclass(frozen=True, slots=True)
class Token:
    system: str | None  # None: any system; "": no system
    code: str | None  # None: any code


def parse_token(raw: str, name: str) -> Token:
    parts = split_unescaped(raw, "|")
    if len(parts) == 1:
        return Token(None, unescape(parts[0])[:MAX_STRING])
    if len(parts) == 2:
        system, code = unescape(parts[0])[:MAX_STRING], unescape(parts[1])[:MAX_STRING]
        if not system and not code:
            raise bad_request(f"'{name}': a token needs a system or a code", name)
        return Token(system, code or None)
    raise bad_request(f"'{name}': a token is [system|]code, with '|' inside values escaped as '\\|'", name)


def token_clause(system: ColumnElement[Any], code: ColumnElement[Any], token: Token) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    if token.code is not None:
        clauses.append(code == token.code)
    if token.system == "":
        clauses.append(system.is_(None))
    elif token.system is not None:
        clauses.append(system == token.system)
    return all_of(clauses)


def row_clause(table: FromClause, raw: str, name: str) -> ColumnElement[bool]:
    return token_clause(table.c.system, table.c.code, parse_token(raw, name))


def tokens_clause(table: FromClause, values: list[str], name: str) -> ColumnElement[bool]:
    """Any of the tokens ``values``; those with the same system and a code as one ``code IN (…) AND system = …``
    (one index lookup, and one statement to compile whatever the number of codes, where an OR of them would be a
    lookup each: a worker finding the episodes of a hundred appointments at once)."""
    tokens = [parse_token(v, name) for v in values]
    by_system: dict[str, list[str]] = defaultdict(list)
    for token in tokens:
        if token.system and token.code is not None:
            by_system[token.system].append(token.code)
    clauses: list[ColumnElement[bool]] = []
    for token in tokens:
        if not (token.system and token.code is not None):
            clauses.append(token_clause(table.c.system, table.c.code, token))
        elif token.system in by_system:
            codes = list(dict.fromkeys(by_system.pop(token.system)))
            code = table.c.code == codes[0] if len(codes) == 1 else table.c.code.in_(codes)
            clauses.append(and_(code, table.c.system == token.system))
    return any_of(clauses)


def _of_type(table: FromClause, raw: str, name: str) -> ColumnElement[bool]:
    parts = [unescape(p)[:MAX_STRING] for p in split_unescaped(raw, "|")]
    if len(parts) != 3 or not all(parts):
        raise bad_request(f"'{name}': :of-type takes type-system|type-code|value", name)
    return and_(table.c.type_system == parts[0], table.c.type_code == parts[1], table.c.code == parts[2])


def value_set_clause(ctx: QueryContext, table: FromClause, raw: str, name: str) -> ColumnElement[bool]:
    """The codes of a ValueSet the server holds, grouped by system: ``system = s AND code IN (…)`` per system."""
    url = unescape(raw)
    expansion = ctx.registry.expand_value_set(url)
    if expansion is None:
        raise bad_request(
            f"'{name}': the ValueSet '{url}' is not known here or cannot be expanded (only ValueSets of the loaded "
            "packages that enumerate their codes are supported)",
            name,
        )
    by_system: dict[str, list[str]] = defaultdict(list)
    for system, code in sorted(expansion):
        by_system[system].append(code)
    return any_of(and_(table.c.system == system, table.c.code.in_(codes)) for system, codes in by_system.items())


def condition(ctx: QueryContext, target: Target, modifier: str | None, values: list[str]) -> ColumnElement[bool]:
    table, rt, code, name = search_token, target.resource_type, target.code, target.name
    if modifier in UNSUPPORTED:
        raise bad_request(f"'{name}': :{modifier} on tokens is not supported (no subsumption testing)", name)
    if modifier is not None and modifier not in MODIFIERS:
        raise bad_request(
            f"'{name}': a token parameter takes :not, :text, :of-type, :in, :not-in or :missing, not :{modifier}",
            name,
        )
    if modifier == "text":
        clause = any_of(starts_with(table.c.text, normalize_string(unescape(v))[:MAX_STRING]) for v in values)
        return has_row(table, rt, code, clause)
    if modifier == "of-type":
        return has_row(table, rt, code, any_of(_of_type(table, v, name) for v in values))
    if modifier in ("in", "not-in"):
        clause = any_of(value_set_clause(ctx, table, v, name) for v in values)
        return has_no_row(table, rt, code, clause) if modifier == "not-in" else has_row(table, rt, code, clause)
    clause = tokens_clause(table, values, name)
    return has_no_row(table, rt, code, clause) if modifier == "not" else has_row(table, rt, code, clause)
