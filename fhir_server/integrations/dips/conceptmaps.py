"""Code translation through FHIR R4 ConceptMaps: a code the map knows gives its target (or, with equivalence
``unmatched``/``disjoint``, deliberately nothing); a code it does not know is an ``Unmapped`` — reported, never
guessed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NO_TARGET = frozenset({"unmatched", "disjoint"})


@dataclass(frozen=True)
class Unmapped:
    """A source code the ConceptMap does not list."""

    rule: str
    concept_map: str
    system: str | None
    code: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.system or ''}|{self.code} is not in ConceptMap {self.concept_map}"


@dataclass(frozen=True)
class Translated:
    """The outcome of one translation: ``target`` is ``None`` for a known code that maps to nothing."""

    target: Any


class ConceptMap:
    def __init__(self, resource: dict[str, Any]) -> None:
        self.id = str(resource["id"])
        # (source system, code) → (target system, target code) or None for "known, nothing"
        self.table: dict[tuple[str, str], tuple[str | None, str] | None] = {}
        for group in resource.get("group") or []:
            source, target = group.get("source"), group.get("target")
            for element in group.get("element") or []:
                hits = [t for t in element.get("target") or [] if t.get("equivalence") not in NO_TARGET]
                if len(hits) > 1:
                    raise ValueError(f"ConceptMap {self.id}: {element['code']} has more than one target")
                self.table[(source, element["code"])] = (target, hits[0]["code"]) if hits else None
        self.systems = {system for system, _ in self.table}

    def translate(self, value: Any, rule: str) -> Translated | Unmapped:
        """A ``code`` (string: the map's only source system), ``Coding`` or ``CodeableConcept`` (its first coding
        in a system the map knows) → a code string, or a ``Coding``."""
        if isinstance(value, str):
            if len(self.systems) != 1:
                raise ValueError(f"ConceptMap {self.id}: a bare code needs a map with one source system")
            system = next(iter(self.systems))
            found = self.table.get((system, value), ...)
            if found is ...:
                return Unmapped(rule, self.id, None, value)
            return Translated(None if found is None else found[1])
        codings = value.get("coding") if "coding" in value else [value]
        known = [c for c in codings or [] if c.get("system") in self.systems]
        if not known:
            first = (codings or [{}])[0]
            return Unmapped(rule, self.id, first.get("system"), str(first.get("code") or value.get("text") or ""))
        coding = known[0]
        found = self.table.get((coding["system"], str(coding.get("code"))), ...)
        if found is ...:
            return Unmapped(rule, self.id, coding["system"], str(coding.get("code")))
        if found is None:
            return Translated(None)
        system, code = found
        return Translated({"system": system, "code": code} if system else {"code": code})
