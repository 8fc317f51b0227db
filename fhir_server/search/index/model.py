"""The FHIR type of every element, from StructureDefinition snapshots, for the index compiler.

``TypeModel.elements("Observation")["value"]`` lists the JSON keys of ``value[x]`` with their types
(``valueQuantity`` → ``Quantity``, ...). Backbone elements are types of their own named by path
(``Observation.component``); ``contentReference`` elements point at the referenced backbone path.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from fhir_server.definitions.registry import Definitions
from fhir_server.validation.primitives import fhir_type_of

_BACKBONE_TYPES = frozenset({"BackboneElement", "Element"})

# Datatypes that are Quantities (profiles of Quantity with a type name of their own in R4).
QUANTITY_TYPES = frozenset({"Quantity", "Age", "Count", "Distance", "Duration", "SimpleQuantity", "MoneyQuantity"})


@dataclass(frozen=True, slots=True)
class ElementInfo:
    """One element of a type: its JSON keys (several for a choice ``value[x]``) with their FHIR types."""

    name: str
    variants: tuple[tuple[str, str], ...]
    is_array: bool


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def is_type_compatible(actual: str, wanted: str) -> bool:
    """FHIRPath ``is``/``as``: the same type (primitive names compared case-insensitively) or a Quantity kind."""
    wanted = wanted.rpartition(".")[2] if wanted.startswith(("FHIR.", "System.")) else wanted
    if actual == wanted or actual.lower() == wanted.lower():
        return True
    return wanted == "Quantity" and actual in QUANTITY_TYPES


class TypeModel:
    """Elements of resources, datatypes and backbone elements, read lazily from snapshots and cached."""

    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self._types: dict[str, dict[str, ElementInfo]] = {}
        self._lock = threading.RLock()

    def elements(self, type_name: str) -> dict[str, ElementInfo]:
        """The elements of a type (empty for primitives and unknown types)."""
        found = self._types.get(type_name)
        if found is not None:
            return found
        with self._lock:
            if type_name not in self._types:
                self._load(type_name)
            return self._types.setdefault(type_name, {})

    def is_resource_type(self, name: str) -> bool:
        return name in self.definitions.resource_types or name in ("Resource", "DomainResource")

    def _load(self, type_name: str) -> None:
        root_type = type_name.partition(".")[0]
        sd = self.definitions.structure_definition(root_type)
        if sd is None or "snapshot" not in sd:
            return
        elements = [
            e
            for e in sd["snapshot"].get("element", ())
            if isinstance(e, dict) and "sliceName" not in e and ":" not in e.get("id", "")
        ]
        if not elements:
            return
        sd_root = elements[0]["path"]
        children: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for element in elements[1:]:
            children[element["path"].rpartition(".")[0]].append(element)
        for parent, kids in children.items():
            # paths of a profile (SimpleQuantity's are Quantity.*) are registered under the requested name
            name = root_type + parent[len(sd_root) :] if parent.startswith(sd_root) else parent
            self._types[name] = {info.name: info for info in (self._element(e, children) for e in kids) if info}

    @staticmethod
    def _element(element: dict[str, Any], children: dict[str, list[dict[str, Any]]]) -> ElementInfo | None:
        path: str = element["path"]
        name = path.rpartition(".")[2]
        base_max = (element.get("base") or {}).get("max", element.get("max"))
        is_array = base_max not in ("0", "1")
        reference = element.get("contentReference")
        if isinstance(reference, str):
            return ElementInfo(name, ((name, reference.partition("#")[2]),), is_array)
        type_refs = [t for t in element.get("type", ()) if isinstance(t, dict)]
        if not type_refs:
            return None
        if name.endswith("[x]"):
            base = name[:-3]
            variants = tuple((base + _upper_first(fhir_type_of(t)), fhir_type_of(t)) for t in type_refs)
            return ElementInfo(base, variants, is_array)
        type_code = fhir_type_of(type_refs[0])
        if type_code in _BACKBONE_TYPES and path in children:
            type_code = path
        return ElementInfo(name, ((name, type_code),), is_array)
