"""date parameters with the spec's range semantics.

A search value covers a range at its precision (``2020`` is all of 2020, ``2020-05-01T10:00Z`` one minute), in
UTC; so does every indexed value ([low, high), open ends at DATE_MIN/DATE_MAX). With search range [vl, vh) and
indexed range [tl, th):

- eq: [tl, th) lies within [vl, vh)              ne: it does not
- gt: th > vh (some of it after the search range)  lt: tl < vl (some of it before)
- ge: gt or eq                                    le: lt or eq
- sa: tl >= vh (starts after)                     eb: th <= vl (ends before)
- ap: overlaps the search range widened by 10 % of the gap between now and the date.

``point_clause`` is the same over an instant column (``_lastUpdated``: [t, t + ε)).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, or_

from fhir_server.errors import FhirError, bad_request
from fhir_server.search.dates import DateRange, parse_date_range
from fhir_server.search.index.rows import DATE_MAX, DATE_MIN
from fhir_server.search.query.context import QueryContext, Target
from fhir_server.search.query.parameters import split_prefix, unescape
from fhir_server.search.query.sql import any_of, has_row
from fhir_server.storage.schema import search_date


def parse_date(raw: str, name: str) -> tuple[str, DateRange]:
    prefix, text = split_prefix(unescape(raw))
    try:
        return prefix, parse_date_range(text, name)
    except (FhirError, ValueError, OverflowError) as exc:
        raise bad_request(
            f"'{name}': '{raw}' is not a valid date search value ([prefix]YYYY[-MM[-DD[Thh:mm[:ss[.fff]][Z|±hh:mm]]]],"
            " prefixes eq ne gt lt ge le sa eb ap)",
            name,
        ) from exc


def _shift(moment: datetime, delta: timedelta) -> datetime:
    try:
        return min(max(moment + delta, DATE_MIN), DATE_MAX)
    except OverflowError:
        return DATE_MAX if delta > timedelta(0) else DATE_MIN


def approximation(rng: DateRange, now: datetime) -> timedelta:
    """10 % of the gap between now and the date (the spec's suggestion)."""
    return abs(now - rng.low) / 10


def range_clause(
    prefix: str, low: ColumnElement[Any], high: ColumnElement[Any], rng: DateRange, now: datetime
) -> ColumnElement[bool]:
    vl, vh = rng.low, rng.high
    within = and_(low >= vl, high <= vh)
    if prefix == "eq":
        return within
    if prefix == "ne":
        return or_(low < vl, high > vh)
    if prefix == "gt":
        return high > vh
    if prefix == "lt":
        return low < vl
    if prefix == "ge":
        return and_(high > vl, or_(high > vh, within))  # the first term only helps the planner
    if prefix == "le":
        return and_(low < vh, or_(low < vl, within))
    if prefix == "sa":
        return low >= vh
    if prefix == "eb":
        return high <= vl
    margin = approximation(rng, now)  # ap
    return and_(low < _shift(vh, margin), high > _shift(vl, -margin))


def point_clause(prefix: str, column: ColumnElement[Any], rng: DateRange, now: datetime) -> ColumnElement[bool]:
    """``range_clause`` for an instant t, i.e. the range [t, t + ε)."""
    vl, vh = rng.low, rng.high
    if prefix == "eq":
        return and_(column >= vl, column < vh)
    if prefix == "ne":
        return or_(column < vl, column >= vh)
    if prefix in ("gt", "sa"):
        return column >= vh
    if prefix in ("lt", "eb"):
        return column < vl
    if prefix == "ge":
        return column >= vl
    if prefix == "le":
        return column < vh
    margin = approximation(rng, now)  # ap
    return and_(column >= _shift(vl, -margin), column < _shift(vh, margin))


def row_clause(table: FromClause, raw: str, name: str, now: datetime) -> ColumnElement[bool]:
    prefix, rng = parse_date(raw, name)
    return range_clause(prefix, table.c.low, table.c.high, rng, now)


def condition(ctx: QueryContext, target: Target, modifier: str | None, values: list[str]) -> ColumnElement[bool]:
    if modifier is not None:
        raise bad_request(f"'{target.name}': a date parameter takes only :missing, not :{modifier}", target.name)
    clause = any_of(row_clause(search_date, v, target.name, ctx.now) for v in values)
    return has_row(search_date, target.resource_type, target.code, clause)
