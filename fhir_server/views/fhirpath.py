"""FHIRPath glue for the ViewDefinition runner: compile once, evaluate many times, quickly.

Approach
--------
* Every path of a view is parsed once (`fhirpathpy.parser.parse`) into a `CompiledPath`. Evaluation
  calls fhirpathpy's evaluator (`fhirpathpy.engine.do_eval`) directly with a context we build,
  instead of `fhirpathpy.evaluate`: that skips re-parsing, and lets the extra functions below
  receive fhirpathpy's typed nodes rather than the bare data its public user-function hook hands
  over (a boundary function must know whether `"2010-10-10"` is a date or a dateTime).
* The R4 model shipped with fhirpathpy is always used, so choice elements (`value.ofType(Quantity)`)
  and type tests work.
* The functions the SQL-on-FHIR spec adds or needs beyond fhirpathpy - `getResourceKey()`,
  `getReferenceKey([type])`, `lowBoundary([precision])`, `highBoundary([precision])` - are entries
  of the context's `userInvocationTable`, which fhirpathpy merges into its function registry.
  `join()` is replaced there too: the official suite expects an empty input to join to `''`.
* Keys: `getResourceKey()` is `Type/id`; `getReferenceKey()` is the `Type/id` a reference names
  (relative, absolute or versioned), or nothing for contained and `urn:` references or another
  type than the one asked for.
* Paths of the shapes most columns have (member chains, `ofType` on choice elements,
  `where(linkId = 'x')`, `first()`, `exists()`, the key functions) are evaluated in plain Python
  (`shortcut.py`), which falls back to fhirpathpy whenever the data could make the answers differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fhirpathpy.engine import do_eval
from fhirpathpy.engine.invocations.constants import constants as _fhirpath_clock
from fhirpathpy.engine.nodes import FP_Type, ResourceNode, TypeInfo
from fhirpathpy.models import models
from fhirpathpy.parser import parse

from fhir_server.views.boundaries import boundary
from fhir_server.views.errors import ViewDefinitionError
from fhir_server.views.keys import reference_key, resource_key
from fhir_server.views.shortcut import FALLBACK, IifShortcut, OrShortcut, Shortcut, compile_shortcut

R4_MODEL: dict[str, Any] = models["r4"]


# Variables every expression may use besides the view's constants.
BUILTIN_VARIABLES = frozenset({"resource", "rootResource", "context", "ucum", "sct", "loinc"})


def _type_name(item: Any) -> str | None:
    if isinstance(item, ResourceNode) and item.path and "." not in item.path:
        return item.path.removeprefix("System.")
    return None


def _data(item: Any) -> Any:
    data = item.data if isinstance(item, ResourceNode) else item
    if isinstance(data, float):
        return Decimal(str(data))
    return data


def _resource_key(ctx: dict, inputs: list) -> list[str]:
    return [key for key in (resource_key(_data(item)) for item in inputs) if key is not None]


def _reference_key(ctx: dict, inputs: list, type_info: TypeInfo | None = None) -> list[str]:
    wanted = type_info.name if isinstance(type_info, TypeInfo) else None
    keys = []
    for item in inputs:
        data = _data(item)
        if isinstance(data, Mapping) and isinstance(data.get("reference"), str):
            key = reference_key(data["reference"], wanted)
            if key is not None:
                keys.append(key)
    return keys


def _boundary_function(high: bool):
    def function(ctx: dict, inputs: list, precision: Any = None) -> list:
        digits = int(precision) if isinstance(precision, int | Decimal) else None
        results = []
        for item in inputs:
            value = boundary(_data(item), _type_name(item), high, digits)
            if value is not None:
                results.append(value)
        return results

    return function


def _join(ctx: dict, inputs: list, separator: Any = "") -> str:
    """`join([separator])`; unlike fhirpathpy, an empty input joins to '' (the suite expects it)."""
    texts = []
    for item in inputs:
        data = _data(item)
        if isinstance(data, Mapping) and list(data.keys()) == ["extension"]:
            continue  # a primitive with only extensions has no value to join
        if not isinstance(data, str):
            raise ViewDefinitionError(f"join() needs strings, got {data!r}")
        texts.append(data)
    return (separator if isinstance(separator, str) else "").join(texts)


EXTRA_FUNCTIONS: dict[str, dict[str, Any]] = {
    "join": {"fn": _join, "arity": {0: [], 1: ["String"]}},
    "getResourceKey": {"fn": _resource_key},
    "getReferenceKey": {"fn": _reference_key, "arity": {0: [], 1: ["TypeSpecifier"]}},
    "lowBoundary": {"fn": _boundary_function(False), "arity": {0: [], 1: ["Integer"]}},
    "highBoundary": {"fn": _boundary_function(True), "arity": {0: [], 1: ["Integer"]}},
}


def _constant_names(node: Any) -> set[str]:
    """The `%names` an expression refers to."""
    names: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, dict):
            continue
        if current.get("type") == "ExternalConstant":
            for child in current.get("children") or []:
                if isinstance(child, dict) and child.get("type") == "Identifier":
                    names.add(str(child.get("text", "")).strip("`"))
            continue
        stack.extend(current.get("children") or [])
    return names


def reset_clock() -> None:
    """Let fhirpathpy's now()/today()/timeOfDay() take a fresh reading (it caches them)."""
    _fhirpath_clock.reset()


