"""``_summary`` and ``_elements``: subsets of a resource, driven by the StructureDefinitions' ``isSummary`` and ``min``.

A subsetted resource is marked with the ``SUBSETTED`` tag, as the spec requires.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fhir_server.definitions.registry import Definitions
from fhir_server.errors import bad_request

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
SUMMARY_MODES = ("true", "false", "text", "data", "count")
_ALWAYS = ("resourceType", "id", "meta")


class ElementFilter:
    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self._elements = lru_cache(maxsize=None)(self._top_level_elements)

    def _top_level_elements(self, resource_type: str) -> tuple[frozenset[str], frozenset[str]]:
        """(summary element names, mandatory element names) of a type; choice names without ``[x]``."""
        definition = self.definitions.structure_definition(resource_type) or {}
        summary: set[str] = set()
        mandatory: set[str] = set()
        for element in (definition.get("snapshot") or {}).get("element", []):
            path = element.get("path", "")
            parts = path.split(".")
            if len(parts) != 2:
                continue
            name = parts[1].removesuffix("[x]")
            if element.get("isSummary"):
                summary.add(name)
            if int(element.get("min") or 0) > 0:
                mandatory.add(name)
        return frozenset(summary), frozenset(mandatory)

    @staticmethod
    def _element_name(key: str, names: frozenset[str]) -> str:
        """The element a JSON key belongs to (``valueQuantity`` → ``value``, ``_birthDate`` → ``birthDate``)."""
        key = key.lstrip("_")
        if key in names:
            return key
        for name in names:
            if key.startswith(name) and key[len(name) : len(name) + 1].isupper():
                return name
        return key

    def _keep(self, resource: dict[str, Any], wanted: frozenset[str]) -> dict[str, Any]:
        kept = {
            key: value for key, value in resource.items() if key in _ALWAYS or self._element_name(key, wanted) in wanted
        }
        meta = dict(kept.get("meta") or {})
        meta["tag"] = [*meta.get("tag", []), SUBSETTED]
        kept["meta"] = meta
        return kept

    def apply(self, resource: dict[str, Any], summary: str | None, elements: list[str] | None) -> dict[str, Any]:
        resource_type = resource.get("resourceType", "")
        summary_names, mandatory = self._elements(resource_type)
        if summary in (None, "false", "count"):
            if not elements:
                return resource
            return self._keep(resource, frozenset(elements) | mandatory)
        if summary == "true":
            return self._keep(resource, summary_names | mandatory)
        if summary == "text":
            return self._keep(resource, frozenset({"text"}) | mandatory)
        if summary == "data":
            return self._keep(resource, frozenset(k for k in resource if k != "text"))
        raise bad_request("_summary must be true, text, data, count or false", "_summary")


def parse_elements(value: str) -> list[str]:
    names = [part.strip() for part in value.split(",") if part.strip()]
    for name in names:
        if "." in name:
            raise bad_request("_elements takes top-level element names (e.g. identifier,name)", "_elements")
    return names
