"""SQL building blocks shared by the parameter types.

Every condition is on the outer ``resource`` row and has one of these shapes:

- ``resource.rid IN (SELECT rid FROM search_x WHERE resource_type = :t AND param = :p AND …)``: uncorrelated, so
  the planner may start from the index on ``(resource_type, param, …)`` or probe it per row, whichever is cheaper;
- ``NOT EXISTS (SELECT 1 FROM search_x WHERE rid = resource.rid AND …)`` for negations (``:not``,
  ``:missing=true``, ``:not-in``): an anti-join on both databases (PostgreSQL turns a large ``NOT IN`` into a
  per-row scan of the subquery);
- ``resource.id IN (SELECT target_id …)`` for reverse chains.

Where one type's matches feed a lookup in another (chains, ``_has``, ``_list``), ``member_of`` renders
``= ANY(ARRAY(subquery))`` on PostgreSQL: the inner search runs once, as an InitPlan, however bad the row
estimates (tables without statistics otherwise get nested loops that rescan every inner level per outer row).

Subqueries are built with ``correlate(None)``: the same tables appear at several depths of a chain, and
SQLAlchemy must not tie an inner ``resource`` or ``search_reference`` to an outer one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import Boolean, ColumnElement, FromClause, Select, and_, exists, false, not_, or_, select, true, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import AsBoolean, BinaryExpression, BindParameter, BooleanClauseList, Grouping
from sqlalchemy.sql.selectable import CompoundSelect, ScalarSelect
from sqlalchemy.sql.visitors import InternalTraversal

from fhir_server.storage.schema import (
    resource,
    search_date,
    search_number,
    search_quantity,
    search_reference,
    search_string,
    search_token,
    search_uri,
)

#: The index table each SearchParameter type is stored in.
TYPE_TABLES: dict[str, FromClause] = {
    "string": search_string,
    "token": search_token,
    "reference": search_reference,
    "date": search_date,
    "number": search_number,
    "quantity": search_quantity,
    "uri": search_uri,
}

_SURROGATES = range(0xD800, 0xE000)
MAX_UNION = 100  # SQLite allows 500 SELECTs in a compound; longer OR lists stay one scan


LIVE = not_(resource.c.deleted)


@lru_cache(maxsize=1024)
def of_type(resource_type: str) -> ColumnElement[bool]:
    """``resource.resource_type = …``, built once per type (SQL expressions are immutable, so shared)."""
    return resource.c.resource_type == resource_type


@lru_cache(maxsize=4096)
def _rows_of(table: FromClause, resource_type: str | None, param: str) -> tuple[ColumnElement[bool], ...]:
    """``resource_type = … AND param = …`` on an index table, built once per table, type and parameter: a search
    plan is built for every search and conditional write, and building SQL expressions is most of its cost."""
    if resource_type is None:
        return (table.c.param == param,)
    return table.c.resource_type == resource_type, table.c.param == param


def index_rids(table: FromClause, resource_type: str | None, param: str, *clauses: ColumnElement[bool]) -> Select[Any]:
    """``SELECT rid FROM table WHERE resource_type = … AND param = … AND clauses`` (uncorrelated)."""
    return select(table.c.rid).where(*_rows_of(table, resource_type, param), *clauses).correlate(None)


def alternatives(clause: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    """The terms of a (nested) OR, or the clause itself."""
    while isinstance(clause, Grouping):
        clause = clause.element
    if isinstance(clause, BooleanClauseList) and clause.operator is operators.or_:
        return [term for part in clause.clauses for term in alternatives(part)]
    return [clause]


def has_row(
    table: FromClause, resource_type: str | None, param: str, clause: ColumnElement[bool]
) -> ColumnElement[bool]:
    """``rid IN (SELECT rid … WHERE clause)``; an OR becomes a UNION of one index lookup per term (SQLite cannot
    use an index for ``rt = ? AND param = ? AND (code = ? OR code = ?)``; PostgreSQL does as well either way)."""
    terms = alternatives(clause)
    if len(terms) == 1 or len(terms) > MAX_UNION:
        return resource.c.rid.in_(index_rids(table, resource_type, param, clause))
    return resource.c.rid.in_(union(*(index_rids(table, resource_type, param, term) for term in terms)))


def has_no_row(
    table: FromClause, resource_type: str | None, param: str, clause: ColumnElement[bool] | None = None
) -> ColumnElement[bool]:
    """No index row of the parameter (matching ``clause``) for the enclosing ``resource`` row."""
    where: list[ColumnElement[bool]] = [table.c.rid == resource.c.rid, table.c.param == param]
    if resource_type is not None:
        where.append(table.c.resource_type == resource_type)
    if clause is not None:
        where.append(clause)
    return not_(exists().where(*where).correlate(resource))


class MemberOf(ColumnElement[bool]):
    """``column IN (subquery)``; on PostgreSQL ``column = ANY(ARRAY(subquery))`` (evaluated once)."""

    __visit_name__ = "ryggrad_member_of"
    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("query", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], query: Select[Any]) -> None:
        self.column = column
        self.query = query


@compiles(MemberOf)
def _member_of(element: MemberOf, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} IN {compiler.process(element.query.scalar_subquery(), **kw)}"


@compiles(MemberOf, "postgresql")
def _member_of_postgresql(element: MemberOf, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY(ARRAY{compiler.process(element.query.scalar_subquery(), **kw)})"


def member_of(column: ColumnElement[Any], query: Select[Any]) -> ColumnElement[bool]:
    return MemberOf(column, query)


def live_resources(resource_type: str, *conditions: ColumnElement[bool], column: str = "rid") -> Select[Any]:
    """``SELECT rid|id FROM resource WHERE resource_type = … AND NOT deleted AND conditions`` (uncorrelated)."""
    return select(resource.c[column]).where(of_type(resource_type), LIVE, *conditions).correlate(None)


def any_of(clauses: Iterable[ColumnElement[bool]]) -> ColumnElement[bool]:
    items = list(clauses)
    if not items:
        return false()
    return items[0] if len(items) == 1 else or_(*items)


def all_of(clauses: Iterable[ColumnElement[bool]]) -> ColumnElement[bool]:
    items = list(clauses)
    if not items:
        return true()
    return items[0] if len(items) == 1 else and_(*items)


def successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (code point order), or None."""
    chars = list(prefix)
    while chars:
        point = ord(chars[-1]) + 1
        if point in _SURROGATES:
            point = _SURROGATES.stop
        if point <= sys.maxunicode:
            chars[-1] = chr(point)
            return "".join(chars)
        chars.pop()
    return None


