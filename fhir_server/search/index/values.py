"""Stored values as ranges: FHIR dates as [low, high) in naive UTC and numbers as [value ± ½ unit of last digit).

Fast paths for the common shapes (``2020``, ``2020-01``, ``2020-01-02``, full dateTime/instant via
``datetime.fromisoformat``); an invalid value gives ``None`` (validation reports it, the index skips it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fhir_server.search.index.rows import DATE_MAX, DATE_MIN

# Open ends of quantity ranges (a Range without low or high, a Quantity with comparator '<' or '>').
NUMBER_MIN = Decimal("-1E+30")
NUMBER_MAX = Decimal("1E+30")

_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)
_MINUTE = timedelta(minutes=1)
_FRACTION_STEPS = {digits: timedelta(microseconds=10 ** (6 - digits)) for digits in range(1, 7)}
_HALF = Decimal("0.5")
_FIVE = Decimal(5)

DateRangeTuple = tuple[datetime, datetime]
NumberRange = tuple[Decimal, Decimal]


def _next_month(year: int, month: int) -> datetime:
    return datetime(year + 1, 1, 1) if month == 12 else datetime(year, month + 1, 1)


def _parse_date(text: str) -> DateRangeTuple | None:
    length = len(text)
    try:
        if length == 4:
            year = int(text)
            return datetime(year, 1, 1), (datetime(year + 1, 1, 1) if year < 9999 else DATE_MAX)
        if length == 7 and text[4] == "-":
            year, month = int(text[:4]), int(text[5:7])
            low = datetime(year, month, 1)
            return low, (_next_month(year, month) if (year, month) != (9999, 12) else DATE_MAX)
        if length == 10:
            low = datetime(int(text[:4]), int(text[5:7]), int(text[8:10]))
            return low, (low + _DAY if low < DATE_MAX - _DAY else DATE_MAX)
        if length < 16 or text[10] != "T" or text[4] != "-":
            return None
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    time = text[11:]
    dot = time.find(".")
    if dot >= 0:
        digits = 0
        for ch in time[dot + 1 :]:
            if not ch.isdigit():
                break
            digits += 1
        step = _FRACTION_STEPS.get(digits, _FRACTION_STEPS[6]) if digits else _SECOND
    elif len(time) >= 8 and time[5] == ":":
        step = _SECOND
    else:
        step = _MINUTE
    offset = moment.utcoffset()
    try:
        if offset is not None:
            moment = moment.replace(tzinfo=None) - offset
        high = moment + step
    except OverflowError:
        return None
    return moment, high


def date_range(text: Any) -> DateRangeTuple | None:
    """The [low, high) a FHIR date/dateTime/instant covers at its precision; times without a zone are UTC."""
    return _parse_date(text) if type(text) is str else None


def period_range(period: Any) -> DateRangeTuple | None:
    """A Period: [start's low, end's high), an open end being DATE_MIN/DATE_MAX; None if neither is valid.

    An end before the start (invalid, per-1) still ends no earlier than the start's own range: every row has
    ``high > low``, which date searches rely on (``search/query/date.py``)."""
    if type(period) is not dict:
        return None
    start, end = period.get("start"), period.get("end")
    low_range = date_range(start) if start is not None else None
    high_range = date_range(end) if end is not None else None
    if low_range is None and high_range is None:
        return None
    low = low_range[0] if low_range is not None else DATE_MIN
    high = high_range[1] if high_range is not None else DATE_MAX
    if low_range is not None and high <= low:
        high = low_range[1]
    return low, high


def decimal_of(value: Any) -> Decimal | None:
    """A JSON number (int, float as parsed, Decimal) or numeric string as a Decimal keeping its written digits."""
    kind = type(value)
    if kind is int:
        return Decimal(value)
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(value))
    if kind is Decimal:
        return value if value.is_finite() else None
    if kind is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def number_range(value: Any) -> NumberRange | None:
    """[value - ½ unit of its last digit, value + ½ unit): 100 → [99.5, 100.5), 1.0 → [0.95, 1.05)."""
    if type(value) is int:
        number = Decimal(value)
        return number - _HALF, number + _HALF
    number = decimal_of(value)
    if number is None:
        return None
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int):
        return None
    half = _FIVE.scaleb(exponent - 1)
    return number - half, number + half
