"""Expressions the compiler does not translate, evaluated with fhirpathpy (with the R4 model for choice types).

fhirpathpy returns plain JSON values without their FHIR type, so the type is guessed from the value's shape and
the parameter's type (a dict with ``coding`` is a CodeableConcept, a string under a date parameter a dateTime).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from fhir_server.search.index.emit import Emitter, EmitterTable
from fhir_server.search.index.rows import IndexRows

log = logging.getLogger(__name__)

_STRING_TYPE_BY_PARAM = {
    "date": "dateTime",
    "reference": "uri",
    "token": "code",
    "string": "string",
    "uri": "uri",
    "number": "decimal",
    "quantity": "decimal",
}
# (keys that identify the shape, FHIR type), tried in order
_SHAPES: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"resourceType"}), "Resource"),
    (frozenset({"reference"}), "Reference"),
    (frozenset({"coding"}), "CodeableConcept"),
    (frozenset({"family"}), "HumanName"),
    (frozenset({"given"}), "HumanName"),
    (frozenset({"line"}), "Address"),
    (frozenset({"city"}), "Address"),
    (frozenset({"postalCode"}), "Address"),
    (frozenset({"currency"}), "Money"),
    (frozenset({"low"}), "Range"),
    (frozenset({"high"}), "Range"),
    (frozenset({"start"}), "Period"),
    (frozenset({"end"}), "Period"),
    (frozenset({"event"}), "Timing"),
    (frozenset({"repeat"}), "Timing"),
    (frozenset({"assigner"}), "Identifier"),
    (frozenset({"url"}), "Extension"),
)
_CONTACT_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})


def guess_type(value: Any, param_type: str) -> str | None:
    """The FHIR type a fhirpathpy result most likely has, for a parameter of ``param_type``."""
    if type(value) is bool:
        return "boolean"
    if type(value) is int:
        return "integer"
    if isinstance(value, float | Decimal):
        return "decimal"
    if isinstance(value, str):
        return _STRING_TYPE_BY_PARAM.get(param_type, "string")
    if not isinstance(value, dict):
        return None
    keys = value.keys()
    for shape, fhir_type in _SHAPES:
        if not shape.isdisjoint(keys):
            return fhir_type
    if "identifier" in keys or ("display" in keys and param_type == "reference"):
        return "Reference"
    if "value" in keys:
        if value.get("system") in _CONTACT_SYSTEMS:
            return "ContactPoint"
        if param_type in ("quantity", "number"):
            return "Quantity"
        if "type" in keys or param_type in ("token", "string"):
            return "Identifier"
    if "code" in keys or "system" in keys:
        return "Coding"
    if "text" in keys and param_type == "string":
        return "Annotation"
    return None


class FallbackExtractor:
    """One SearchParameter evaluated by fhirpathpy on the whole resource."""

    def __init__(self, expression: str, param_type: str, code: str, emitters: EmitterTable) -> None:
        import fhirpathpy
        from fhirpathpy.models import models

        self.expression = expression
        self._evaluate = fhirpathpy.compile(expression, models["r4"])
        self._param_type = param_type
        self._code = code
        self._emitters = emitters
        self._by_type: dict[str, Emitter | None] = {}
        self._extension_values: tuple[tuple[str, str], ...] = ()

    def _emitter(self, fhir_type: str) -> Emitter | None:
        if fhir_type not in self._by_type:
            if fhir_type == "Extension":
                emitter = self._emitters.extension_emitter(self._param_type, self._code, self._extension_values)
            else:
                emitter = self._emitters.emitter_for(self._param_type, fhir_type, self._code)
            self._by_type[fhir_type] = emitter
        return self._by_type[fhir_type]

    def set_extension_values(self, value_types: tuple[tuple[str, str], ...]) -> None:
        self._extension_values = value_types

    def __call__(self, resource: dict[str, Any], rows: IndexRows) -> None:
        try:
            values = self._evaluate(resource)
        except Exception as exc:  # fhirpathpy raises many kinds; an index value must never fail a write
            log.debug("fhirpathpy failed on %s: %s", self.expression, exc)
            return
        for value in values:
            fhir_type = guess_type(value, self._param_type)
            emitter = self._emitter(fhir_type) if fhir_type is not None else None
            if emitter is not None:
                emitter(value, rows, None)