def starts_with(column: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
    """``column >= prefix AND column < successor(prefix)``: a B-tree range on both SQLite and PostgreSQL.

    Exact under code point order: SQLite's BINARY collation, and PostgreSQL with a ``C``/``C.UTF-8`` collation
    on the column (the database default here; see the module notes in ``builder``).
    """
    if not prefix:
        return column.is_not(None)
    upper = successor(prefix)
    return and_(column >= prefix, column < upper) if upper is not None else column >= prefix


_INDEX_TABLE_NAMES = frozenset(table.name for table in TYPE_TABLES.values())  # type: ignore[attr-defined]


def rid_source(condition: ColumnElement[bool]) -> Select[Any] | CompoundSelect | None:
    """The subquery of ``resource.rid IN (subquery)``, or None for a condition of another shape."""
    if not isinstance(condition, BinaryExpression) or condition.operator is not operators.in_op:
        return None
    if condition.left is not resource.c.rid:
        return None
    right: Any = condition.right
    while isinstance(right, Grouping | ScalarSelect):
        right = right.element
    return right if isinstance(right, Select | CompoundSelect) else None


def _selected_table(select_: Select[Any]) -> Any:
    """The table (or alias) of the ``rid`` column ``select_`` selects alone, or None. Cheap: no compilation
    (unlike ``get_final_froms``). Other FROMs a select may name through its WHERE clause only filter its rows."""
    columns = list(select_.selected_columns)
    if len(columns) != 1 or getattr(columns[0], "name", None) != "rid":
        return None
    return getattr(columns[0], "table", None)


def _live_of_type(select_: Select[Any]) -> str | None:
    """The type of a ``live_resources`` statement (``resource``, ``resource_type = :t AND NOT deleted``)."""
    if _selected_table(select_) is not resource or select_.whereclause is None:
        return None
    where: Any = select_.whereclause
    terms = (
        list(where.clauses) if isinstance(where, BooleanClauseList) and where.operator is operators.and_ else [where]
    )
    if not any(isinstance(t, AsBoolean) and t.element is resource.c.deleted for t in terms):
        return None
    for term in terms:
        if (
            isinstance(term, BinaryExpression)
            and term.left is resource.c.resource_type
            and term.operator is operators.eq
            and isinstance(term.right, BindParameter)
        ):
            return str(term.right.value)
    return None


def implies_live(source: Select[Any] | CompoundSelect, resource_type: str | None = None) -> bool:
    """Whether every rid ``source`` gives is a live resource (of ``resource_type``, where given): rows of index
    tables (which exist for live resources only, under their own type), or ``live_resources`` of that type."""
    if isinstance(source, CompoundSelect):
        return all(implies_live(part, resource_type) for part in source.selects)  # type: ignore[arg-type]
    live_type = _live_of_type(source)
    if live_type is not None:
        return resource_type is None or live_type == resource_type
    table = _selected_table(source)
    table = getattr(table, "element", table)  # an alias of an index table
    return getattr(table, "name", None) in _INDEX_TABLE_NAMES


def live_rids(condition: ColumnElement[bool]) -> Select[Any] | CompoundSelect | None:
    """The rid set of ``resource.rid IN (…)`` when its rids are all live resources (index rows or
    ``live_resources``), else None: such a set needs no second look at ``resource``."""
    source = rid_source(condition)
    return source if source is not None and implies_live(source) else None
