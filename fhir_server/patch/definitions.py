"""What FHIRPath Patch needs to know of the R4 element definitions: which elements repeat, which are choices.

FHIR JSON writes a repeating element as an array even when it holds one item, and a choice element
(``value[x]``) under a name carrying its type (``valueQuantity``); neither can be told from the resource alone.
Both come from the base StructureDefinitions (``derivation = specialization``) of ``hl7.fhir.r4.core``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fhir_server.definitions.package_cache import is_installed, package_dir

log = logging.getLogger(__name__)

_SYSTEM_TYPE = "http://hl7.org/fhirpath/System."
_FHIR_TYPE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"


@dataclass(frozen=True)
class Element:
    """One element definition of a base type: ``Patient.contact``, ``HumanName.given``, ``Observation.value[x]``."""

    path: str
    repeats: bool
    types: tuple[str, ...]
    content_reference: str | None = None

    @property
    def is_choice(self) -> bool:
        return self.path.endswith("[x]")


class ElementDefinitions:
    """Element definitions by path, and the type paths that name the children of an element's value."""

    def __init__(self, elements: Mapping[str, Element], primitive_types: frozenset[str] = frozenset()) -> None:
        self._elements = dict(elements)
        self._primitives = primitive_types

    @classmethod
    def load(cls, package: Path) -> ElementDefinitions:
        """Read the base StructureDefinitions of an unpacked FHIR package folder."""
        elements: dict[str, Element] = {}
        primitives: set[str] = set()
        for file in sorted(package.glob("StructureDefinition-*.json")):
            sd = json.loads(file.read_text(encoding="utf-8"))
            if sd.get("derivation") != "specialization" or sd.get("kind") == "logical":
                continue
            if sd.get("kind") == "primitive-type":
                primitives.add(sd["type"])
            for definition in sd.get("snapshot", {}).get("element", []):
                element = _element(definition)
                elements.setdefault(element.path, element)
        return cls(elements, frozenset(primitives))

    def child(self, type_path: str | None, name: str) -> Element | None:
        """The element ``name`` (a plain or a choice name, as written in a patch) of a value of ``type_path``."""
        if not type_path:
            return None
        return self._elements.get(f"{type_path}.{name}") or self._elements.get(f"{type_path}.{name}[x]")

    def child_for_key(self, type_path: str | None, key: str) -> tuple[Element, str | None] | None:
        """The element behind a JSON key, with the type a choice key names (``valueQuantity`` → Quantity)."""
        if not type_path:
            return None
        element = self._elements.get(f"{type_path}.{key}")
        if element is not None:
            return element, None
        for cut in range(1, len(key)):
            if key[cut].isupper():
                choice = self._elements.get(f"{type_path}.{key[:cut]}[x]")
                if choice is not None:
                    return choice, self.type_code(key[cut:])
        return None

    def type_code(self, suffix: str) -> str:
        """The type code a choice suffix names: ``DateTime`` → ``dateTime``, ``Quantity`` → ``Quantity``."""
        lowered = suffix[:1].lower() + suffix[1:]
        return lowered if lowered in self._primitives else suffix

    def value_type_path(self, element: Element, type_code: str | None = None) -> str | None:
        """The path naming the children of the element's value: a type, or the element itself (backbone)."""
        if element.content_reference:
            return element.content_reference.split("#", 1)[-1]
        code = type_code or (element.types[0] if len(element.types) == 1 else None)
        if code in ("BackboneElement", "Element"):
            return element.path
        if code is None or code == "Resource":
            return None  # a resource's own resourceType names it
        return code


def _element(definition: Mapping) -> Element:
    types: list[str] = []
    for entry in definition.get("type", []):
        code = entry.get("code", "")
        if code.startswith(_SYSTEM_TYPE):  # e.g. Element.id: the FHIR type is in an extension
            code = next(
                (e.get("valueUrl", "") for e in entry.get("extension", []) if e.get("url") == _FHIR_TYPE_EXTENSION),
                "",
            )
        if code:
            types.append(code)
    maximum = str(definition.get("max", "1"))
    return Element(
        path=definition["path"],
        repeats=maximum == "*" or (maximum.isdigit() and int(maximum) > 1),
        types=tuple(types),
        content_reference=definition.get("contentReference"),
    )


_lock = threading.Lock()
_default: ElementDefinitions | None = None


def default_element_definitions() -> ElementDefinitions | None:
    """The R4 core definitions from the configured package cache, read once; None if the package is absent."""
    global _default
    if _default is None:
        from fhir_server.settings import get_settings

        cache = get_settings().fhir_package_cache
        if not is_installed(cache):
            log.warning("hl7.fhir.r4.core#4.0.1 is not in %s: FHIRPath Patch guesses list-ness", cache)
            return None
        with _lock:
            if _default is None:
                _default = ElementDefinitions.load(package_dir(cache))
    return _default
