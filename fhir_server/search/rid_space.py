"""A page's resources found in the index tables first, then read from ``resource`` by ``rid``.

Most search conditions are ``resource.rid IN (SELECT rid FROM search_x WHERE …)`` (the query builder's
``has_row``): sets of rids. A page in ``rid`` order is then the first ``_count`` rids of their intersection, which
the database reads straight from the indexes that end in ``rid`` (``(resource_type, param, code, rid, …)``):
a merge of ordered streams that stops after ``_count`` rows, instead of reading every matching resource row
before sorting and cutting. The rows themselves are fetched afterwards, ``_count`` of them.

Index rows exist only for the current, undeleted version of a resource, under its own type, so when the
conditions include such a set, ``resource_type = …`` and ``NOT deleted`` hold for every rid in it. Conditions of
other shapes (``_id``, ``_lastUpdated``, negations) need the ``resource`` row: it is joined for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import AsBoolean, BinaryExpression, BindParameter
from sqlalchemy.sql.selectable import CompoundSelect

from fhir_server.search.query.sql import implies_live, rid_source
from fhir_server.storage.schema import resource


@dataclass
class RidConditions:
    #: uncorrelated ``SELECT rid …`` statements; a match's rid is in each
    sources: list[Select[Any] | CompoundSelect] = field(default_factory=list)
    #: conditions on the ``resource`` row
    residual: list[ColumnElement[bool]] = field(default_factory=list)

    resource_type: str | None = None

    @property
    def indexed(self) -> bool:
        """Whether some source gives live resources of the searched type only (index rows, ``live_resources``)."""
        return any(implies_live(source, self.resource_type) for source in self.sources)


def _is_base(condition: ColumnElement[bool]) -> bool:
    """``resource_type = :t`` or ``NOT deleted``, as the query builder starts every search."""
    if isinstance(condition, BinaryExpression):
        return condition.left is resource.c.resource_type and condition.operator is operators.eq
    return isinstance(condition, AsBoolean) and condition.element is resource.c.deleted


def split(conditions: list[ColumnElement[bool]]) -> RidConditions:
    """``conditions`` as rid sets and the rest; the type and ``NOT deleted`` join the rest unless implied."""
    found = RidConditions()
    base: list[ColumnElement[bool]] = []
    for condition in conditions:
        source = rid_source(condition)
        if source is not None:
            found.sources.append(source)
        elif _is_base(condition):
            base.append(condition)
            if isinstance(condition, BinaryExpression) and isinstance(condition.right, BindParameter):
                found.resource_type = str(condition.right.value)
        else:
            found.residual.append(condition)
    if not found.indexed:
        found.residual = [*base, *found.residual]
    return found


def _driver(found: RidConditions) -> Select[Any] | CompoundSelect:
    """The source to read rids from: a single SELECT of an index table (its index gives rid order) over a UNION."""
    ordered = [s for s in found.sources if isinstance(s, Select) and implies_live(s)]
    return ordered[0] if ordered else found.sources[0]


def matching_rids(found: RidConditions) -> Select[Any]:
    """``SELECT DISTINCT rid …`` of every match, over the index tables (``resource`` joined only for residual
    conditions); uncorrelated. Counting it is ``_total=accurate``."""
    statement, _ = _rids(found)
    return statement.distinct().correlate(None)


def page_rids(found: RidConditions, limit: int, after_rid: int | None) -> Select[Any]:
    """``matching_rids`` after ``after_rid``, in rid order, ``limit`` of them: to put in ``resource.rid IN (…)``."""
    statement, rid = _rids(found)
    if after_rid is not None:
        statement = statement.where(rid > after_rid)
    return statement.distinct().order_by(rid).limit(limit).correlate(None)


def _rids(found: RidConditions) -> tuple[Select[Any], ColumnElement[Any]]:
    chosen = _driver(found)
    driver = chosen.subquery("page_rids")
    rid = driver.c.rid
    statement = select(rid).select_from(driver)
    for source in found.sources:
        if source is not chosen:
            statement = statement.where(rid.in_(source))
    if found.residual:
        statement = statement.join(resource, resource.c.rid == rid).where(and_(*found.residual))
    return statement, rid
