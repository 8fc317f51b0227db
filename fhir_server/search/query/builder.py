"""Search parameters → SQL conditions on ``resource`` (the query builder's entry point).

``build_conditions("Observation", [("code", "http://loinc.org|8480-6"), ("date", "ge2024")], registry,
strict=False, base_url=...)`` gives a ``SearchPlan``: its ``conditions`` go straight into
``select(...).where(*plan.conditions)``. Repeating a parameter ANDs (one condition each); commas inside a value OR.

Result controls (``_count``, ``_sort``, ``_include`` …) are passed through untouched in ``plan.controls``.
Unknown or unsupported parameters are a 400 when ``strict``, else left out and listed in ``plan.unknown`` (and
``plan.issues()`` for the searchset's OperationOutcome). Malformed values, unknown modifiers and bad chains are
always a 400 naming the parameter.

Prefix matching (``starts_with``) is a B-tree range and assumes code point collation on the indexed text
columns: SQLite's default, and PostgreSQL's ``C``/``C.UTF-8`` (the database default here). A PostgreSQL
database with a linguistic collation needs those columns declared ``COLLATE "C"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement

from fhir_server.errors import Issue, bad_request
from fhir_server.search.query import composite, date, has, number, quantity, reference, special, string, token, uri
from fhir_server.search.query.context import MAX_DEPTH, QueryContext, Target, UnknownParameter, Visibility
from fhir_server.search.query.parameters import ParamName, parse_missing, parse_name, split_or
from fhir_server.search.query.registry import SearchParam, SearchParameterRegistry
from fhir_server.search.query.sql import LIVE, TYPE_TABLES, has_no_row, index_rids, of_type
from fhir_server.storage.schema import resource

#: Parameters about the result set rather than matching: returned in ``plan.controls`` as given.
CONTROL_PARAMETERS = frozenset(
    {
        "_count",
        "_sort",
        "_include",
        "_revinclude",
        "_summary",
        "_elements",
        "_total",
        "_page",
        "_format",
        "_pretty",
        "_contained",
        "_containedType",
        "_type",
    }
)

#: The modifiers each parameter type takes here (``[type]``: any resource type the reference can point at), for
#: the CapabilityStatement. Every parameter also chains (references) and reverse-chains (``_has``).
SUPPORTED_MODIFIERS: dict[str, tuple[str, ...]] = {
    "string": ("missing", "exact", "contains"),
    "token": ("missing", "not", "text", "of-type", "in", "not-in"),
    "reference": ("missing", "identifier", "[type]"),
    "date": ("missing",),
    "number": ("missing",),
    "quantity": ("missing",),
    "uri": ("missing", "above", "below"),
    "composite": ("missing",),
}

_TYPES = {
    "string": string.condition,
    "token": token.condition,
    "reference": reference.condition,
    "date": date.condition,
    "number": number.condition,
    "quantity": quantity.condition,
    "uri": uri.condition,
    "composite": composite.condition,
}


class _EmptyValue(Exception):
    """A parameter without a value: ignored, as if absent."""


@dataclass
class SearchPlan:
    resource_type: str | None
    #: WHERE conditions on ``resource``, the type (when given) and ``NOT deleted`` included.
    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    #: Matching parameters applied, as given (for the self link).
    used: list[tuple[str, str]] = field(default_factory=list)
    #: (parameter name, why it was ignored) — lenient handling only.
    unknown: list[tuple[str, str]] = field(default_factory=list)
    #: Result-control parameters, as given, for the search interaction.
    controls: list[tuple[str, str]] = field(default_factory=list)

    def issues(self) -> list[Issue]:
        """Warnings for the searchset's OperationOutcome, one per ignored parameter."""
        return [
            Issue("not-supported", f"Search parameter '{name}' was ignored: {why}", "warning", (name,))
            for name, why in self.unknown
        ]


