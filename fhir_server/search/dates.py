"""FHIR date/dateTime/instant search values as half-open UTC ranges, and the prefixes applied to them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fhir_server.errors import bad_request

_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?P<f>\.\d+)?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True)
class DateRange:
    """[low, high) in naive UTC."""

    low: datetime
    high: datetime


_END_OF_TIME = datetime(9999, 12, 31, 23, 59, 59)


def _plus(dt: datetime, step: timedelta) -> datetime:
    try:
        return dt + step
    except OverflowError:
        return _END_OF_TIME


def _add_months(dt: datetime, months: int) -> datetime:
    month0 = dt.month - 1 + months
    year = dt.year + month0 // 12
    if year > 9999:  # the range of "9999" or "9999-12" ends with time itself
        return _END_OF_TIME
    return dt.replace(year=year, month=month0 % 12 + 1)


def parse_date_range(value: str, name: str = "date") -> DateRange:
    """The range a FHIR date value covers, at its precision. Times without a zone are taken as UTC."""
    match = _DATE.match(value)
    if not match:
        raise bad_request(f"Search parameter '{name}' has an invalid date (expected e.g. 2026-11-23)")
    g = match.groupdict()
    try:
        year = int(g["y"])
        if g["m"] is None:
            low = datetime(year, 1, 1)
            return DateRange(low, _add_months(low, 12))
        month = int(g["m"])
        if g["d"] is None:
            low = datetime(year, month, 1)
            return DateRange(low, _add_months(low, 1))
        day = int(g["d"])
        if g["H"] is None:
            low = datetime(year, month, day)
            return DateRange(low, _plus(low, timedelta(days=1)))
        seconds = int(g["S"]) if g["S"] else 0
        micros = int((g["f"][1:] + "00000")[:6]) if g["f"] else 0  # the digits as written: never a float
        low = datetime(year, month, day, int(g["H"]), int(g["M"]), seconds, micros)
    except ValueError as exc:
        raise bad_request(f"Search parameter '{name}' has an impossible date") from exc
    if g["tz"] and g["tz"] != "Z":
        sign = 1 if g["tz"][0] == "+" else -1
        hours, minutes = int(g["tz"][1:3]), int(g["tz"][4:6])
        low = low - sign * timedelta(hours=hours, minutes=minutes)
    if g["f"]:
        step = timedelta(microseconds=max(1, 10 ** (6 - min(len(g["f"]) - 1, 6))))
    elif g["S"]:
        step = timedelta(seconds=1)
    else:
        step = timedelta(minutes=1)
    return DateRange(low, _plus(low, step))


def as_naive_utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt
