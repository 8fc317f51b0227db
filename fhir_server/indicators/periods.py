"""Reporting periods: a quarter (``2026Q3``), a year (``2026``) or any dates, and which period an episode counts in
(its visit date moved by the Measure's attribution offset: follow-up indicators count in the year of visit date +
6 months)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive
    label: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def quarter(year: int, number: int) -> Period:
    first = 3 * (number - 1) + 1
    last = first + 2
    return Period(date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]), f"{year}Q{number}")


def year(number: int) -> Period:
    return Period(date(number, 1, 1), date(number, 12, 31), str(number))


def parse_period(text: str) -> Period:
    """``2026Q3`` or ``2026``."""
    text = text.strip()
    if found := QUARTER.match(text):
        return quarter(int(found[1]), int(found[2]))
    if found := YEAR.match(text):
        return year(int(found[1]))
    raise ValueError(f"a period is a year (2026) or a quarter (2026Q3), not {text!r}")


def between(start: date, end: date) -> Period:
    if end < start:
        raise ValueError("the period ends before it starts")
    for candidate in (year(start.year), *(quarter(start.year, q) for q in range(1, 5))):
        if (candidate.start, candidate.end) == (start, end):
            return candidate
    return Period(start, end, f"{start.isoformat()}/{end.isoformat()}")


def year_and_quarters(number: int) -> list[Period]:
    return [year(number), *(quarter(number, q) for q in range(1, 5))]


def last_completed_quarter(today: date) -> Period:
    number = (today.month - 1) // 3  # the current quarter's index, 0-3
    return quarter(today.year, number) if number else quarter(today.year - 1, 4)


def shifted(day: date, months: int) -> date:
    """``day`` moved by ``months`` (the last day of a shorter month where the day does not exist)."""
    index = day.year * 12 + day.month - 1 + months
    target_year, target_month = divmod(index, 12)
    last = calendar.monthrange(target_year, target_month + 1)[1]
    return date(target_year, target_month + 1, min(day.day, last))
