"""Which period a report covers: the one asked for, else the last completed quarter as the day is in Oslo."""

from __future__ import annotations

from datetime import datetime

import pytest

from workers.reports.document import oslo_today, report_period


def test_the_last_completed_quarter_by_the_date_in_oslo():
    just_after_midnight_in_oslo = datetime(2026, 9, 30, 22, 30)  # naive UTC, as the server's clock
    assert report_period(None, oslo_today(just_after_midnight_in_oslo)).label == "2026Q3"
    assert report_period(None, oslo_today(datetime(2026, 9, 30, 21, 30))).label == "2026Q2"
    assert report_period(None, oslo_today(datetime(2026, 1, 5))).label == "2025Q4"


def test_a_period_asked_for():
    assert report_period("2025", oslo_today(datetime(2026, 12, 7))).label == "2025"
    assert report_period("2026Q1", oslo_today(datetime(2026, 12, 7))).label == "2026Q1"
    with pytest.raises(ValueError, match="2026Q3"):
        report_period("2026-3", oslo_today(datetime(2026, 12, 7)))
