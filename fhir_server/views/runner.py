"""Run a SQL-on-FHIR v2 ViewDefinition over FHIR resources, yielding one dict per row.

    rows = run_view(view, resources)          # any iterable of resource dicts; lazily

The view is validated and every FHIRPath in it compiled once (`plan.compile_view`); each resource
of the view's `resource` type that passes every `where` (each must give true, false or nothing)
then produces rows as the spec describes: a select's own columns, crossed with the rows of its
nested selects and with the concatenated rows of its unionAll branches, repeated for every item of
its forEach (a forEach with no items gives no rows; forEachOrNull gives one row of nulls).
Rows are dicts whose keys are the view's columns in the spec's order (`view_columns`).

Column values are JSON-ready: strings, booleans, ints, floats (FHIR decimals), dicts for complex
types, lists for `collection: true` columns. FHIRPath details are in `fhirpath.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fhir_server.views.errors import ViewDefinitionError
from fhir_server.views.fhirpath import plain, reset_clock
from fhir_server.views.plan import CompiledSelect, CompiledView, compile_view

__all__ = ["ViewDefinitionError", "compile_view", "run_compiled", "run_view", "view_columns"]

_UCUM = "http://unitsofmeasure.org"


def view_columns(view: dict[str, Any]) -> list[str]:
    """The names of the view's columns in output order (validates the view)."""
    return compile_view(view).column_names


def run_view(view: dict[str, Any], resources: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The rows of `view` over `resources`; the view is checked before the first row."""
    compiled = compile_view(view)
    return run_compiled(compiled, resources)


def run_compiled(compiled: CompiledView, resources: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The rows of an already compiled view (compile once, run over many batches)."""
    resource_type = compiled.resource_type
    names = compiled.column_names
    reset_clock()  # now() / today() stay fixed for one run, and are fresh for the next
    for resource in resources:
        if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
            continue
        variables = {
            **compiled.constants,
            "resource": resource,
            "rootResource": resource,
            "context": resource,
            "ucum": _UCUM,
        }
        if not _passes(compiled, resource, variables):
            continue
        for row in _select_rows(compiled.root, resource, variables):
            yield {name: row.get(name) for name in names}


def _passes(compiled: CompiledView, resource: dict[str, Any], variables: dict[str, Any]) -> bool:
    for path in compiled.where:
        values = path.values(resource, variables)
        if not values:
            return False
        if len(values) > 1 or not isinstance(values[0], bool):
            raise ViewDefinitionError(f"where path {path.expression!r} must give a boolean, got {values!r}")
        if values[0] is not True:
            return False
    return True


def _is_placeholder(item: Any) -> bool:
    """fhirpathpy's stand-in for a primitive that has only extensions (no value)."""
    return plain(item) is None


def _select_rows(select: CompiledSelect, focus: Any, variables: dict[str, Any]) -> list[dict[str, Any]]:
    if select.for_each is not None:
        foci = [item for item in select.for_each.evaluate(focus, variables, typed=True) if not _is_placeholder(item)]
        if not foci:
            return [select.null_row()] if select.or_null else []
    else:
        foci = [focus]
    rows: list[dict[str, Any]] = []
    for item in foci:
        rows.extend(_rows_for_focus(select, item, variables))
    return rows


def _rows_for_focus(select: CompiledSelect, focus: Any, variables: dict[str, Any]) -> list[dict[str, Any]]:
    own: dict[str, Any] = {}
    for column in select.columns:
        values = column.path.values(focus, variables)
        if column.collection:
            own[column.name] = values
        elif len(values) > 1:
            raise ViewDefinitionError(
                f"column {column.name!r} ({column.path.expression!r}) gave {len(values)} values; "
                "set 'collection': true to keep them all"
            )
        else:
            own[column.name] = values[0] if values else None
    rows = [own]
    for nested in select.selects:
        rows = _cross(rows, _select_rows(nested, focus, variables))
        if not rows:
            return rows
    if select.union_all:
        union: list[dict[str, Any]] = []
        for branch in select.union_all:
            union.extend(_select_rows(branch, focus, variables))
        rows = _cross(rows, union)
    return rows


def _cross(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(right) == 1:
        only = right[0]
        return [{**row, **only} for row in left]
    return [{**a, **b} for a in left for b in right]
