"""N6 and its relatives as a table: when a form is due, at the boundaries (exactly 16 days, after 09:00 with 10 days
left, daylight-saving changes, month ends)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from workers.registry.definitions import Offset
from workers.registry.timing import add, calendar_days_between, due_from_date, due_from_instant, local_date

OSLO = ZoneInfo("Europe/Oslo")
BEFORE_16_DAYS = Offset(-16, "d")


def oslo(text: str) -> datetime:
    """A local Oslo time as naive UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=OSLO).astimezone(UTC).replace(tzinfo=None)


@pytest.mark.parametrize(
    ("appointment", "registered", "due", "why"),
    [
        ("2026-12-20T10:00", "2026-11-01T12:00", "2026-12-04T09:00", "well ahead: 16 days before at 09:00"),
        ("2026-12-17T10:00", "2026-12-01T09:00", "2026-12-01T09:00", "exactly 16 days before at 09:00: due now"),
        ("2026-12-17T10:00", "2026-12-01T09:01", "2026-12-02T09:00", "a minute later: the next forenoon"),
        ("2026-12-11T10:00", "2026-12-01T14:00", "2026-12-02T09:00", "after 09:00 with 10 days left"),
        ("2026-12-11T10:00", "2026-12-01T07:00", "2026-12-02T09:00", "before 09:00 with 10 days left: next day"),
        ("2026-12-02T08:00", "2026-12-01T20:00", "2026-12-02T09:00", "tomorrow morning: still the next forenoon"),
        ("2027-04-13T10:00", "2027-01-10T12:00", "2027-03-28T09:00", "due on the day summer time starts"),
        ("2026-11-10T10:00", "2026-09-01T12:00", "2026-10-25T09:00", "due on the day summer time ends"),
        ("2026-12-18T00:30", "2026-11-01T12:00", "2026-12-02T09:00", "the appointment's Oslo date, not its UTC date"),
    ],
)
def test_pre_consultation_form_due_time(appointment: str, registered: str, due: str, why: str):
    start = oslo(appointment)
    got = due_from_date(local_date(start, OSLO), BEFORE_16_DAYS, oslo(registered), 9, OSLO)
    assert got == oslo(due), why
    assert got.replace(tzinfo=UTC).astimezone(OSLO).hour == 9, "09:00 local whatever the season"


def test_send_hour_and_offsets_are_data():
    start = local_date(oslo("2026-12-20T10:00"), OSLO)
    assert due_from_date(start, Offset(-10, "d"), oslo("2026-11-01T12:00"), 7, OSLO) == oslo("2026-12-10T07:00")
    assert due_from_date(start, Offset(6, "mo"), oslo("2026-11-01T12:00"), 9, OSLO) == oslo("2027-06-20T09:00")


@pytest.mark.parametrize(
    ("day", "offset", "expected"),
    [
        ("2027-01-31", Offset(1, "mo"), "2027-02-28"),
        ("2026-08-31", Offset(6, "mo"), "2027-02-28"),
        ("2028-02-29", Offset(1, "a"), "2029-02-28"),
        ("2026-12-20", Offset(-16, "d"), "2026-12-04"),
        ("2026-03-31", Offset(-1, "mo"), "2026-02-28"),
    ],
)
def test_calendar_offsets_clamp_at_month_ends(day: str, offset: Offset, expected: str):
    from datetime import date

    assert add(date.fromisoformat(day), offset) == date.fromisoformat(expected)


def test_booking_anchored_forms_are_due_at_once_or_later():
    now = oslo("2026-12-01T14:00")
    assert due_from_instant(now, Offset(0, "d"), now) == now
    assert due_from_instant(now - (now - now), Offset(-7, "d"), now) == now  # a reminder in the past: at once
    assert due_from_instant(now, Offset(2, "d"), now) == oslo("2026-12-03T14:00")


@pytest.mark.parametrize(
    ("first", "second", "days"),
    [
        ("2026-12-01T10:00", "2026-12-31T10:00", 30),
        ("2026-12-01T10:00", "2026-12-31T23:59", 30),
        ("2026-12-01T10:00", "2027-01-01T00:01", 31),
        ("2027-03-20T10:00", "2027-04-19T10:00", 30),  # across the summer-time change
        ("2026-12-31T10:00", "2026-12-01T10:00", 30),  # moved earlier
    ],
)
def test_moves_are_counted_in_calendar_days(first: str, second: str, days: int):
    assert calendar_days_between(oslo(first), oslo(second), OSLO) == days
