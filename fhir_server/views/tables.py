"""The SQL table a ViewDefinition is materialized into, and its rows as that table stores them.

    table = view_table(view)                   # view_<name>: _resource (indexed) + one column per view column
    store = row_converter(view)                # a runner row -> the values to insert

Column types follow the view's column `type`, so that indicators can compute in plain SQL on both
backends: integer types -> INTEGER, decimal -> double precision (REAL on SQLite), boolean ->
BOOLEAN, everything else text. Dates and times stay the ISO strings FHIR writes, which compare
correctly as strings ('2026-03-01' < '2026-03-01T10:00' < '2026-04-01') on both backends. A
`collection: true` column, and any complex value (a Coding, a Period), is stored as JSON text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from sqlalchemy import Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.types import TypeEngine

from fhir_server.views.errors import ViewDefinitionError

RESOURCE_COLUMN = "_resource"
TABLE_PREFIX = "view_"

_VIEW_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_MAX_IDENTIFIER = 63  # PostgreSQL's limit; the index name adds "ix_" and "__resource"

INTEGER_TYPES = frozenset({"integer", "positiveInt", "unsignedInt", "integer64"})
DECIMAL_TYPES = frozenset({"decimal"})
BOOLEAN_TYPES = frozenset({"boolean"})

Converter = Callable[[Any], Any]


def view_name(view: dict[str, Any]) -> str:
    """The view's `name`, checked usable in a table name (ViewDefinitionError otherwise)."""
    name = view.get("name")
    if not isinstance(name, str) or not _VIEW_NAME.match(name):
        raise ViewDefinitionError(f"a materialized view needs a 'name' of letters, digits and _, got {name!r}")
    if len(f"ix_{TABLE_PREFIX}{name}_{RESOURCE_COLUMN}") > _MAX_IDENTIFIER:
        raise ViewDefinitionError(f"view name {name!r} is too long for a table name")
    return name


def table_name(name: str) -> str:
    return f"{TABLE_PREFIX}{name}"


def column_types(view: dict[str, Any]) -> dict[str, tuple[str | None, bool]]:
    """Column name -> (its declared FHIR type or None, collection), in the view's column order."""
    found: dict[str, tuple[str | None, bool]] = {}
    for column in _columns(view.get("select", [])):
        name = column["name"]
        if name not in found:  # unionAll branches repeat the names; the first declaration wins
            declared = column.get("type")
            found[name] = (declared if isinstance(declared, str) else None, column.get("collection") is True)
    return found


def _columns(selects: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for select in selects:
        yield from select.get("column", [])
        yield from _columns(select.get("select", []))
        yield from _columns(select.get("unionAll", []))


def _sql_type(fhir_type: str | None, collection: bool) -> TypeEngine[Any]:
    if collection or fhir_type is None:
        return Text()
    if fhir_type in INTEGER_TYPES:
        return Integer()
    if fhir_type in DECIMAL_TYPES:
        return Float(precision=53)  # double precision on PostgreSQL, REAL (8 bytes) on SQLite
    if fhir_type in BOOLEAN_TYPES:
        return Boolean()
    return Text()


def view_table(view: dict[str, Any], names: list[str]) -> Table:
    """The SQLAlchemy Table of a view whose columns are `names` (the runner's order), on a MetaData of its own:
    view tables are made and dropped at run time, not by the migrations."""
    types = column_types(view)
    name = table_name(view_name(view))
    columns = [Column(RESOURCE_COLUMN, String(64), nullable=False)]
    columns += [Column(column, _sql_type(*types.get(column, (None, False))), nullable=True) for column in names]
    return Table(
        name,
        MetaData(),
        *columns,
        Index(f"ix_{name}_{RESOURCE_COLUMN}", RESOURCE_COLUMN),
    )


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return _json_text(value)


def _as_integer(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ViewDefinitionError(f"{value!r} is not an integer")


def _as_decimal(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ViewDefinitionError(f"{value!r} is not a decimal")


def _as_boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ViewDefinitionError(f"{value!r} is not a boolean")


def _as_collection(value: Any) -> str | None:
    return None if value is None else _json_text(value)


def _converter(fhir_type: str | None, collection: bool) -> Converter:
    if collection:
        return _as_collection
    if fhir_type in INTEGER_TYPES:
        return _as_integer
    if fhir_type in DECIMAL_TYPES:
        return _as_decimal
    if fhir_type in BOOLEAN_TYPES:
        return _as_boolean
    return _as_text


def row_converter(view: dict[str, Any], names: list[str]) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """A function (resource id, runner row) -> the row to insert, each value as its column stores it.

    A value that does not fit its declared type (text in an integer column) raises ViewDefinitionError naming
    the column."""
    types = column_types(view)
    converters = [(name, _converter(*types.get(name, (None, False)))) for name in names]

    def convert(resource_id: str, row: dict[str, Any]) -> dict[str, Any]:
        stored: dict[str, Any] = {RESOURCE_COLUMN: resource_id}
        for name, to_column in converters:
            try:
                stored[name] = to_column(row.get(name))
            except ViewDefinitionError as exc:
                raise ViewDefinitionError(f"column {name!r}: {exc}") from None
        return stored

    return convert
