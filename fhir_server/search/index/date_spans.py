"""The two extra facts each date index row carries, so date searches and date sorts use B-tree ranges.

``span``: how wide the row's range is, in four classes (``SPAN_LIMITS``): an instant, time or day; a month; a
year; wider or open-ended. A condition that bounds both ends of the range (``date=ge2024-05-01&date=lt2024-05-08``
on one row) becomes, per class, a two-sided range on ``low`` (``low > 2024-05-01 - width``), which an index on
``(resource_type, param, span, low)`` answers without scanning everything before or after the week.

``role``: ``VALUE`` for the only value a resource has for a parameter; ``MULTI`` for each value of a resource that
has several; and ``HULL`` for one extra row per such resource, spanning from its lowest ``low`` to its highest
``high``. So every resource with a value has exactly one row with ``role != MULTI`` — its sort key: ascending sorts
use the lowest ``low`` and descending sorts the highest ``high``, as the spec asks of repeating elements — and a
search can join that row instead of aggregating.

A hull row never makes a resource match a condition it would not match through a value row: for every prefix but
``ap``, a hull that meets the condition implies a value row that does (the hull's low is the lowest low, its high the
highest high, and it lies within a range only if every value does). ``ap`` leaves hull rows out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fhir_server.search.index.rows import DATE_MAX, DATE_MIN, DateRow

VALUE, MULTI, HULL = 0, 1, 2

#: The widest range (``high - low``) of span classes 0, 1 and 2; class 3 is anything wider or open-ended.
SPAN_LIMITS: tuple[timedelta, ...] = (timedelta(days=1), timedelta(days=31), timedelta(days=366))
OPEN_SPAN = len(SPAN_LIMITS)


def span_class(low: datetime, high: datetime) -> int:
    if low == DATE_MIN or high == DATE_MAX:
        return OPEN_SPAN
    width = high - low
    for span, limit in enumerate(SPAN_LIMITS):
        if width <= limit:
            return span
    return OPEN_SPAN


def finish_dates(rows: list[DateRow]) -> list[DateRow]:
    """The rows with ``span`` and ``role`` set, and a hull row for each parameter with several values.

    Composite components (``grp`` set) are paired by ``grp`` and never sorted on: they keep role ``VALUE``."""
    if not rows:
        return rows
    per_param: dict[str, list[DateRow]] = {}
    for row in rows:
        if row.grp is None:
            per_param.setdefault(row.param, []).append(row)
    finished: list[DateRow] = []
    for row in rows:
        several = row.grp is None and len(per_param[row.param]) > 1
        finished.append(row._replace(span=span_class(row.low, row.high), role=MULTI if several else VALUE))
    for param, values in per_param.items():
        if len(values) > 1:
            low = min(v.low for v in values)
            high = max(v.high for v in values)
            finished.append(DateRow(param, low, high, None, span_class(low, high), HULL))
    return finished
