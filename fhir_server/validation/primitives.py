"""Checks for FHIR R4 primitive values in JSON, built from the core primitive-type StructureDefinitions.

Each primitive type gets one checker ``(value) -> message | None``. The lexical rule is the regex the R4 SD
declares on ``<type>.value`` (compiled with ``re.ASCII``: in FHIR, as in Java and XML Schema, ``\\s``/``\\S`` are
the ASCII classes, so a no-break space is ordinary text), plus what a regex cannot say: the JSON type (boolean,
integer, number, string), integer ranges, calendar validity of dates, non-empty strings and the 1 MB string
limit. Messages never quote the value (it may be patient data).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from typing import Any

from fhir_server.definitions.registry import Definitions

PrimitiveCheck = Callable[[Any], str | None]

REGEX_EXTENSION = "http://hl7.org/fhir/StructureDefinition/regex"
FHIR_TYPE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
MAX_STRING_CHARS = 1024 * 1024
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# FHIRPath system types used in snapshots for Element.id, Extension.url, the value of primitives, ...
SYSTEM_TYPES = {
    "http://hl7.org/fhirpath/System.String": "string",
    "http://hl7.org/fhirpath/System.Boolean": "boolean",
    "http://hl7.org/fhirpath/System.Integer": "integer",
    "http://hl7.org/fhirpath/System.Decimal": "decimal",
    "http://hl7.org/fhirpath/System.Date": "date",
    "http://hl7.org/fhirpath/System.DateTime": "dateTime",
    "http://hl7.org/fhirpath/System.Time": "time",
}

_MIN_BY_TYPE = {"integer": INT32_MIN, "unsignedInt": 0, "positiveInt": 1}
_DATE_TYPES = frozenset({"date", "dateTime", "instant"})
_ASCII_WHITESPACE = str.maketrans("", "", " \t\n\r\f\v")
_BASE64_CHARS = re.compile(r"[0-9a-zA-Z+/=]+", re.ASCII)


def _valid_calendar_day(value: str) -> bool:
    """The regexes allow day 31 in any month: check the day exists (``YYYY-MM-DD...``, regex already matched)."""
    if len(value) < 10 or value[8:10] < "29":  # two-digit days compare correctly as strings
        return True
    return int(value[8:10]) <= calendar.monthrange(int(value[0:4]), int(value[5:7]))[1]


def _boolean_check(value: Any) -> str | None:
    return None if type(value) is bool else "Expected a JSON boolean (true or false)"


def _decimal_check(value: Any) -> str | None:
    return None if type(value) in (int, float) else "Expected a JSON number for a decimal"


def _integer_check(type_code: str) -> PrimitiveCheck:
    minimum = _MIN_BY_TYPE.get(type_code, INT32_MIN)

    def check(value: Any) -> str | None:
        if type(value) is not int:
            return f"Expected a JSON integer for a {type_code}"
        if value < minimum or value > INT32_MAX:
            return f"Integer out of range for a {type_code}"
        return None

    return check


def _base64_check(value: Any) -> str | None:
    if type(value) is not str:
        return "Expected a JSON string for a base64Binary"
    compact = value.translate(_ASCII_WHITESPACE)
    if not compact or len(compact) % 4 or not _BASE64_CHARS.fullmatch(compact):
        return "Invalid base64Binary content"
    return None


def _xhtml_check(value: Any) -> str | None:
    if type(value) is not str:
        return "Expected a JSON string for xhtml"
    if not value.lstrip().startswith("<div"):
        return "Narrative must be an XHTML <div> element"
    return None


def _string_check(type_code: str, pattern: re.Pattern[str] | None) -> PrimitiveCheck:
    expected = f"Expected a JSON string for a {type_code}"
    invalid = f"Invalid {type_code} format"
    dates = type_code in _DATE_TYPES
    long_text = type_code in ("string", "markdown")

    def check(value: Any) -> str | None:
        if type(value) is not str:
            return expected
        if not value:
            return f"Empty string is not a valid {type_code}"
        if pattern is not None and pattern.fullmatch(value) is None:
            return invalid
        if dates and not _valid_calendar_day(value):
            return f"Invalid {type_code}: the day does not exist in that month"
        if long_text and len(value) > MAX_STRING_CHARS:
            return f"A {type_code} may not exceed 1 MB"
        return None

    return check


def _value_regex(sd: dict[str, Any]) -> str | None:
    for element in sd.get("snapshot", {}).get("element", ()):
        if element.get("path", "").endswith(".value"):
            for type_ref in element.get("type", ()):
                for extension in type_ref.get("extension", ()):
                    if extension.get("url") == REGEX_EXTENSION and isinstance(extension.get("valueString"), str):
                        return extension["valueString"]
    return None


def checker_for(type_code: str, sd: dict[str, Any] | None) -> PrimitiveCheck:
    """The checker of one primitive type, using the regex of its StructureDefinition when there is one."""
    if type_code == "boolean":
        return _boolean_check
    if type_code == "decimal":
        return _decimal_check
    if type_code in _MIN_BY_TYPE:
        return _integer_check(type_code)
    if type_code == "base64Binary":
        return _base64_check  # linear check; the SD regex backtracks badly on long invalid input
    if type_code == "xhtml":
        return _xhtml_check
    regex = _value_regex(sd) if sd is not None else None
    return _string_check(type_code, re.compile(regex, re.ASCII) if regex else None)


def fhir_type_of(type_ref: dict[str, Any]) -> str:
    """The FHIR type of an ElementDefinition.type, resolving FHIRPath system types (``System.String``)."""
    code = type_ref.get("code", "")
    if code in SYSTEM_TYPES:
        for extension in type_ref.get("extension", ()):
            if extension.get("url") == FHIR_TYPE_EXTENSION:
                fhir_type = extension.get("valueUrl") or extension.get("valueUri") or extension.get("valueString")
                if isinstance(fhir_type, str):
                    return fhir_type
        return SYSTEM_TYPES[code]
    return code


class PrimitiveCheckers:
    """Checkers for every primitive type of the loaded packages, built on first use."""

    def __init__(self, definitions: Definitions) -> None:
        self._definitions = definitions
        self._checkers: dict[str, PrimitiveCheck] = {}
        self.types = definitions.base_types_of_kind("primitive-type")

    def __contains__(self, type_code: str) -> bool:
        return type_code in self.types

    def get(self, type_code: str) -> PrimitiveCheck:
        checker = self._checkers.get(type_code)
        if checker is None:
            checker = checker_for(type_code, self._definitions.structure_definition(type_code))
            self._checkers[type_code] = checker
        return checker
