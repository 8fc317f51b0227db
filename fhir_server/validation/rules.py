"""Structural rules compiled from R4 StructureDefinition snapshots into plain objects for a fast JSON walk.

One ``TypeRules`` per resource type, complex datatype (or datatype profile such as SimpleQuantity/Age) and
backbone element: its JSON properties (choice types ``value[x]`` expanded to ``valueQuantity``, ...), each with
array-ness (from the base definition's max, which fixes the JSON shape), max cardinality, kind, primitive
checker, child rules and, for required bindings to enumerable ValueSets, the allowed codes. Minimum cardinalities
become a tuple of "one of these keys must be present" groups. Rules are compiled once per type and cached; no
FHIRPath runs at validation time.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fhir_server.definitions.registry import CORE_BASE, Definitions
from fhir_server.validation.primitives import PrimitiveCheck, PrimitiveCheckers, fhir_type_of

# Element kinds
PRIMITIVE, COMPLEX, RESOURCE = 0, 1, 2
# Required-binding kinds
BIND_NONE, BIND_CODE, BIND_CODING, BIND_CONCEPT = 0, 1, 2, 3

_BACKBONE_TYPES = frozenset({"BackboneElement", "Element"})


@dataclass(slots=True, eq=False)
class TypeRules:
    """The rules of one JSON object type (resource, datatype or backbone element)."""

    name: str
    is_resource: bool = False
    elements: dict[str, ElementRule] = field(default_factory=dict)
    # Minimum cardinalities: (keys any of which satisfies it, expression step used when none is present)
    required: tuple[tuple[tuple[str, ...], str], ...] = ()


@dataclass(slots=True, eq=False)
class ElementRule:
    """One JSON property of a ``TypeRules``."""

    key: str  # JSON property name (``valueQuantity`` for a choice)
    step: str  # expression step (``value.ofType(Quantity)`` for a choice)
    kind: int
    type_code: str
    is_array: bool
    max: int | None  # None: unbounded
    choice: str | None = None  # choice group (``value``) for ``value[x]`` variants
    check: PrimitiveCheck | None = None
    children: TypeRules | None = None
    bind: int = BIND_NONE
    value_set: str = ""
    codes: frozenset[str] | None = None  # BIND_CODE: allowed codes
    pairs: frozenset[tuple[str, str]] | None = None  # BIND_CODING / BIND_CONCEPT: allowed (system, code)
    systems: frozenset[str] | None = None  # systems of ``pairs``: codings from other systems are not judged


def _max(value: Any) -> int | None:
    if value == "*" or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


class RuleCompiler:
    """Compiles and caches ``TypeRules`` for resource types and datatypes of a ``Definitions``."""

    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self.primitives = PrimitiveCheckers(definitions)
        self._resources: dict[str, TypeRules] = {}
        self._datatypes: dict[str, TypeRules | None] = {}
        self._lock = threading.RLock()
        self._element_rules: TypeRules | None = None

    # -- public -----------------------------------------------------------------------------------------------

    def resource_rules(self, resource_type: str) -> TypeRules | None:
        """Rules of a concrete resource type, or ``None`` for an unknown type. Thread-safe, compiled once."""
        rules = self._resources.get(resource_type)
        if rules is not None:
            return rules
        if resource_type not in self.definitions.resource_types:
            return None
        with self._lock:
            rules = self._resources.get(resource_type)
            if rules is None:
                sd = self.definitions.structure_definition(resource_type)
                if sd is None:
                    return None
                rules = TypeRules(resource_type, is_resource=True)
                self._fill(rules, sd)
                self._resources[resource_type] = rules  # published only when complete
            return rules

    def element_rules(self) -> TypeRules:
        """Rules of the ``Element`` object that carries a primitive's ``id``/``extension`` (``_birthDate``)."""
        if self._element_rules is None:
            with self._lock:
                self._element_rules = self._datatype("Element", None) or TypeRules("Element")
        return self._element_rules

    def compile_all(self) -> int:
        """Compile every resource type up front (optional warm-up); returns how many were compiled."""
        return sum(1 for t in sorted(self.definitions.resource_types) if self.resource_rules(t) is not None)

    # -- compilation ------------------------------------------------------------------------------------------

    def _datatype(self, type_code: str, profiles: list[Any] | None) -> TypeRules | None:
        """Rules of a complex datatype, or of its core profile when the element names exactly one (SimpleQuantity)."""
        url = CORE_BASE + type_code
        if profiles and len(profiles) == 1 and isinstance(profiles[0], str):
            profile_sd = self.definitions.structure_definition(profiles[0])
            if profile_sd is not None and profile_sd.get("type") == type_code:
                url = profiles[0]
        if url in self._datatypes:
            return self._datatypes[url]  # may be a placeholder still being filled (recursive types)
        sd = self.definitions.structure_definition(url)
        if sd is None or "snapshot" not in sd:
            self._datatypes[url] = None
            return None
        rules = TypeRules(type_code)
        self._datatypes[url] = rules  # registered before filling: Identifier → Reference → Identifier
        self._fill(rules, sd)
        return rules

    def _fill(self, root: TypeRules, sd: dict[str, Any]) -> None:
        elements = [e for e in sd["snapshot"]["element"] if "sliceName" not in e and ":" not in e.get("id", "")]
        if not elements:
            return
        root_path = elements[0]["path"]
        children: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for element in elements[1:]:
            parent, _, _name = element["path"].rpartition(".")
            children[parent].append(element)
        nodes: dict[str, TypeRules] = {root_path: root}
        pending_references: list[tuple[ElementRule, str]] = []

        def build(rules: TypeRules, path: str) -> None:
            required: list[tuple[tuple[str, ...], str]] = []
            for element in children.get(path, ()):
                name = element["path"].rpartition(".")[2]
                added = self._element(element, name, children, nodes, build, pending_references)
                for rule in added:
                    rules.elements[rule.key] = rule
                if added and element.get("min", 0) >= 1 and _max(element.get("max")) != 0:
                    # a required primitive may be present as its extension only (``_status``)
                    keys = [r.key for r in added] + ["_" + r.key for r in added if r.kind == PRIMITIVE]
                    required.append((tuple(keys), name[:-3] if name.endswith("[x]") else name))
            rules.required = tuple(required)

        build(root, root_path)
        if root.is_resource and "id" in root.elements:
            root.elements["id"].check = self.primitives.get("id")  # Resource.id is an id (snapshot says string)
        for rule, target in pending_references:
            rule.children = nodes.get(target)

    def _element(
        self,
        element: dict[str, Any],
        name: str,
        children: dict[str, list[dict[str, Any]]],
        nodes: dict[str, TypeRules],
        build: Any,
        pending_references: list[tuple[ElementRule, str]],
    ) -> list[ElementRule]:
        path = element["path"]
        max_count = _max(element.get("max"))
        base_max = element.get("base", {}).get("max", element.get("max"))
        is_array = base_max != "1" and base_max != "0"
        reference = element.get("contentReference")
        if isinstance(reference, str):
            rule = ElementRule(name, name, COMPLEX, "BackboneElement", is_array, max_count)
            pending_references.append((rule, reference.partition("#")[2]))
            return [rule]
        type_refs = [t for t in element.get("type", ()) if isinstance(t, dict)]
        if name.endswith("[x]"):
            base = name[:-3]
            rules = []
            for type_ref in type_refs:
                type_code = fhir_type_of(type_ref)
                key = base + _upper_first(type_code)
                rule = self._typed_rule(key, f"{base}.ofType({type_code})", type_ref, type_code, False, max_count)
                rule.choice = base
                self._binding(rule, element)
                rules.append(rule)
            return rules
        if not type_refs:
            return []
        type_ref = type_refs[0]
        type_code = fhir_type_of(type_ref)
        if type_code in _BACKBONE_TYPES and path in children:
            backbone = TypeRules(path)
            nodes[path] = backbone
            build(backbone, path)
            return [ElementRule(name, name, COMPLEX, type_code, is_array, max_count, children=backbone)]
        rule = self._typed_rule(name, name, type_ref, type_code, is_array, max_count)
        self._binding(rule, element)
        return [rule]

    def _typed_rule(
        self, key: str, step: str, type_ref: dict[str, Any], type_code: str, is_array: bool, max_count: int | None
    ) -> ElementRule:
        if type_code in self.primitives:
            return ElementRule(
                key, step, PRIMITIVE, type_code, is_array, max_count, check=self.primitives.get(type_code)
            )
        if type_code == "Resource":
            return ElementRule(key, step, RESOURCE, type_code, is_array, max_count)
        children = self._datatype(type_code, type_ref.get("profile"))
        return ElementRule(key, step, COMPLEX, type_code, is_array, max_count, children=children)

    def _binding(self, rule: ElementRule, element: dict[str, Any]) -> None:
        binding = element.get("binding")
        if not isinstance(binding, dict) or binding.get("strength") != "required":
            return
        value_set = binding.get("valueSet")
        if not isinstance(value_set, str):
            return
        if rule.type_code == "code":
            bind = BIND_CODE
        elif rule.type_code == "Coding":
            bind = BIND_CODING
        elif rule.type_code == "CodeableConcept":
            bind = BIND_CONCEPT
        else:
            return
        expansion = self.definitions.expand_value_set(value_set)
        if expansion is None:
            return  # not enumerable locally: not judged
        rule.bind = bind
        rule.value_set = value_set.partition("|")[0]
        if bind == BIND_CODE:
            rule.codes = frozenset(code for _system, code in expansion)
        else:
            rule.pairs = expansion
            rule.systems = frozenset(system for system, _code in expansion)
