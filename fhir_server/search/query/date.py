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

Repeating a date parameter (``date=ge2024-05-01&date=lt2024-05-08``) ANDs its values; ``group_condition`` answers
them together: a resource with one value matches when that value meets them all (one row, a window on ``low``
per width class, see ``search/index/date_spans.py``), a resource with several when each is met by some value.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, or_, union

from fhir_server.errors import FhirError, bad_request
from fhir_server.search.dates import DateRange, parse_date_range
from fhir_server.search.index.date_spans import HULL, MULTI, OPEN_SPAN, SPAN_LIMITS, VALUE
from fhir_server.search.index.rows import DATE_MAX, DATE_MIN
from fhir_server.search.query.context import QueryContext, Target
from fhir_server.search.query.parameters import split_prefix, unescape
from fhir_server.search.query.sql import all_of, any_of, has_row, index_rids
from fhir_server.storage.schema import resource, search_date


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
        return and_(within, low < vh)  # low < vh follows (low < high): it bounds the index range on low
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
    if len(values) == 1:
        return group_condition(ctx, target, values)
    clause = any_of(_value_clause(search_date, v, target.name, ctx.now) for v in values)
    return has_row(search_date, target.resource_type, target.code, clause)


def _value_clause(table: FromClause, raw: str, name: str, now: datetime) -> ColumnElement[bool]:
    """``row_clause`` for rows of ``search_date``: ``ap`` leaves hull rows out (the others may match them)."""
    prefix, rng = parse_date(raw, name)
    clause = range_clause(prefix, table.c.low, table.c.high, rng, now)
    return and_(clause, table.c.role != HULL) if prefix == "ap" else clause


Bounds = tuple[datetime | None, datetime | None, datetime | None]


def _bounds(prefix: str, rng: DateRange, now: datetime) -> Bounds:
    """What a value implies of a matching row: (lowest low, lowest high, highest low), None where it says nothing."""
    vl, vh = rng.low, rng.high
    if prefix == "eq":
        return vl, None, vh
    if prefix == "gt":
        return None, vh, None
    if prefix == "ge":
        return None, vl, None
    if prefix == "lt":
        return None, None, vl
    if prefix == "le":
        return None, None, vh
    if prefix == "sa":
        return vh, None, None
    if prefix == "eb":
        return None, None, vl
    if prefix == "ap":
        margin = approximation(rng, now)
        return None, _shift(vl, -margin), _shift(vh, margin)
    return None, None, None  # ne


Interval = tuple[datetime | None, datetime | None]  # [from, to) on ``low``; None: unbounded


def _interior(prefix: str, rng: DateRange, now: datetime, width: timedelta | None) -> Interval | None:
    """Where on ``low`` a row of width at most ``width`` (None: any) meets the value whatever its ``high``
    (which is always above ``low``), or None if nowhere is that certain. A half-open [from, to)."""
    vl, vh = rng.low, rng.high
    if prefix in ("ge", "gt"):
        return (vl if prefix == "ge" else vh), None
    if prefix in ("lt", "le"):
        return None, vl
    if prefix == "ap":
        margin = approximation(rng, now)
        return _shift(vl, -margin), _shift(vh, margin)
    if prefix == "eb" and width is not None:  # a row of unbounded width may end anywhere
        return None, _shift(vl, -width)
    return None  # ne; eq and sa bound low from below, so they are never windowed


def _within(span: int, start: datetime | None, stop: datetime | None) -> list[ColumnElement[bool]]:
    window: list[ColumnElement[bool]] = [search_date.c.span == span]
    if start is not None:
        window.append(search_date.c.low >= start)
    if stop is not None:
        window.append(search_date.c.low < stop)
    return window


def _windowed(parsed: list[tuple[str, DateRange]], now: datetime) -> list[ColumnElement[bool]]:
    """The same-row conjunction of the values, one or more alternatives per width class, each a range on ``low``
    that the ``(…, role, span, low)`` index answers; a single alternative when the values bound only one end.

    A class's window on ``low`` runs from the lowest high the values allow minus the class's widest range to the
    highest low they allow (every matching row's ``low`` lies below it). Inside it, the *interior* is where every
    value holds whatever the row's ``high``: that part needs no other condition, so the planner estimates it from
    ``low``'s statistics alone, instead of multiplying in conditions on ``high`` that are correlated with ``low``
    (which made it guess a tenth of the rows and pick a nested loop over thousands). The window's edges keep the
    full conjunction."""
    clauses = [range_clause(prefix, search_date.c.low, search_date.c.high, rng, now) for prefix, rng in parsed]
    bounds = [_bounds(prefix, rng, now) for prefix, rng in parsed]
    low_min = max((b[0] for b in bounds if b[0] is not None), default=None)
    high_min = max((b[1] for b in bounds if b[1] is not None), default=None)
    low_max = min((b[2] for b in bounds if b[2] is not None), default=None)
    conjunction = all_of(clauses)
    if low_max is None or low_min is not None or high_min is None:
        return [conjunction]  # nothing to window, or the values bound low from both sides already (eq, sa)
    alternatives: list[ColumnElement[bool]] = []
    for span in range(OPEN_SPAN + 1):
        width = SPAN_LIMITS[span] if span < OPEN_SPAN else None
        floor = _shift(high_min, -width) if width is not None else None
        interiors = [_interior(prefix, rng, now, width) for prefix, rng in parsed]
        start = max((i[0] for i in interiors if i is not None and i[0] is not None), default=None)
        stop = min([low_max, *(i[1] for i in interiors if i is not None and i[1] is not None)])
        if any(i is None for i in interiors) or (start is not None and start >= stop):
            alternatives.append(and_(*_within(span, floor, low_max), conjunction))
            continue
        inner_start = start if floor is None or (start is not None and start > floor) else floor
        alternatives.append(and_(*_within(span, inner_start, stop)))
        if start is not None and (floor is None or floor < start):
            alternatives.append(and_(*_within(span, floor, start), conjunction))
        if stop < low_max:
            alternatives.append(and_(*_within(span, stop, low_max), conjunction))
    return alternatives


def group_condition(ctx: QueryContext, target: Target, raws: list[str]) -> ColumnElement[bool]:
    """The AND of single values (no commas) of one date parameter."""
    parsed = [parse_date(raw, target.name) for raw in raws]
    table, rt, code = search_date, target.resource_type, target.code
    windows = _windowed(parsed, ctx.now)
    if len(parsed) == 1:
        role = [table.c.role != HULL] if parsed[0][0] == "ap" else []
        selects = [index_rids(table, rt, code, *role, alt) for alt in windows]
        return resource.c.rid.in_(union(*selects) if len(selects) > 1 else selects[0])
    single = [index_rids(table, rt, code, table.c.role == VALUE, alt) for alt in windows]
    first_prefix, first_range = parsed[0]
    several = index_rids(
        table,
        rt,
        code,
        table.c.role == MULTI,
        range_clause(first_prefix, table.c.low, table.c.high, first_range, ctx.now),
    )
    for prefix, rng in parsed[1:]:  # nested IN, not INTERSECT: SQLite takes no compound inside a compound
        other = search_date.alias()
        clause = range_clause(prefix, other.c.low, other.c.high, rng, ctx.now)
        several = several.where(table.c.rid.in_(index_rids(other, rt, code, other.c.role == MULTI, clause)))
    return resource.c.rid.in_(union(*single, several))
