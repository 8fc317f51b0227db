"""Per resource type: every applicable SearchParameter compiled into extractors, dispatched by top-level key.

``TypePlan.by_key["name"]`` holds the extractors whose path starts at ``Patient.name``, so an element that is absent
costs nothing; ``TypePlan.root`` holds those that need the whole resource (composites, boolean expressions,
``%resource``, fhirpathpy fallbacks). ``ParamStatus`` records how each parameter was compiled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fhir_server.definitions.registry import Definitions
from fhir_server.search.index.emit import Emitter, EmitterTable
from fhir_server.search.index.fallback import FallbackExtractor
from fhir_server.search.index.fhirpath_compile import (
    CompileError,
    Nav,
    PathCompiler,
    Stream,
    build_nav,
    is_boolean,
    leftmost_name,
)
from fhir_server.search.index.fhirpath_parse import FhirPathSyntaxError, Node, parse_fhirpath, union_branches
from fhir_server.search.index.model import TypeModel
from fhir_server.search.index.rows import IndexRows, TokenRow

log = logging.getLogger(__name__)

KeyExtractor = Callable[[Any, dict[str, Any], IndexRows], None]  # (value of the key, resource, rows)
RootExtractor = Callable[[dict[str, Any], IndexRows], None]

# Served from the resource table, not from index rows.
TABLE_PARAMETERS = frozenset({"_id", "_lastUpdated"})

COMPILED, BOOLEAN, FALLBACK, SKIPPED, EMPTY = "compiled", "boolean", "fallback", "skipped", "empty"


@dataclass(slots=True)
class ParamStatus:
    """How one SearchParameter is indexed for one resource type."""

    code: str
    type: str
    url: str
    mode: str  # compiled, boolean (compiled boolean expression), fallback, skipped, empty (yields no rows)
    reason: str = ""
    expression: str = ""
    unindexed_types: list[str] = field(default_factory=list)  # FHIR types the path yields that give no rows


@dataclass(slots=True)
class TypePlan:
    resource_type: str
    by_key: dict[str, tuple[KeyExtractor, ...]] = field(default_factory=dict)
    root: tuple[RootExtractor, ...] = ()
    status: list[ParamStatus] = field(default_factory=list)


def _key_extractor(rest: Nav | None, emit: Emitter) -> KeyExtractor:
    if rest is None:

        def run_direct(value: Any, resource: dict[str, Any], rows: IndexRows) -> None:
            if type(value) is list:
                for item in value:
                    emit(item, rows, None)
            else:
                emit(value, rows, None)

        return run_direct

    def run(value: Any, resource: dict[str, Any], rows: IndexRows) -> None:
        for item in rest(value if type(value) is list else [value], resource):
            emit(item, rows, None)

    return run


def _root_extractor(nav: Nav, emit: Emitter) -> RootExtractor:
    def run(resource: dict[str, Any], rows: IndexRows) -> None:
        for item in nav([resource], resource):
            emit(item, rows, None)

    return run


def _boolean_extractor(test: Callable[[Any, dict[str, Any]], bool | None], code: str) -> RootExtractor:
    def run(resource: dict[str, Any], rows: IndexRows) -> None:
        result = test(resource, resource)
        if result is not None:
            rows.tokens.append(TokenRow(code, None, "true" if result else "false"))

    return run


Component = list[tuple[Nav, Emitter]]


def _composite_extractor(bases: list[tuple[Nav, list[Component]]]) -> RootExtractor:
    """Each base element becomes one group (``grp``) when every component has a value in it."""

    def run(resource: dict[str, Any], rows: IndexRows) -> None:
        grp = 0
        for base_nav, components in bases:
            for node in base_nav([resource], resource):
                found: list[list[tuple[Any, Emitter]]] = []
                for component in components:
                    values = [(value, emit) for nav, emit in component for value in nav([node], resource)]
                    if not values:
                        break
                    found.append(values)
                else:
                    for values in found:
                        for value, emit in values:
                            emit(value, rows, grp)
                    grp += 1

    return run


class PlanBuilder:
    def __init__(self, definitions: Definitions, model: TypeModel, emitters: EmitterTable, fallback: bool) -> None:
        self.definitions = definitions
        self.model = model
        self.emitters = emitters
        self.compiler = PathCompiler(model, emitters.parser)
        self.fallback = fallback
        self._extension_values = model.elements("Extension")["value"].variants

    def build(self, resource_type: str) -> TypePlan:
        plan = TypePlan(resource_type)
        by_key: dict[str, list[KeyExtractor]] = {}
        root: list[RootExtractor] = []
        for parameter in self.definitions.search_parameters(resource_type):
            status = self._add(parameter, resource_type, by_key, root)
            plan.status.append(status)
        plan.by_key = {key: tuple(extractors) for key, extractors in by_key.items()}
        plan.root = tuple(root)
        return plan

    # -- one parameter ----------------------------------------------------------------------------------------

    def _add(
        self,
        parameter: dict[str, Any],
        resource_type: str,
        by_key: dict[str, list[KeyExtractor]],
        root: list[RootExtractor],
    ) -> ParamStatus:
        code, param_type = str(parameter.get("code")), str(parameter.get("type"))
        expression = parameter.get("expression")
        status = ParamStatus(code, param_type, str(parameter.get("url", "")), SKIPPED, expression=expression or "")
        if code in TABLE_PARAMETERS:
            status.reason = "served from the resource table"
            return status
        if not isinstance(expression, str) or not expression.strip():
            status.reason = "no expression"
            return status
        if param_type == "special":
            status.reason = "special parameter (e.g. near): not indexed"
            return status
        try:
            branches = self._branches(expression, resource_type)
        except FhirPathSyntaxError as exc:
            status.reason = f"syntax error: {exc}"
            return status
        if not branches:
            status.mode, status.reason = EMPTY, f"no branch for {resource_type}"
            return status
        try:
            if param_type == "composite":
                extractor = self._composite(parameter, branches, resource_type)
                if extractor is None:
                    status.mode, status.reason = EMPTY, "no component yields values"
                    return status
                root.append(extractor)
                status.mode = COMPILED
                return status
            added = self._simple(status, branches, resource_type, by_key, root)
        except CompileError as exc:
            if param_type == "composite" or not self.fallback:
                status.reason = f"not compiled: {exc}"
                return status
            return self._add_fallback(status, expression, root, exc)
        status.mode = added if added else EMPTY
        if not added:
            status.reason = "no emittable value type"
        return status

    def _branches(self, expression: str, resource_type: str) -> list[Node]:
        relevant = []
        for branch in union_branches(parse_fhirpath(expression)):
            start = leftmost_name(branch)
            if (
                start is not None
                and start not in (resource_type, "Resource", "DomainResource")
                and self.model.is_resource_type(start)
            ):
                continue  # a branch for another resource type
            relevant.append(branch)
        return relevant

    def _emitter(self, param_type: str, fhir_type: str, code: str) -> Emitter | None:
        if fhir_type == "Extension":
            return self.emitters.extension_emitter(param_type, code, self._extension_values)
        return self.emitters.emitter_for(param_type, fhir_type, code)

    def _simple(
        self,
        status: ParamStatus,
        branches: list[Node],
        resource_type: str,
        by_key: dict[str, list[KeyExtractor]],
        root: list[RootExtractor],
    ) -> str:
        """Compile the branches (``CompileError`` when one cannot be); returns the mode, or '' for no extractor."""
        code, param_type = status.code, status.type
        start = [Stream((), resource_type)]
        extractors: list[tuple[str | None, Any]] = []
        mode = COMPILED
        for branch in branches:
            if is_boolean(branch):
                if param_type != "token":
                    raise CompileError("a boolean expression for a non-token parameter")
                test = self.compiler.predicate(branch, resource_type, resource_type)
                extractors.append((None, _boolean_extractor(test, code)))
                mode = BOOLEAN
                continue
            for stream in self.compiler.streams(branch, start, resource_type):
                emit = self._emitter(param_type, stream.type, code)
                if emit is None:
                    status.unindexed_types.append(stream.type)
                    continue
                if stream.ops and stream.ops[0][0] == "get":
                    rest = build_nav(stream.ops[1:]) if len(stream.ops) > 1 else None
                    extractors.append((stream.ops[0][1], _key_extractor(rest, emit)))
                else:
                    extractors.append((None, _root_extractor(build_nav(stream.ops), emit)))
        for key, extractor in extractors:  # only once every branch compiled
            if key is None:
                root.append(extractor)
            else:
                by_key.setdefault(key, []).append(extractor)
        return mode if extractors else ""

    def _composite(self, parameter: dict[str, Any], branches: list[Node], resource_type: str) -> RootExtractor | None:
        code = str(parameter.get("code"))
        components: list[tuple[str, Node]] = []
        for component in parameter.get("component") or ():
            definition = self.definitions.resource("SearchParameter", str(component.get("definition", "")))
            expression = component.get("expression")
            if definition is None or not isinstance(expression, str):
                raise CompileError(f"component {component.get('definition')} is unknown or has no expression")
            try:
                components.append((str(definition.get("type")), parse_fhirpath(expression)))
            except FhirPathSyntaxError as exc:
                raise CompileError(str(exc)) from exc
        if not components:
            return None
        bases: list[tuple[Nav, list[Component]]] = []
        start = [Stream((), resource_type)]
        for branch in branches:
            for base in self.compiler.streams(branch, start, resource_type):
                compiled: list[Component] = []
                for index, (component_type, node) in enumerate(components):
                    pairs: Component = []
                    for stream in self.compiler.streams(node, [Stream((), base.type)], resource_type):
                        emit = self._emitter(component_type, stream.type, f"{code}${index}")
                        if emit is not None:
                            pairs.append((build_nav(stream.ops), emit))
                    if not pairs:
                        break
                    compiled.append(pairs)
                else:
                    bases.append((build_nav(base.ops), compiled))
        return _composite_extractor(bases) if bases else None

    def _add_fallback(
        self, status: ParamStatus, expression: str, root: list[RootExtractor], error: CompileError
    ) -> ParamStatus:
        try:
            extractor = FallbackExtractor(expression, status.type, status.code, self.emitters)
        except Exception as exc:  # fhirpathpy cannot parse it either
            status.reason = f"not compiled ({error}); fhirpathpy: {exc}"
            return status
        extractor.set_extension_values(self._extension_values)
        root.append(extractor)
        status.mode, status.reason = FALLBACK, str(error)
        log.info("SearchParameter %s (%s) falls back to fhirpathpy: %s", status.code, status.url, error)
        return status
