"""FHIR XML → FHIR JSON, for the tests only (the server speaks JSON; the official patch cases are XML).

The rules (https://hl7.org/fhir/R4/xml.html, json.html): a ``value`` attribute is the primitive value, typed
by the element's type (boolean, integer, decimal; strings otherwise); an element's ``id`` (and an
extension's ``url``) attributes are members; a primitive's ``id``/extensions go to the ``_name`` companion;
a repeating element (max ``*`` or > 1) is an array; a choice element is named with its type
(``valueCodeableConcept``); a ``Resource``-typed element holds one resource; ``xhtml`` is kept as markup.
Cardinalities and types come from the base StructureDefinitions, read here independently of the server's own
reading of them, so the two cannot share a mistake.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
_FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
_INTEGERS = {"integer", "positiveInt", "unsignedInt"}


@dataclass(frozen=True)
class Definition:
    path: str
    repeats: bool
    types: tuple[str, ...]
    content_reference: str | None


class StructureDefinitions:
    """Element definitions of the base types of an unpacked FHIR package, by path."""

    def __init__(self, package: Path) -> None:
        self.elements: dict[str, Definition] = {}
        self.primitives: set[str] = set()
        for file in package.glob("StructureDefinition-*.json"):
            sd = json.loads(file.read_text(encoding="utf-8"))
            if sd.get("derivation") != "specialization":
                continue
            if sd.get("kind") == "primitive-type":
                self.primitives.add(sd["type"])
            for element in sd["snapshot"]["element"]:
                maximum = element.get("max", "1")
                self.elements[element["path"]] = Definition(
                    path=element["path"],
                    repeats=maximum == "*" or int(maximum) > 1,
                    types=tuple(_type_code(t) for t in element.get("type", [])),
                    content_reference=element.get("contentReference"),
                )

    def child(self, type_path: str, name: str) -> tuple[Definition, str]:
        """The definition of the child element ``name`` (as named in XML) and its type code."""
        found = self.elements.get(f"{type_path}.{name}")
        if found is not None:
            return found, found.types[0] if len(found.types) == 1 else ""
        for cut in range(1, len(name)):
            choice = self.elements.get(f"{type_path}.{name[:cut]}[x]") if name[cut].isupper() else None
            if choice is not None:
                suffix = name[cut:]
                lowered = suffix[0].lower() + suffix[1:]
                return choice, lowered if lowered in self.primitives else suffix
        raise KeyError(f"no element {name} in {type_path}")

    def children_path(self, definition: Definition, type_code: str) -> str:
        if definition.content_reference:
            return definition.content_reference.lstrip("#")
        if type_code in ("BackboneElement", "Element"):
            return definition.path
        return type_code


def _type_code(entry: dict[str, Any]) -> str:
    for extension in entry.get("extension", []):
        if extension.get("url") == _FHIR_TYPE:
            return extension["valueUrl"]
    return entry["code"]


def resource_to_json(element: etree._Element, sds: StructureDefinitions) -> dict[str, Any]:
    resource_type = etree.QName(element).localname
    resource: dict[str, Any] = {"resourceType": resource_type}
    _fill(resource, element, resource_type, sds)
    return resource


def _fill(target: dict[str, Any], element: etree._Element, type_path: str, sds: StructureDefinitions) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        if etree.QName(child).namespace not in (FHIR_NS, XHTML_NS):
            raise ValueError(f"unexpected element {child.tag}")
        name = etree.QName(child).localname
        definition, type_code = sds.child(type_path, name)
        value, companion = _element(child, definition, type_code, sds)
        if definition.repeats:
            target.setdefault(name, []).append(value)
            if companion is not None or f"_{name}" in target:
                companions = target.setdefault(f"_{name}", [None] * (len(target[name]) - 1))
                companions.append(companion)
        else:
            if value is not None:
                target[name] = value
            if companion is not None:
                target[f"_{name}"] = companion


def _element(
    element: etree._Element, definition: Definition, type_code: str, sds: StructureDefinitions
) -> tuple[Any, dict[str, Any] | None]:
    """(value, companion) of one XML element."""
    if type_code == "xhtml":
        return etree.tostring(element, encoding="unicode", with_tail=False), None
    if type_code == "Resource":
        inner = [c for c in element if isinstance(c.tag, str)]
        assert len(inner) == 1, f"{definition.path} must hold one resource"
        return resource_to_json(inner[0], sds), None
    if type_code in sds.primitives:
        companion: dict[str, Any] = {}
        if element.get("id") is not None:
            companion["id"] = element.get("id")
        _fill(companion, element, type_code, sds)  # a primitive's children: its extensions
        raw = element.get("value")
        return (None if raw is None else _typed(raw, type_code)), (companion or None)
    value: dict[str, Any] = {}
    for attribute in ("id", "url"):
        if element.get(attribute) is not None:
            value[attribute] = element.get(attribute)
    _fill(value, element, sds.children_path(definition, type_code), sds)
    return value, None


def _typed(raw: str, type_code: str) -> Any:
    if type_code == "boolean":
        assert raw in ("true", "false"), f"not a boolean: {raw!r}"
        return raw == "true"
    if type_code in _INTEGERS:
        return int(raw)
    if type_code == "decimal":
        return Decimal(raw)
    return raw
