"""What every parameter builder gets: the registry, this server's base URL, the clock, and a way to recurse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_

from fhir_server.search.query.parameters import ParamName
from fhir_server.search.query.registry import SearchParam, SearchParameterRegistry

#: (resource type, parameter name, raw value, depth) → a condition on ``resource`` rows of that type.
Resolver = Callable[[str | None, ParamName, str, int], ColumnElement[bool]]

#: resource type → the rows of it the caller may see (a condition on ``resource``), or None for all of them.
Visibility = Callable[[str], ColumnElement[bool] | None]

#: Deepest chain / ``_has`` nesting accepted.
MAX_DEPTH = 6


class UnknownParameter(Exception):
    """A parameter this server does not know or cannot search: ignored (lenient) or a 400 (strict)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Target:
    """The parameter being searched: on which resource type, its definition, its name as written."""

    resource_type: str | None
    param: SearchParam
    name: str

    @property
    def code(self) -> str:
        return self.param.code


@dataclass(frozen=True, slots=True)
class QueryContext:
    registry: SearchParameterRegistry
    base_url: str | None  # this server's base (no trailing slash): its absolute references are local
    now: datetime  # naive UTC, for ``ap`` on dates
    resolve: Resolver
    dialect: str | None = None  # the database's, where the best shape of a condition differs
    visible: Visibility | None = None  # what the caller may see of the types chains and _has look through

    def restricted(self, resource_type: str | None, inner: ColumnElement[bool]) -> ColumnElement[bool]:
        """``inner`` (a condition on ``resource_type`` rows) limited to the rows the caller may see."""
        if self.visible is None or resource_type is None:
            return inner
        restriction = self.visible(resource_type)
        return inner if restriction is None else and_(inner, restriction)
