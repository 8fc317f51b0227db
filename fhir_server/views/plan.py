"""A validated ViewDefinition turned into a tree of compiled selects, ready to run many times."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fhirpathpy.engine.nodes import ResourceNode

from fhir_server.views.fhirpath import CompiledPath
from fhir_server.views.validate import constant_value, validate_view

# Constants of these types are handed to fhirpathpy as typed nodes, so that comparisons with
# resource elements of the same type follow the FHIRPath date/time rules.
_TEMPORAL_TYPES = frozenset({"date", "dateTime", "instant", "time"})


@dataclass(frozen=True)
class CompiledColumn:
    name: str
    path: CompiledPath
    collection: bool


@dataclass
class CompiledSelect:
    columns: list[CompiledColumn]
    for_each: CompiledPath | None = None
    or_null: bool = False
    selects: list[CompiledSelect] = field(default_factory=list)
    union_all: list[CompiledSelect] = field(default_factory=list)
    column_names: list[str] = field(default_factory=list)

    def null_row(self) -> dict[str, Any]:
        return dict.fromkeys(self.column_names)


@dataclass
class CompiledView:
    resource_type: str
    constants: dict[str, Any]
    where: list[CompiledPath]
    root: CompiledSelect

    @property
    def column_names(self) -> list[str]:
        return self.root.column_names


def _constant(fhir_type: str, value: Any) -> Any:
    if fhir_type in _TEMPORAL_TYPES and isinstance(value, str):
        return ResourceNode.create_node(value, fhir_type)
    if fhir_type == "decimal" and isinstance(value, float | int):
        return Decimal(str(value))
    return value


def compile_view(view: dict[str, Any]) -> CompiledView:
    """Check the view and compile every path in it once (raises ViewDefinitionError)."""
    validate_view(view)
    constants: dict[str, Any] = {}
    for entry in view.get("constant", []):
        name, fhir_type, value = constant_value(entry)
        constants[name] = _constant(fhir_type, value)
    known = set(constants)
    where = [CompiledPath(item["path"], known) for item in view.get("where", [])]
    root = _compile_select({"select": view["select"]}, known)
    return CompiledView(view["resource"], constants, where, root)


def _compile_select(select: dict[str, Any], known: set[str]) -> CompiledSelect:
    columns = [
        CompiledColumn(column["name"], CompiledPath(column["path"], known), column.get("collection") is True)
        for column in select.get("column", [])
    ]
    for_each_path = select.get("forEach", select.get("forEachOrNull"))
    compiled = CompiledSelect(
        columns=columns,
        for_each=CompiledPath(for_each_path, known) if for_each_path is not None else None,
        or_null="forEachOrNull" in select,
        selects=[_compile_select(nested, known) for nested in select.get("select", [])],
        union_all=[_compile_select(branch, known) for branch in select.get("unionAll", [])],
    )
    names = [column.name for column in columns]
    for nested in compiled.selects:
        names.extend(nested.column_names)
    if compiled.union_all:
        names.extend(compiled.union_all[0].column_names)
    compiled.column_names = names
    return compiled
