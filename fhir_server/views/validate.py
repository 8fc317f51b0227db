"""Structure checks of a SQL-on-FHIR v2 ViewDefinition, done before any resource is read.

`validate_view` raises `ViewDefinitionError` naming the first problem: not an object, no
`resource`, no `select`, a select that is not an object, a path or forEach that is not a string,
both forEach and forEachOrNull, a column without a valid name, a repeated column name, unionAll
branches whose columns differ in names or order, a constant without exactly one value[x].
Whether the paths parse is checked when they are compiled (`plan.compile_view`).
"""

from __future__ import annotations

import re
from typing import Any

from fhir_server.views.errors import ViewDefinitionError

_COLUMN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def validate_view(view: Any) -> None:
    if not isinstance(view, dict):
        raise ViewDefinitionError("a ViewDefinition must be a JSON object")
    resource = view.get("resource")
    if not isinstance(resource, str) or not resource:
        raise ViewDefinitionError("a ViewDefinition needs a 'resource' (a FHIR resource type)")
    for constant in _list(view, "constant", "the view"):
        constant_value(constant)
    for where in _list(view, "where", "the view"):
        if not isinstance(where, dict) or not isinstance(where.get("path"), str):
            raise ViewDefinitionError("each 'where' needs a string 'path'")
    selects = _list(view, "select", "the view")
    if not selects:
        raise ViewDefinitionError("a ViewDefinition needs at least one 'select'")
    names: list[str] = []
    for select in selects:
        names.extend(_select_columns(select))
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ViewDefinitionError(f"column name(s) used more than once: {', '.join(repeated)}")


def constant_value(constant: Any) -> tuple[str, str, Any]:
    """(name, FHIR type, value) of one `constant` entry."""
    if not isinstance(constant, dict) or not isinstance(constant.get("name"), str):
        raise ViewDefinitionError("each 'constant' needs a string 'name'")
    values = [(key, value) for key, value in constant.items() if key.startswith("value")]
    if len(values) != 1 or values[0][1] is None:
        raise ViewDefinitionError(f"constant {constant['name']!r} needs exactly one value[x]")
    key, value = values[0]
    fhir_type = key[len("value") :]
    if not fhir_type:
        raise ViewDefinitionError(f"constant {constant['name']!r} needs a typed value[x]")
    return constant["name"], fhir_type[0].lower() + fhir_type[1:], value


def _list(owner: dict, key: str, where: str) -> list:
    value = owner.get(key, [])
    if not isinstance(value, list):
        raise ViewDefinitionError(f"'{key}' of {where} must be a list")
    return value


def _select_columns(select: Any) -> list[str]:
    """The output columns of one select in order (columns, nested selects, then unionAll)."""
    if not isinstance(select, dict):
        raise ViewDefinitionError("each 'select' must be an object")
    for key in ("forEach", "forEachOrNull"):
        if key in select and not isinstance(select[key], str):
            raise ViewDefinitionError(f"'{key}' must be a FHIRPath string, got {select[key]!r}")
    if "forEach" in select and "forEachOrNull" in select:
        raise ViewDefinitionError("a select cannot have both 'forEach' and 'forEachOrNull'")
    names: list[str] = []
    for column in _list(select, "column", "a select"):
        if not isinstance(column, dict):
            raise ViewDefinitionError("each 'column' must be an object")
        name = column.get("name")
        if not isinstance(name, str) or not _COLUMN_NAME.match(name):
            raise ViewDefinitionError(f"invalid column name {name!r}")
        if not isinstance(column.get("path"), str):
            raise ViewDefinitionError(f"column {name!r} needs a string 'path'")
        if "collection" in column and not isinstance(column["collection"], bool):
            raise ViewDefinitionError(f"'collection' of column {name!r} must be a boolean")
        names.append(name)
    for nested in _list(select, "select", "a select"):
        names.extend(_select_columns(nested))
    branches = _list(select, "unionAll", "a select")
    if branches:
        first = _select_columns(branches[0])
        for branch in branches[1:]:
            other = _select_columns(branch)
            if other != first:
                raise ViewDefinitionError(
                    f"unionAll branches must have the same columns in the same order: {first} vs {other}"
                )
        names.extend(first)
    return names
