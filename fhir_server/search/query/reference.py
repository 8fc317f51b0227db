"""reference parameters: values, ``:[type]``, ``:identifier``, and forward chaining (``subject:Patient.name=x``).

Values: ``123`` (any type), ``Patient/123``, ``Patient/123/_history/2``, this server's absolute URL (the same as
the relative form), any other absolute URL (matched as written), and canonicals ``url`` or ``url|version``.

The index keeps the URL of absolute references next to their type and id (``search.index.references``), so a
local search (``Patient/123``) matches rows with no URL or with this server's URL, never another server's
``…/Patient/123``.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, FromClause, and_, select, union

from fhir_server.errors import bad_request
from fhir_server.search.query.context import QueryContext, Target
from fhir_server.search.query.parameters import ParamName, split_unescaped, unescape
from fhir_server.search.query.sql import any_of, has_row, index_rids, live_resources, member_of
from fhir_server.search.query.token import parse_token, token_clause
from fhir_server.storage.schema import resource, search_reference, search_uri

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
MAX_URI = 1000


def _is_absolute(value: str) -> bool:
    return "://" in value or value.startswith(("urn:", "#"))


def check_type(ctx: QueryContext, target: Target, type_name: str) -> str:
    if not ctx.registry.is_resource_type(type_name):
        raise bad_request(
            f"'{target.name}': ':{type_name}' is neither a resource type nor a modifier of reference parameters "
            "(:identifier, :missing, :[type])",
            target.name,
        )
    targets = target.param.targets
    if targets and type_name not in targets and "Resource" not in targets:
        raise bad_request(f"'{target.name}': '{target.code}' does not refer to {type_name}", target.name)
    return type_name


def _relative_clause(
    ctx: QueryContext, table: FromClause, target: Target, value: str, type_name: str | None
) -> ColumnElement[bool]:
    segments = value.split("/")
    version = None
    if len(segments) == 4 and segments[2] == "_history" and segments[3]:
        version, segments = segments[3], segments[:2]
    if len(segments) == 1:
        found_type, found_id = type_name, segments[0]
    elif len(segments) == 2:
        found_type, found_id = check_type(ctx, target, segments[0]), segments[1]
        if type_name is not None and type_name != found_type:
            raise bad_request(f"'{target.name}': the value {value} is not a {type_name}", target.name)
    else:
        found_type = found_id = None
    if found_id is None or not _ID.fullmatch(found_id):
        raise bad_request(
            f"'{target.name}': '{value}' is not a reference (id, Type/id, Type/id/_history/vid or an absolute URL)",
            target.name,
        )
    clauses = [table.c.target_id == found_id]
    if found_type is not None:
        clauses.append(table.c.target_type == found_type)
    if version is not None:
        clauses.append(table.c.version == version)
    return and_(*clauses)  # only local references have a target_id (search/index/references.py)


def row_clause(
    ctx: QueryContext, table: FromClause, target: Target, raw: str, type_name: str | None = None
) -> ColumnElement[bool]:
    parts = split_unescaped(raw, "|")
    value = unescape(parts[0])
    base = ctx.base_url
    if base is not None and value.startswith(base + "/") and len(parts) == 1:
        return _relative_clause(ctx, table, target, value[len(base) + 1 :], type_name)
    if _is_absolute(value):
        if len(parts) > 2:
            raise bad_request(f"'{target.name}': a canonical reference is url or url|version", target.name)
        clauses = [table.c.url == value[:MAX_URI]]
        if len(parts) == 2 and parts[1]:
            clauses.append(table.c.version == unescape(parts[1]))
        return and_(*clauses)
    if len(parts) != 1:
        raise bad_request(f"'{target.name}': '{raw}' is not a reference", target.name)
    return _relative_clause(ctx, table, target, value, type_name)


def condition(ctx: QueryContext, target: Target, modifier: str | None, values: list[str]) -> ColumnElement[bool]:
    table = search_reference
    if modifier == "identifier":
        clause = any_of(
            token_clause(table.c.identifier_system, table.c.identifier_value, parse_token(v, target.name))
            for v in values
        )
    else:
        type_name = check_type(ctx, target, modifier) if modifier is not None else None
        clause = any_of(row_clause(ctx, table, target, v, type_name) for v in values)
    return has_row(table, target.resource_type, target.code, clause)


def chain_type(ctx: QueryContext, target: Target, modifier: str | None, chain: ParamName) -> str:
    """The type a chain continues on: ``:Type`` if given, else the parameter's only target type."""
    if modifier is not None:
        return check_type(ctx, target, modifier)
    targets = [t for t in target.param.targets if t != "Resource"]
    if len(targets) == 1:
        return targets[0]
    listed = ", ".join(targets[:8]) + (", …" if len(targets) > 8 else "")
    example = f"{target.code}:{targets[0] if targets else 'Patient'}.{chain.raw}"
    raise bad_request(
        f"'{target.name}': '{target.code}' can refer to several resource types ({listed}); name the one to chain "
        f"through, e.g. {example}",
        target.name,
    )


def references_to(
    ctx: QueryContext, source_type: str | None, code: str, target_type: str, matches: ColumnElement[bool]
) -> ColumnElement[bool]:
    """Resources of ``source_type`` whose ``code`` reference points at a ``target_type`` resource matching
    ``matches`` — by type and id, or, for canonical resources, by their ``url``."""
    ref = search_reference
    ids = live_resources(target_type, matches, column="id")
    by_id = index_rids(ref, source_type, code, member_of(ref.c.target_id, ids), ref.c.target_type == target_type)
    url_param = ctx.registry.get(target_type, "url")
    if url_param is None or url_param.type != "uri" or not url_param.supported:
        return resource.c.rid.in_(by_id)
    urls = (
        select(search_uri.c.value)
        .where(
            search_uri.c.resource_type == target_type,
            search_uri.c.param == "url",
            search_uri.c.rid.in_(live_resources(target_type, matches)),
        )
        .correlate(None)
    )
    by_url = index_rids(ref, source_type, code, member_of(ref.c.url, urls))
    return resource.c.rid.in_(union(by_id, by_url))


def chain_condition(
    ctx: QueryContext, target: Target, modifier: str | None, chain: ParamName, value: str, depth: int
) -> ColumnElement[bool]:
    if target.param.type != "reference":
        raise bad_request(
            f"'{target.name}': only reference parameters can be chained; '{target.code}' is a {target.param.type}",
            target.name,
        )
    if modifier == "identifier":
        raise bad_request(f"'{target.name}': :identifier cannot be chained", target.name)
    target_type = chain_type(ctx, target, modifier, chain)
    inner = ctx.restricted(target_type, ctx.resolve(target_type, chain, value, depth + 1))
    return references_to(ctx, target.resource_type, target.code, target_type, inner)
