"""Emitters: one FHIR value of a known type → the typed index rows of one SearchParameter.

``EmitterTable.emitter_for(param_type, fhir_type, code)`` returns ``emit(value, rows, grp)``, or ``None`` when that
type gives nothing for that kind of parameter (a Quantity under a token parameter, ``SampledData`` under quantity, ...).
Emitters trust nothing about the value's shape: a value of the wrong JSON type is skipped, never an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_server.search.index.model import QUANTITY_TYPES
from fhir_server.search.index.normalize import MAX_STRING, normalize_string
from fhir_server.search.index.references import ReferenceParser, RowParts, parse_canonical
from fhir_server.search.index.rows import (
    DateRow,
    IndexRows,
    NumberRow,
    QuantityRow,
    ReferenceRow,
    StringRow,
    TokenRow,
    UriRow,
)
from fhir_server.search.index.values import NUMBER_MAX, NUMBER_MIN, date_range, decimal_of, number_range, period_range

Emitter = Callable[[Any, IndexRows, "int | None"], None]
EmitterFactory = Callable[[str], Emitter]

MAX_URI = 1000
CURRENCY_SYSTEM = "urn:iso:std:iso:4217"

STRING_LIKE = frozenset({"string", "markdown", "code", "id", "uri", "url", "canonical", "oid", "uuid"})
NUMERIC = frozenset({"integer", "decimal", "positiveInt", "unsignedInt", "integer64"})
DATES = frozenset({"date", "dateTime", "instant"})


def _text(value: Any) -> str | None:
    return normalize_string(value)[:MAX_STRING] if type(value) is str and value else None


def _str(value: Any, width: int = MAX_STRING) -> str | None:
    return value[:width] if type(value) is str and value else None


# -- string ------------------------------------------------------------------------------------------------------


def _string_rows(code: str, texts: list[Any], rows: IndexRows, grp: int | None) -> None:
    append = rows.strings.append
    for text in texts:
        if type(text) is str and text:
            append(StringRow(code, normalize_string(text)[:MAX_STRING], text[:MAX_STRING], grp))


def _string_primitive(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is str and value:
            rows.strings.append(StringRow(code, normalize_string(value)[:MAX_STRING], value[:MAX_STRING], grp))

    return emit


def _parts_emitter(code: str, singles: tuple[str, ...], lists: tuple[str, ...]) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is not dict:
            return
        texts: list[Any] = []
        for key in lists:
            items = value.get(key)
            if type(items) is list:
                texts.extend(items)
        for key in singles:
            item = value.get(key)
            if item is not None:
                texts.append(item)
        _string_rows(code, texts, rows, grp)

    return emit


def _string_human_name(code: str) -> Emitter:
    return _parts_emitter(code, ("family", "text"), ("given", "prefix", "suffix"))


def _string_address(code: str) -> Emitter:
    return _parts_emitter(code, ("city", "district", "state", "postalCode", "country", "text"), ("line",))


def _string_concept(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is not dict:
            return
        texts = [value.get("text")]
        codings = value.get("coding")
        if type(codings) is list:
            texts.extend(c.get("display") for c in codings if type(c) is dict)
        _string_rows(code, texts, rows, grp)

    return emit


def _string_field(field: str) -> EmitterFactory:
    def factory(code: str) -> Emitter:
        def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
            if type(value) is dict:
                _string_rows(code, [value.get(field)], rows, grp)

        return emit

    return factory


# -- token -------------------------------------------------------------------------------------------------------


def _token_primitive(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is str and value:
            rows.tokens.append(TokenRow(code, None, value[:MAX_STRING], None, None, None, grp))

    return emit


def _token_boolean(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is bool:
            rows.tokens.append(TokenRow(code, None, "true" if value else "false", None, None, None, grp))

    return emit


def _token_number(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) in (int, float):
            rows.tokens.append(TokenRow(code, None, str(value), None, None, None, grp))

    return emit


def _token_coding(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is dict:
            system, value_code, display = _str(value.get("system")), _str(value.get("code")), value.get("display")
            if system or value_code or display:
                rows.tokens.append(TokenRow(code, system, value_code, _text(display), None, None, grp))

    return emit


def _token_concept(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is not dict:
            return
        append = rows.tokens.append
        text = _text(value.get("text"))
        carried = False
        codings = value.get("coding")
        if type(codings) is list:
            for coding in codings:
                if type(coding) is not dict:
                    continue
                system, value_code = _str(coding.get("system")), _str(coding.get("code"))
                display = _text(coding.get("display"))
                if not (system or value_code or display):
                    continue
                if display is None:
                    display = text
                carried = carried or (display is not None and display == text)
                append(TokenRow(code, system, value_code, display, None, None, grp))
        if text is not None and not carried:
            append(TokenRow(code, None, None, text, None, None, grp))

    return emit


def _token_identifier(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is not dict:
            return
        system, value_code = _str(value.get("system")), _str(value.get("value"))
        id_type = value.get("type")
        text = None
        type_codings: list[tuple[str | None, str | None]] = []
        if type(id_type) is dict:
            text = _text(id_type.get("text"))
            codings = id_type.get("coding")
            if type(codings) is list:
                type_codings = [
                    (_str(c.get("system")), _str(c.get("code"))) for c in codings if type(c) is dict and c.get("code")
                ]
        if not (system or value_code or text or type_codings):
            return
        append = rows.tokens.append
        if not type_codings:
            append(TokenRow(code, system, value_code, text, None, None, grp))
        for type_system, type_code in type_codings:
            append(TokenRow(code, system, value_code, text, type_system, type_code, grp))

    return emit


def _token_contact_point(code: str) -> Emitter:
    """ContactPoint: code = value, system = ContactPoint.system (phone, email, ...), as HAPI indexes it."""

    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is dict:
            cp_value = _str(value.get("value"))
            if cp_value:
                rows.tokens.append(TokenRow(code, _str(value.get("system")), cp_value, None, None, None, grp))

    return emit


# -- reference ---------------------------------------------------------------------------------------------------


def _reference_row(code: str, parts: RowParts, grp: int | None) -> ReferenceRow:
    target_type, target_id, url, version, id_system, id_value = parts
    return ReferenceRow(code, target_type, target_id, url[:MAX_URI] if url else None, version, id_system, id_value, grp)


def _reference_reference(parser: ReferenceParser) -> EmitterFactory:
    row_parts = parser.row_parts

    def factory(code: str) -> Emitter:
        def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
            parts = row_parts(value)
            if parts is not None:
                rows.references.append(_reference_row(code, parts, grp))

        return emit

    return factory


def _reference_uri(parser: ReferenceParser) -> EmitterFactory:
    """A uri used as a reference: a relative ``Type/id`` is split, anything else is kept as the URL."""
    parse = parser.parse

    def factory(code: str) -> Emitter:
        def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
            if type(value) is str and value:
                target_type, target_id, url, version = parse(value)
                rows.references.append(_reference_row(code, (target_type, target_id, url, version, None, None), grp))

        return emit

    return factory


def _reference_canonical(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is str and value:
            url, version = parse_canonical(value)
            rows.references.append(ReferenceRow(code, None, None, url[:MAX_URI], version, None, None, grp))

    return emit


def _reference_resource(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is dict:
            resource_type, resource_id = _str(value.get("resourceType"), 64), _str(value.get("id"), 64)
            if resource_type and resource_id:
                rows.references.append(ReferenceRow(code, resource_type, resource_id, None, None, None, None, grp))

    return emit


# -- date --------------------------------------------------------------------------------------------------------


def _date_primitive(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        found = date_range(value)
        if found is not None:
            rows.dates.append(DateRow(code, found[0], found[1], grp))

    return emit


def _date_period(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        found = period_range(value)
        if found is not None:
            rows.dates.append(DateRow(code, found[0], found[1], grp))

    return emit


def _date_timing(code: str) -> Emitter:
    """Timing: each ``event`` at its precision, and ``repeat.boundsPeriod``."""

    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is not dict:
            return
        events = value.get("event")
        if type(events) is list:
            for event in events:
                found = date_range(event)
                if found is not None:
                    rows.dates.append(DateRow(code, found[0], found[1], grp))
        repeat = value.get("repeat")
        if type(repeat) is dict:
            found = period_range(repeat.get("boundsPeriod"))
            if found is not None:
                rows.dates.append(DateRow(code, found[0], found[1], grp))

    return emit


# -- number and quantity -----------------------------------------------------------------------------------------


def _number_primitive(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is not bool:
            found = number_range(value)
            if found is not None:
                rows.numbers.append(NumberRow(code, found[0], found[1], grp))

    return emit


def _quantity_bounds(value: dict[str, Any]) -> tuple[Any, Any] | None:
    raw = value.get("value")
    if raw is None or type(raw) is bool:
        return None
    found = number_range(raw)
    if found is None:
        return None
    comparator = value.get("comparator")
    if comparator is None:
        return found
    if comparator in ("<", "<="):
        return NUMBER_MIN, (found[1] if comparator == "<=" else decimal_of(raw))
    return (found[0] if comparator == ">=" else decimal_of(raw)), NUMBER_MAX


def _quantity_quantity(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is not dict:
            return
        bounds = _quantity_bounds(value)
        if bounds is not None:
            rows.quantities.append(
                QuantityRow(
                    code,
                    _str(value.get("system")),
                    _str(value.get("code")),
                    _str(value.get("unit")),
                    bounds[0],
                    bounds[1],
                    grp,
                )
            )

    return emit


def _quantity_money(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is not dict:
            return
        bounds = _quantity_bounds(value)
        if bounds is not None:
            currency = _str(value.get("currency"))
            system = CURRENCY_SYSTEM if currency else None
            rows.quantities.append(QuantityRow(code, system, currency, currency, bounds[0], bounds[1], grp))

    return emit


def _quantity_range(code: str) -> Emitter:
    """A Range: one row from low's lower bound to high's upper bound (open ends: NUMBER_MIN/NUMBER_MAX)."""

    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is not dict:
            return
        low, high = value.get("low"), value.get("high")
        low_bounds = _quantity_bounds(low) if type(low) is dict else None
        high_bounds = _quantity_bounds(high) if type(high) is dict else None
        if low_bounds is None and high_bounds is None:
            return
        unit_of = low if low_bounds is not None else high
        rows.quantities.append(
            QuantityRow(
                code,
                _str(unit_of.get("system")),
                _str(unit_of.get("code")),
                _str(unit_of.get("unit")),
                low_bounds[0] if low_bounds is not None else NUMBER_MIN,
                high_bounds[1] if high_bounds is not None else NUMBER_MAX,
                grp,
            )
        )

    return emit


def _number_range(code: str) -> Emitter:
    """A Range under a number parameter: from low's lower bound to high's upper bound."""

    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is not dict:
            return
        low, high = value.get("low"), value.get("high")
        low_bounds = _quantity_bounds(low) if type(low) is dict else None
        high_bounds = _quantity_bounds(high) if type(high) is dict else None
        if low_bounds is not None or high_bounds is not None:
            rows.numbers.append(
                NumberRow(
                    code,
                    low_bounds[0] if low_bounds is not None else NUMBER_MIN,
                    high_bounds[1] if high_bounds is not None else NUMBER_MAX,
                    grp,
                )
            )

    return emit


def _quantity_number(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is not bool:
            found = number_range(value)
            if found is not None:
                rows.quantities.append(QuantityRow(code, None, None, None, found[0], found[1], grp))

    return emit


# -- uri ---------------------------------------------------------------------------------------------------------


def _uri_primitive(code: str) -> Emitter:
    def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
        if type(value) is str and value:
            rows.uris.append(UriRow(code, value[:MAX_URI], grp))

    return emit


# -- the table ---------------------------------------------------------------------------------------------------


def _table(parser: ReferenceParser) -> dict[tuple[str, str], EmitterFactory]:
    table: dict[tuple[str, str], EmitterFactory] = {}
    for fhir_type in STRING_LIKE:
        table["string", fhir_type] = _string_primitive
        table["token", fhir_type] = _token_primitive
        table["uri", fhir_type] = _uri_primitive
    table["reference", "canonical"] = _reference_canonical
    table["reference", "uri"] = _reference_uri(parser)
    table["reference", "url"] = _reference_uri(parser)
    table["reference", "Reference"] = _reference_reference(parser)
    table["reference", "Resource"] = _reference_resource
    table["string", "HumanName"] = _string_human_name
    table["string", "Address"] = _string_address
    table["string", "CodeableConcept"] = _string_concept
    table["string", "Coding"] = _string_field("display")
    table["string", "Annotation"] = _string_field("text")
    table["string", "Identifier"] = _string_field("value")
    table["string", "ContactPoint"] = _string_field("value")
    table["token", "boolean"] = _token_boolean
    table["token", "Coding"] = _token_coding
    table["token", "CodeableConcept"] = _token_concept
    table["token", "Identifier"] = _token_identifier
    table["token", "ContactPoint"] = _token_contact_point
    for fhir_type in NUMERIC:
        table["token", fhir_type] = _token_number
        table["number", fhir_type] = _number_primitive
        table["quantity", fhir_type] = _quantity_number
    for fhir_type in DATES:
        table["date", fhir_type] = _date_primitive
    table["date", "string"] = _date_primitive
    table["date", "Period"] = _date_period
    table["date", "Timing"] = _date_timing
    for fhir_type in QUANTITY_TYPES:
        table["quantity", fhir_type] = _quantity_quantity
    table["quantity", "Money"] = _quantity_money
    table["quantity", "Range"] = _quantity_range
    table["number", "Range"] = _number_range
    return table


class EmitterTable:
    """Emitters by (parameter type, FHIR type), with references parsed against the known resource types."""

    def __init__(self, parser: ReferenceParser) -> None:
        self.parser = parser
        self._factories = _table(parser)

    def emitter_for(self, param_type: str, fhir_type: str, code: str) -> Emitter | None:
        """The emitter of ``fhir_type`` values for a parameter of ``param_type`` named ``code`` (None: nothing)."""
        if param_type == "reference" and (
            fhir_type in self.parser.resource_types or fhir_type in ("Resource", "DomainResource")
        ):
            fhir_type = "Resource"
        factory = self._factories.get((param_type, fhir_type))
        return factory(code) if factory is not None else None

    def extension_emitter(self, param_type: str, code: str, value_types: tuple[tuple[str, str], ...]) -> Emitter | None:
        """An Extension: the emitter of whichever ``value[x]`` it carries (``value_types``: key → FHIR type)."""
        by_key = {
            key: emitter
            for key, fhir_type in value_types
            if (emitter := self.emitter_for(param_type, fhir_type, code)) is not None
        }
        if not by_key:
            return None

        def emit(value: Any, rows: IndexRows, grp: int | None) -> None:
            if type(value) is dict:
                for key, item in value.items():
                    emitter = by_key.get(key)
                    if emitter is not None:
                        emitter(item, rows, grp)
                        return

        return emit