class _Builder:
    def __init__(
        self,
        registry: SearchParameterRegistry,
        base_url: str | None,
        now: datetime,
        dialect: str | None,
        visible: Visibility | None = None,
    ) -> None:
        self.registry = registry
        base = base_url.rstrip("/") if base_url else None
        self.ctx = QueryContext(registry, base, now, self.resolve, dialect, visible)

    def resolve(self, resource_type: str | None, name: ParamName, value: str, depth: int) -> ColumnElement[bool]:
        """The condition for one parameter (a chain or ``_has`` recursing here) on ``resource_type`` rows."""
        if depth > MAX_DEPTH:
            raise bad_request(f"'{name.raw}': chains and _has nest at most {MAX_DEPTH} deep", name.raw)
        if not value or (name.modifier != "missing" and not split_or(value)):
            raise _EmptyValue
        if name.has is not None:
            return has.condition(self.ctx, resource_type, name.has, name.raw, value, depth)
        if name.code in special.SPECIAL and name.chain is None:
            return special.condition(self.ctx, resource_type, name.code, name.raw, name.modifier, value)
        if name.code in special.UNSUPPORTED:
            raise UnknownParameter(special.UNSUPPORTED[name.code])
        param = self.registry.get(resource_type, name.code)
        if param is None:
            raise UnknownParameter(f"{resource_type or 'a search across types'} has no search parameter '{name.code}'")
        if not param.supported:
            raise UnknownParameter(f"'{name.code}' ({param.type or 'untyped'}) is not supported")
        target = Target(resource_type, param, name.raw)
        if name.chain is not None:
            return reference.chain_condition(self.ctx, target, name.modifier, name.chain, value, depth)
        if name.modifier == "missing":
            return self.missing(target, parse_missing(value, name.raw))
        return _TYPES[param.type](self.ctx, target, name.modifier, split_or(value))

    def missing(self, target: Target, missing: bool) -> ColumnElement[bool]:
        """``:missing=true``: no index row for the parameter; ``false``: at least one."""
        if target.param.type == "composite":
            first = composite.components(self.ctx, target)[0]
            table, param = TYPE_TABLES[first.type], f"{target.code}$0"
        else:
            table, param = TYPE_TABLES[target.param.type], target.code
        if missing:
            return has_no_row(table, target.resource_type, param)
        return resource.c.rid.in_(index_rids(table, target.resource_type, param))


@dataclass
class _DateGroup:
    param: SearchParam
    values: list[str] = field(default_factory=list)
    answered: bool = False


def _date_groups(
    resource_type: str | None, params: Sequence[tuple[str, str]], registry: SearchParameterRegistry
) -> dict[str, _DateGroup]:
    """Date parameters given more than once, each time one value and no modifier, by name: answered together by
    ``date.group_condition`` (a resource with one value must meet them all with that value)."""
    found: dict[str, _DateGroup] = {}
    for name, value in params:
        if ":" in name or "." in name or name in special.SPECIAL or len(split_or(value)) != 1:
            continue
        param = registry.get(resource_type, name)
        if param is not None and param.supported and param.type == "date":
            found.setdefault(name, _DateGroup(param)).values.append(value)
    return {name: group for name, group in found.items() if len(group.values) > 1}


def build_conditions(
    resource_type: str | None,
    params: Sequence[tuple[str, str]],
    registry: SearchParameterRegistry,
    *,
    strict: bool,
    base_url: str | None = None,
    now: datetime | None = None,
    dialect: str | None = None,
    visible: Visibility | None = None,
) -> SearchPlan:
    """Turn ``params`` (name, value pairs as received) into a ``SearchPlan`` for ``resource_type``.

    ``resource_type`` None: a search across all types (only the common parameters apply). ``base_url``: this
    server's base, so references written as its absolute URLs match their relative form. ``now``: naive UTC, the
    reference point of ``ap`` on dates (default: the current time). ``dialect``: the database's name, where the
    best shape of a condition differs (``_has`` on PostgreSQL). ``visible``: what the caller may see of a type
    (a condition on ``resource``, None for all of it), for the resources chains and ``_has`` look through.
    """
    moment = now or datetime.now(UTC).replace(tzinfo=None)
    builder = _Builder(registry, base_url, moment, dialect, visible)
    plan = SearchPlan(resource_type)
    if resource_type is not None:
        plan.conditions.append(of_type(resource_type))
    plan.conditions.append(LIVE)
    groups = _date_groups(resource_type, params, registry)
    for name, value in params:
        if name.split(":", 1)[0] in CONTROL_PARAMETERS:
            plan.controls.append((name, value))
            continue
        try:
            if name in groups:
                group = groups[name]
                if group.answered:
                    plan.used.append((name, value))
                    continue
                group.answered = True
                condition = date.group_condition(builder.ctx, Target(resource_type, group.param, name), group.values)
            else:
                condition = builder.resolve(resource_type, parse_name(name), value, 0)
        except _EmptyValue:
            continue
        except UnknownParameter as exc:
            if strict:
                raise bad_request(f"Unknown or unsupported search parameter '{name}': {exc.reason}", name) from exc
            plan.unknown.append((name, exc.reason))
            continue
        plan.conditions.append(condition)
        plan.used.append((name, value))
    return plan
