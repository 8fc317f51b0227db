"""When a registry form is due (rule N6 and its relatives), in the registry's time zone.

- A form counted from a date (the appointment's day, the visit date, a procedure, the episode's start or end) is
  due on that date plus the offset, at the send hour: N6's pre-consultation form 16 days before the appointment at
  09:00 Europe/Oslo. A due time that has already passed when the form is scheduled becomes the next calendar day at
  the send hour ("the following forenoon"); a due time equal to now is now.
- A form counted from the booking is due at the booking instant plus the offset, at once if that has passed.

Calendar arithmetic is done on local dates, so a daylight-saving change between the two dates moves nothing: 09:00
stays 09:00 local time. Times in and out are naive UTC, as stored.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workers.registry.definitions import Offset


def add(day: date, offset: Offset) -> date:
    """``day`` plus a calendar offset; a month end clamps (31 March + 1 month = 30 April)."""
    if offset.unit == "d":
        return day + timedelta(days=offset.value)
    months = offset.value * (12 if offset.unit == "a" else 1)
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    """The local calendar date of a naive-UTC instant."""
    return instant.replace(tzinfo=UTC).astimezone(zone).date()


def at_hour(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """``day`` at ``hour``:00 local time, as naive UTC."""
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def due_from_date(anchor: date, offset: Offset, now: datetime, hour: int, zone: ZoneInfo) -> datetime:
    """N6: ``anchor`` + ``offset`` at ``hour`` local; if that is before ``now``, the next local day at ``hour``."""
    due = at_hour(add(anchor, offset), hour, zone)
    if due >= now:
        return due
    return at_hour(local_date(now, zone) + timedelta(days=1), hour, zone)


def due_from_instant(anchor: datetime, offset: Offset, now: datetime) -> datetime:
    """A form counted from an instant (the booking): that instant + ``offset``, or now if it has passed."""
    if offset.unit == "d":
        due = anchor + timedelta(days=offset.value)
    else:
        moved = add(anchor.date(), offset)
        due = datetime.combine(moved, anchor.time())
    return max(due, now)


def calendar_days_between(first: datetime, second: datetime, zone: ZoneInfo) -> int:
    """Whole calendar days between two instants' local dates (N11: how far an appointment moved)."""
    return abs((local_date(second, zone) - local_date(first, zone)).days)
