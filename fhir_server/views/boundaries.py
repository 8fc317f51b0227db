"""FHIRPath `lowBoundary()` / `highBoundary()` for decimals, dates, dateTimes, instants and times.

fhirpathpy has neither function. The boundary of a value is the least (greatest) value it may stand
for given its precision: `1.0` covers [0.95, 1.05), `1970-06` covers June 1970, a dateTime without a
time zone could be in any zone from +14:00 to -12:00. The FHIR type of a value comes from the node
fhirpathpy navigated to (its `path` is the type name when the R4 model is in use); a bare string is
classified by its shape.
"""

from __future__ import annotations

import calendar
import re
from decimal import Decimal
from typing import Any

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DATETIME = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_TIME = re.compile(r"^(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$")

_EARLIEST_ZONE = "+14:00"
_LATEST_ZONE = "-12:00"


def decimal_boundary(value: Decimal | int, high: bool, precision: int | None = None) -> Decimal:
    """Half a unit of the last significant decimal place below (or above) the value."""
    number = value if isinstance(value, Decimal) else Decimal(value)
    exponent = number.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    half = Decimal(5).scaleb(-(places + 1))
    result = number + half if high else number - half
    if precision is not None:
        result = result.quantize(Decimal(1).scaleb(-precision))
    return result


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def date_boundary(text: str, high: bool) -> str | None:
    """`1970-06` -> `1970-06-01` (low) or `1970-06-30` (high)."""
    match = _DATE.match(text)
    if not match:
        return None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else (12 if high else 1)
    day = int(match.group(3)) if match.group(3) else _last_day(year, month) if high else 1
    return f"{year:04d}-{month:02d}-{day:02d}"


def datetime_boundary(text: str, high: bool) -> str | None:
    """Fill the missing parts with their least (greatest) values and widest time zone."""
    match = _DATETIME.match(text)
    if not match:
        return None
    year_s, month_s, day_s, hour_s, minute_s, second_s, fraction, zone = match.groups()
    year = int(year_s)
    month = int(month_s) if month_s else (12 if high else 1)
    day = int(day_s) if day_s else (_last_day(year, month) if high else 1)
    hour = int(hour_s) if hour_s else (23 if high else 0)
    minute = int(minute_s) if minute_s else (59 if high else 0)
    second = int(second_s) if second_s else (59 if high else 0)
    millis = _fraction_boundary(fraction, high)
    if zone is None:
        zone = _LATEST_ZONE if high else _EARLIEST_ZONE
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{millis}{zone}"


def time_boundary(text: str, high: bool) -> str | None:
    """`12:34` -> `12:34:00.000` (low) or `12:34:59.999` (high)."""
    match = _TIME.match(text)
    if not match:
        return None
    hour_s, minute_s, second_s, fraction = match.groups()
    minute = int(minute_s) if minute_s else (59 if high else 0)
    second = int(second_s) if second_s else (59 if high else 0)
    return f"{int(hour_s):02d}:{minute:02d}:{second:02d}.{_fraction_boundary(fraction, high)}"


def _fraction_boundary(fraction: str | None, high: bool) -> str:
    if fraction is None:
        return "999" if high else "000"
    return (fraction + ("9" if high else "0") * 3)[: max(3, len(fraction))]


def boundary(value: Any, fhir_type: str | None, high: bool, precision: int | None) -> Any:
    """The boundary of one value, or None when the value has no boundary (e.g. a string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int | float):
        return decimal_boundary(Decimal(str(value)), high, precision)
    if not isinstance(value, str):
        return None
    if fhir_type == "date":
        return date_boundary(value, high)
    if fhir_type in ("dateTime", "instant"):
        return datetime_boundary(value, high)
    if fhir_type == "time":
        return time_boundary(value, high)
    if fhir_type is None:
        if _DATE.match(value):
            return date_boundary(value, high)
        if "T" in value:
            return datetime_boundary(value, high)
        if _TIME.match(value):
            return time_boundary(value, high)
    return None
