"""number parameters (and the numeric half of quantities).

A search value ``100`` stands for [99.5, 100.5) (half a unit of its last digit); indexed values are stored the
same way, so an indexed row's written value is the middle of [low, high). Rows with an open end (a quantity with a
comparator ``<5``, a Range without high) are genuine ranges and compare by overlap. With search value v and its
precision range [vl, vh):

- eq: the written value lies in [vl, vh) (``100`` matches 99.7 and 100.0, not 100.5); ne: it does not
- gt, ge, lt, le: the written value compared with v exactly (``gt100`` matches 100.1, not 100; an open row
  matches when the part of the line above/below v overlaps it)
- sa: low >= vh (starts after); eb: high <= vl (ends before)
- ap: within ±10 % of v (at least the precision range), or overlapping that for open rows.

Comparisons use ``low + high`` against ``2·v`` with a tiny relative tolerance, as SQLite stores floats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, not_, or_

from fhir_server.errors import bad_request
from fhir_server.search.index.values import NUMBER_MAX, NUMBER_MIN
from fhir_server.search.query.context import QueryContext, Target
from fhir_server.search.query.parameters import split_prefix, unescape
from fhir_server.search.query.sql import any_of, has_row
from fhir_server.storage.schema import search_number

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_FIVE = Decimal(5)
_TENTH = Decimal("0.1")
_TOLERANCE = Decimal("1e-9")


@dataclass(frozen=True, slots=True)
class NumberValue:
    prefix: str
    value: Decimal
    half: Decimal  # half a unit of the last digit written

    @property
    def low(self) -> Decimal:
        return self.value - self.half

    @property
    def high(self) -> Decimal:
        return self.value + self.half

    def scaled(self, factor: Decimal) -> NumberValue:
        return NumberValue(self.prefix, self.value * factor, self.half * factor)


def parse_number_text(prefix: str, text: str, name: str, what: str = "number") -> NumberValue:
    if not _NUMBER.fullmatch(text):
        raise bad_request(
            f"'{name}': '{prefix if prefix != 'eq' else ''}{text}' is not a valid {what} search value "
            "([prefix]decimal, prefixes eq ne gt lt ge le sa eb ap)",
            name,
        )
    try:
        number = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already rules this out
        raise bad_request(f"'{name}': '{text}' is not a number", name) from exc
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    return NumberValue(prefix, number, _FIVE.scaleb(exponent - 1))


def parse_number(raw: str, name: str) -> NumberValue:
    prefix, text = split_prefix(unescape(raw))
    return parse_number_text(prefix, text, name)


def value_clause(n: NumberValue, low: ColumnElement[Any], high: ColumnElement[Any]) -> ColumnElement[bool]:
    """The prefix semantics above, for one search value against one row's [low, high)."""
    v, prefix = n.value, n.prefix
    eps = (abs(v) + n.half) * _TOLERANCE
    total = low + high
    is_open = or_(low <= NUMBER_MIN, high >= NUMBER_MAX)
    finite = and_(low > NUMBER_MIN, high < NUMBER_MAX)
    if prefix in ("eq", "ne"):
        eq = and_(low < n.high, high > n.low, finite, total >= 2 * n.low - eps, total < 2 * n.high - eps)
        return eq if prefix == "eq" else not_(eq)
    if prefix == "gt":
        return and_(high > v, or_(is_open, total > 2 * v + eps))
    if prefix == "ge":
        return and_(high > v, or_(is_open, total >= 2 * v - eps))
    if prefix == "lt":
        return and_(low < v, or_(is_open, total < 2 * v - eps))
    if prefix == "le":
        return and_(low < v, or_(is_open, total <= 2 * v + eps))
    if prefix == "sa":
        return low >= n.high
    if prefix == "eb":
        return high <= n.low
    margin = max(abs(v) * _TENTH, n.half)  # ap
    lo, hi = v - margin, v + margin
    return and_(low < hi, high > lo, or_(is_open, and_(total >= 2 * lo - eps, total <= 2 * hi + eps)))


def condition(ctx: QueryContext, target: Target, modifier: str | None, values: list[str]) -> ColumnElement[bool]:
    if modifier is not None:
        raise bad_request(f"'{target.name}': a number parameter takes only :missing, not :{modifier}", target.name)
    table: FromClause = search_number
    clause = any_of(row_clause(table, v, target.name) for v in values)
    return has_row(table, target.resource_type, target.code, clause)


def row_clause(table: FromClause, raw: str, name: str) -> ColumnElement[bool]:
    return value_clause(parse_number(raw, name), table.c.low, table.c.high)
