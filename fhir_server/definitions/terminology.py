"""Enumerating ValueSets from the packages' own CodeSystems, so required bindings can be checked locally.

Only ValueSets that can be listed completely are expanded: ``compose.include`` of whole CodeSystems held in the
packages with ``content = complete`` (nested concepts walked), of explicit ``concept`` lists (any system, e.g. the
UCUM units of ``units-of-time``), and of other enumerable ValueSets (``valueSet`` imports, intersected with the
include's system when both are given), minus ``compose.exclude``. Anything else (filters, CodeSystems that are
external or not complete such as SNOMED CT, LOINC, UCUM, BCP-47, mime types) makes the whole ValueSet ``None``:
callers then skip the check instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fhir_server.definitions.package_index import strip_version

CodePairs = frozenset[tuple[str, str]]
ResourceLookup = Callable[[str], dict[str, Any] | None]


def _walk_concepts(concepts: Iterable[Any], out: set[str]) -> None:
    for concept in concepts:
        if not isinstance(concept, dict):
            continue
        code = concept.get("code")
        if isinstance(code, str):
            out.add(code)
        children = concept.get("concept")
        if isinstance(children, list):
            _walk_concepts(children, out)


def _flatten_expansion(contains: Iterable[Any], out: set[tuple[str, str]]) -> None:
    for item in contains:
        if not isinstance(item, dict):
            continue
        system, code = item.get("system"), item.get("code")
        if isinstance(system, str) and isinstance(code, str):
            out.add((system, code))
        nested = item.get("contains")
        if isinstance(nested, list):
            _flatten_expansion(nested, out)


class ValueSetExpander:
    """Expands ValueSets by canonical URL, memoising every result (including ``None``)."""

    def __init__(self, value_set: ResourceLookup, code_system: ResourceLookup) -> None:
        self._value_set = value_set
        self._code_system = code_system
        self._expansions: dict[str, CodePairs | None] = {}
        self._code_systems: dict[str, frozenset[str] | None] = {}
        self._in_progress: set[str] = set()

    def expand(self, url: str) -> CodePairs | None:
        url = strip_version(url)
        if url in self._expansions:
            return self._expansions[url]
        if url in self._in_progress:  # an import cycle cannot be enumerated
            return None
        self._in_progress.add(url)
        try:
            result = self._expand_uncached(url)
        finally:
            self._in_progress.discard(url)
        self._expansions[url] = result
        return result

    def code_system_codes(self, url: str) -> frozenset[str] | None:
        """All codes of a complete CodeSystem held in the packages, or ``None``."""
        url = strip_version(url)
        if url not in self._code_systems:
            codes: frozenset[str] | None = None
            code_system = self._code_system(url)
            if code_system is not None and code_system.get("content") == "complete":
                found: set[str] = set()
                _walk_concepts(code_system.get("concept") or (), found)
                codes = frozenset(found)
            self._code_systems[url] = codes
        return self._code_systems[url]

    def _expand_uncached(self, url: str) -> CodePairs | None:
        value_set = self._value_set(url)
        if value_set is None:
            return None
        compose = value_set.get("compose")
        if not isinstance(compose, dict):
            expansion = value_set.get("expansion")
            if isinstance(expansion, dict) and isinstance(expansion.get("contains"), list):
                pairs: set[tuple[str, str]] = set()
                _flatten_expansion(expansion["contains"], pairs)
                return frozenset(pairs)
            return None
        included: set[tuple[str, str]] = set()
        for include in compose.get("include") or ():
            part = self._include(include)
            if part is None:
                return None
            included |= part
        for exclude in compose.get("exclude") or ():
            part = self._include(exclude)
            if part is None:
                return None
            included -= part
        return frozenset(included)

    def _include(self, include: Any) -> set[tuple[str, str]] | None:
        """The codes one ``compose.include`` (or ``exclude``) selects, or ``None`` when not enumerable."""
        if not isinstance(include, dict) or include.get("filter"):
            return None
        parts: list[set[tuple[str, str]]] = []
        system = include.get("system")
        if isinstance(system, str):
            concepts = include.get("concept")
            if isinstance(concepts, list):
                parts.append(
                    {(system, c["code"]) for c in concepts if isinstance(c, dict) and isinstance(c.get("code"), str)}
                )
            else:
                codes = self.code_system_codes(system)
                if codes is None:
                    return None
                parts.append({(system, code) for code in codes})
        for imported in include.get("valueSet") or ():
            if not isinstance(imported, str):
                return None
            expansion = self.expand(imported)
            if expansion is None:
                return None
            parts.append(set(expansion))
        if not parts:
            return None
        result = parts[0]
        for part in parts[1:]:
            result &= part
        return result
