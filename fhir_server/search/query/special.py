"""Parameters answered from the ``resource`` table or by convention rather than from their own index rows.

- ``_id`` (token) on ``resource.id``: values, ``:not``, ``:missing``.
- ``_lastUpdated`` (date) on ``resource.last_updated``: every prefix, an instant compared as [t, t + ε).
- ``_list=<List id>``: the resources a List on this server has as ``entry.item`` (the List ``item`` index).

``_tag``, ``_profile``, ``_security`` and ``_source`` are ordinary token/uri parameters (Resource
SearchParameters, indexed like any other) and need nothing here.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, not_, true

from fhir_server.errors import bad_request
from fhir_server.search.query.context import QueryContext, UnknownParameter
from fhir_server.search.query.date import parse_date, point_clause
from fhir_server.search.query.parameters import parse_missing, split_or, unescape
from fhir_server.search.query.sql import any_of, index_rids, live_resources, member_of
from fhir_server.storage.schema import resource, search_reference

#: Handled here whatever the definitions say (``_list`` has no SearchParameter in R4).
SPECIAL = frozenset({"_id", "_lastUpdated", "_list"})
#: Defined for every resource but not searchable here: reported as unsupported.
UNSUPPORTED = {
    "_text": "narrative text search is not supported",
    "_content": "full-text search is not supported",
    "_query": "named queries are not supported",
    "_filter": "_filter is not supported",
}


def _missing(name: str, modifier: str | None, value: str) -> ColumnElement[bool] | None:
    if modifier != "missing":
        return None
    return false() if parse_missing(value, name) else true()  # every resource has an id and a lastUpdated


def id_condition(name: str, modifier: str | None, value: str) -> ColumnElement[bool]:
    missing = _missing(name, modifier, value)
    if missing is not None:
        return missing
    if modifier not in (None, "not"):
        raise bad_request(f"'{name}': _id takes :not or :missing, not :{modifier}", name)
    ids = [unescape(v) for v in split_or(value)]
    matches = resource.c.id.in_(ids)
    return not_(matches) if modifier == "not" else matches


def last_updated_condition(ctx: QueryContext, name: str, modifier: str | None, value: str) -> ColumnElement[bool]:
    missing = _missing(name, modifier, value)
    if missing is not None:
        return missing
    if modifier is not None:
        raise bad_request(f"'{name}': _lastUpdated takes only :missing, not :{modifier}", name)
    clauses = []
    for raw in split_or(value):
        prefix, rng = parse_date(raw, name)
        clauses.append(point_clause(prefix, resource.c.last_updated, rng, ctx.now))
    return any_of(clauses)


def list_condition(resource_type: str | None, name: str, modifier: str | None, value: str) -> ColumnElement[bool]:
    if resource_type is None:
        raise UnknownParameter("_list needs a resource type")
    if modifier is not None:
        raise bad_request(f"'{name}': _list takes no modifier", name)
    ids = [unescape(v) for v in split_or(value)]
    if any(i.startswith("$") for i in ids):
        raise bad_request(f"'{name}': functional lists ({', '.join(ids)}) are not supported", name)
    ref = search_reference
    lists = live_resources("List", resource.c.id.in_(ids))
    members = index_rids(ref, "List", "item", member_of(ref.c.rid, lists), ref.c.target_type == resource_type)
    members = members.with_only_columns(ref.c.target_id)
    return resource.c.id.in_(members)


def condition(
    ctx: QueryContext, resource_type: str | None, code: str, name: str, modifier: str | None, value: str
) -> ColumnElement[bool]:
    if code == "_id":
        return id_condition(name, modifier, value)
    if code == "_lastUpdated":
        return last_updated_condition(ctx, name, modifier, value)
    return list_condition(resource_type, name, modifier, value)
