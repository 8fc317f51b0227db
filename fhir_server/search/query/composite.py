"""composite parameters: ``code-value-quantity=http://loinc.org|8480-6$gt100``.

Component i of parameter ``p`` is indexed under ``p$i`` in its own type's table; the rows taken from one element
(one Observation.component, say) share ``grp``. A search value ``a$b`` matches when one group has a row for each
component matching its part, so a systolic code never pairs with a diastolic value of the same resource.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, FromClause, and_, select

from fhir_server.errors import bad_request
from fhir_server.search.query import date, number, quantity, reference, string, token, uri
from fhir_server.search.query.context import QueryContext, Target, UnknownParameter
from fhir_server.search.query.parameters import split_unescaped
from fhir_server.search.query.registry import SearchParam
from fhir_server.search.query.sql import TYPE_TABLES, any_of
from fhir_server.storage.schema import resource


def components(ctx: QueryContext, target: Target) -> list[SearchParam]:
    found: list[SearchParam] = []
    for component in target.param.components:
        param = ctx.registry.by_url(component.definition)
        if param is None or param.type not in TYPE_TABLES:
            raise UnknownParameter(f"its component {component.definition} is not a searchable SearchParameter")
        found.append(param)
    if not found:
        raise UnknownParameter("it has no components")
    return found


def component_table(target: Target, component: SearchParam, index: int) -> tuple[FromClause, str]:
    """The index table (aliased) and ``param`` value of component ``index``."""
    return TYPE_TABLES[component.type].alias(f"component_{index}"), f"{target.code}${index}"


def _part_clause(
    ctx: QueryContext, table: FromClause, target: Target, component: SearchParam, raw: str
) -> ColumnElement[bool]:
    name = target.name
    kind = component.type
    if kind == "token":
        return token.row_clause(table, raw, name)
    if kind == "string":
        return string.row_clause(table, raw)
    if kind == "date":
        return date.row_clause(table, raw, name, ctx.now)
    if kind == "number":
        return number.row_clause(table, raw, name)
    if kind == "quantity":
        return quantity.row_clause(table, raw, name)
    if kind == "uri":
        return uri.row_clause(table, raw)
    return reference.row_clause(ctx, table, Target(target.resource_type, component, name), raw)


def condition(ctx: QueryContext, target: Target, modifier: str | None, values: list[str]) -> ColumnElement[bool]:
    if modifier is not None:
        raise bad_request(f"'{target.name}': a composite parameter takes only :missing, not :{modifier}", target.name)
    parts_of = components(ctx, target)
    tables = [component_table(target, c, i) for i, c in enumerate(parts_of)]
    alternatives: list[ColumnElement[bool]] = []
    for raw in values:
        parts = split_unescaped(raw, "$")
        if len(parts) != len(parts_of) or not all(parts):
            raise bad_request(
                f"'{target.name}': a value has {len(parts_of)} parts separated by '$' (a '$' inside a part is "
                "escaped as '\\$')",
                target.name,
            )
        alternatives.append(
            and_(*(_part_clause(ctx, t, target, c, p) for (t, _), c, p in zip(tables, parts_of, parts, strict=True)))
        )
    first = tables[0][0]
    query = select(first.c.rid).select_from(first)
    where: list[ColumnElement[bool]] = []
    for index, (table, param) in enumerate(tables):
        if index:
            query = query.join(table, and_(table.c.rid == first.c.rid, table.c.grp == first.c.grp))
        if target.resource_type is not None:
            where.append(table.c.resource_type == target.resource_type)
        where.append(table.c.param == param)
    return resource.c.rid.in_(query.where(*where, any_of(alternatives)).correlate(None))