_PASS_THROUGH = frozenset({str, int, bool})


def plain(item: Any) -> Any:
    """A result item as JSON-ready data (None for fhirpathpy's primitive-extension placeholders)."""
    if type(item) in _PASS_THROUGH:
        return item
    data = _data(item)
    if type(data) in _PASS_THROUGH:
        return data
    if isinstance(data, Decimal | float):
        return float(data)
    if isinstance(data, FP_Type):  # FP_DateTime, FP_Time, FP_Quantity from literals and functions
        return str(data)
    if isinstance(data, dict) and len(data) == 1 and "extension" in data:
        return None
    return data


class CompiledPath:
    """One FHIRPath expression of a view, parsed once."""

    __slots__ = ("_ast", "_shortcut", "_this", "expression")

    def __init__(self, expression: Any, known_constants: set[str] | frozenset[str]) -> None:
        if not isinstance(expression, str) or not expression.strip():
            raise ViewDefinitionError(f"a path must be a non-empty string, got {expression!r}")
        self.expression = expression
        try:
            tree = parse(expression)
        except Exception as exc:  # antlr raises several unrelated classes
            raise ViewDefinitionError(f"invalid FHIRPath {expression!r}: {exc}") from exc
        self._ast = tree["children"][0]
        unknown = _constant_names(self._ast) - set(known_constants) - BUILTIN_VARIABLES
        if unknown:
            raise ViewDefinitionError(f"{expression!r} uses undefined constant(s): {', '.join(sorted(unknown))}")
        self._this = expression.strip() == "$this"
        self._shortcut: Shortcut | OrShortcut | IifShortcut | None = compile_shortcut(self._ast)

    def evaluate(self, focus: Any, variables: dict[str, Any], typed: bool = False) -> list:
        """The result collection, items as fhirpathpy nodes or plain values.

        `typed` asks for fhirpathpy's typed nodes (no shortcut): needed where the items become
        the focus of further paths (forEach), so choice elements below them still resolve.
        """
        if self._this:
            return [focus]
        if self._shortcut is not None and not typed:
            result = self._shortcut.run(focus.data if isinstance(focus, ResourceNode) else focus)
            if result is not FALLBACK:
                return result
        root = focus if isinstance(focus, list) else [focus]
        ctx = {
            "dataRoot": root,
            "vars": variables,
            "model": R4_MODEL,
            "userInvocationTable": EXTRA_FUNCTIONS,
        }
        try:
            return do_eval(ctx, root, self._ast)
        except ViewDefinitionError:
            raise
        except Exception as exc:
            raise ViewDefinitionError(f"evaluating {self.expression!r} failed: {exc}") from exc

    def values(self, focus: Any, variables: dict[str, Any]) -> list:
        """The result collection as plain data, placeholders dropped."""
        return [value for value in map(plain, self.evaluate(focus, variables)) if value is not None]
