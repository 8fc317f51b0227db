"""quantity parameters: ``[prefix]number``, ``[prefix]number|system|code``, ``[prefix]number||code``.

The number compares as in ``number``. ``system|code`` must match the row's system and code; ``||code`` matches
the code or the unit text. For UCUM units made of a metric prefix and a common base (``mg``, ``mmol/L``,
``ug/dL``, ``cm``), the search also matches the same quantity written with another common prefix of that base
(``5.4|UCUM|mg`` finds 0.0054 g), scaling the number and its precision alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import product

from sqlalchemy import ColumnElement, FromClause, and_, or_

from fhir_server.errors import bad_request
from fhir_server.search.index.normalize import MAX_STRING
from fhir_server.search.query.context import QueryContext, Target
from fhir_server.search.query.number import NumberValue, parse_number_text, value_clause
from fhir_server.search.query.parameters import split_prefix, split_unescaped, unescape
from fhir_server.search.query.sql import any_of, has_row
from fhir_server.storage.schema import search_quantity

UCUM = "http://unitsofmeasure.org"

_SCALE = {
    "": Decimal(1),
    "k": Decimal("1e3"),
    "d": Decimal("1e-1"),
    "c": Decimal("1e-2"),
    "m": Decimal("1e-3"),
    "u": Decimal("1e-6"),
    "n": Decimal("1e-9"),
    "p": Decimal("1e-12"),
}
# base unit → the prefixes worth trying for it (longest base names first when parsing)
_COMMON = {
    "mol": ("", "m", "u", "n"),
    "g": ("k", "", "m", "u", "n", "p"),
    "L": ("", "d", "m", "u"),
    "m": ("k", "", "c", "m", "u"),
}


@dataclass(frozen=True, slots=True)
class QuantityValue:
    number: NumberValue
    system: str | None  # None: not given; "": explicitly none (``||code``)
    code: str | None


def parse_quantity(raw: str, name: str) -> QuantityValue:
    prefix, rest = split_prefix(raw)
    parts = split_unescaped(rest, "|")
    if len(parts) not in (1, 3):
        raise bad_request(f"'{name}': a quantity is [prefix]number, [prefix]number|system|code or number||code", name)
    number = parse_number_text(prefix, unescape(parts[0]), name, "quantity")
    if len(parts) == 1:
        return QuantityValue(number, None, None)
    system, code = unescape(parts[1])[:MAX_STRING], unescape(parts[2])[:MAX_STRING]
    return QuantityValue(number, system, code or None)


def _atom(unit: str) -> tuple[str, str] | None:
    for base in _COMMON:
        if unit.endswith(base) and unit[: -len(base)] in _SCALE:
            return unit[: -len(base)], base
    return None


def ucum_variants(code: str) -> list[tuple[str, Decimal]]:
    """``code`` and the same unit with other common prefixes, each with the factor a value is multiplied by."""
    numerator, slash, denominator = code.partition("/")
    top = _atom(numerator)
    bottom = _atom(denominator) if slash else ("", "")
    if top is None or bottom is None:
        return [(code, Decimal(1))]
    variants = [(code, Decimal(1))]
    bottom_prefixes = _COMMON[bottom[1]] if slash else ("",)
    for p_top, p_bottom in product(_COMMON[top[1]], bottom_prefixes):
        unit = p_top + top[1] + (f"/{p_bottom}{bottom[1]}" if slash else "")
        if unit != code:
            factor = _SCALE[top[0]] / _SCALE[p_top] * (_SCALE[p_bottom] / _SCALE[bottom[0]])
            variants.append((unit, factor))
    return variants


def row_clause(table: FromClause, raw: str, name: str) -> ColumnElement[bool]:
    q = parse_quantity(raw, name)
    low, high = table.c.low, table.c.high
    if q.system is None:
        return value_clause(q.number, low, high)
    if q.system == "":
        if q.code is None:
            return value_clause(q.number, low, high)
        return and_(or_(table.c.code == q.code, table.c.unit == q.code), value_clause(q.number, low, high))
    if q.code is None:
        return and_(table.c.system == q.system, value_clause(q.number, low, high))
    variants = ucum_variants(q.code) if q.system == UCUM else [(q.code, Decimal(1))]
    return any_of(
        and_(table.c.code == unit, table.c.system == q.system, value_clause(q.number.scaled(factor), low, high))
        for unit, factor in variants
    )


def condition(ctx: QueryContext, target: Target, modifier: str | None, values: list[str]) -> ColumnElement[bool]:
    if modifier is not None:
        raise bad_request(f"'{target.name}': a quantity parameter takes only :missing, not :{modifier}", target.name)
    clause = any_of(row_clause(search_quantity, v, target.name) for v in values)
    return has_row(search_quantity, target.resource_type, target.code, clause)
