"""The SearchParameter definitions per resource type, by code, as small immutable records (cached)."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fhir_server.definitions.registry import Definitions

#: Parameter types this query builder can search (``special`` and type-less parameters cannot be).
SEARCHABLE_TYPES = frozenset({"string", "token", "reference", "date", "number", "quantity", "uri", "composite"})
_PATH = re.compile(r"[A-Za-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)+")
_RESOLVE_IS = re.compile(r"([A-Za-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)+)\.where\(resolve\(\) is ([A-Z][A-Za-z]+)\)")

#: Parameters answered from the ``resource`` table itself, whatever their definition says.
RESOURCE_COLUMNS = frozenset({"_id", "_lastUpdated"})


@dataclass(frozen=True, slots=True)
class Component:
    definition: str  # canonical URL of the component's SearchParameter
    expression: str | None


@dataclass(frozen=True, slots=True)
class SearchParam:
    code: str
    type: str
    url: str | None = None
    expression: str | None = None
    targets: tuple[str, ...] = ()
    components: tuple[Component, ...] = ()

    @property
    def supported(self) -> bool:
        """Whether a search on it can match anything here (it is indexed, or answered from ``resource``)."""
        if self.code in RESOURCE_COLUMNS:
            return True
        return self.type in SEARCHABLE_TYPES and bool(self.expression)


def _as_param(definition: Mapping[str, Any]) -> SearchParam:
    components = tuple(
        Component(str(c["definition"]), c.get("expression"))
        for c in definition.get("component") or ()
        if isinstance(c, dict) and isinstance(c.get("definition"), str)
    )
    return SearchParam(
        code=str(definition["code"]),
        type=str(definition.get("type", "")),
        url=definition.get("url"),
        expression=definition.get("expression") or None,
        targets=tuple(t for t in definition.get("target") or () if isinstance(t, str)),
        components=components,
    )


class SearchParameterRegistry:
    """``registry.get("Observation", "code")`` → ``SearchParam``; one instance per server, thread-safe."""

    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self._by_type: dict[str, Mapping[str, SearchParam]] = {}
        self._by_url: dict[str, SearchParam | None] = {}
        self._lock = threading.Lock()

    def parameters(self, resource_type: str | None) -> Mapping[str, SearchParam]:
        """The parameters of a type (its own and the common ones); ``None``: those common to all types."""
        key = resource_type or "Resource"
        found = self._by_type.get(key)
        if found is None:
            params = {p.code: p for p in map(_as_param, self.definitions.search_parameters(key))}
            if resource_type is not None:
                params = {code: self._narrowed(resource_type, p) for code, p in params.items()}
            found = MappingProxyType(params)
            with self._lock:
                self._by_type[key] = found
        return found

    def _narrowed(self, resource_type: str, param: SearchParam) -> SearchParam:
        """A shared reference parameter's targets on one type: ``patient`` lists Patient and Group for all the
        types it serves, but ``EpisodeOfCare.patient`` can only be a Patient — so a chain needs no ``:Patient``.
        Narrowed only where every part of the expression for this type is a plain element path."""
        if param.type != "reference" or len(param.targets) < 2 or not param.expression:
            return param
        parts = [part.strip() for part in param.expression.split("|")]
        mine = [part for part in parts if part.startswith(resource_type + ".")]
        if not mine or any(not _PATH.fullmatch(part) and not _RESOLVE_IS.fullmatch(part) for part in mine):
            return param
        definition = self.definitions.structure_definition(resource_type) or {}
        elements = {e.get("path"): e for e in (definition.get("snapshot") or {}).get("element", [])}
        found: set[str] = set()
        for path in mine:
            resolved = _RESOLVE_IS.fullmatch(path)
            if resolved:  # Condition.subject.where(resolve() is Patient)
                found.add(resolved.group(2))
                continue
            element = elements.get(path)
            if element is None:
                return param
            for kind in element.get("type") or ():
                for profile in kind.get("targetProfile") or ():
                    found.add(str(profile).rsplit("/", 1)[-1])
        narrowed = tuple(t for t in param.targets if t in found)
        if not narrowed or "Resource" in found:
            return param
        return SearchParam(param.code, param.type, param.url, param.expression, narrowed, param.components)

    def get(self, resource_type: str | None, code: str) -> SearchParam | None:
        return self.parameters(resource_type).get(code)

    def param_types(self, resource_type: str | None) -> dict[str, str]:
        """code → SearchParameter type, e.g. for ``_sort``."""
        return {code: p.type for code, p in self.parameters(resource_type).items()}

    def by_url(self, url: str) -> SearchParam | None:
        """A SearchParameter by canonical URL (the components of composite parameters point at them)."""
        if url not in self._by_url:
            definition = self.definitions.resource("SearchParameter", url)
            param = _as_param(definition) if definition and isinstance(definition.get("code"), str) else None
            with self._lock:
                self._by_url[url] = param
        return self._by_url[url]

    def is_resource_type(self, name: str) -> bool:
        return name in self.definitions.resource_types

    def expand_value_set(self, url: str) -> frozenset[tuple[str, str]] | None:
        return self.definitions.expand_value_set(url)
