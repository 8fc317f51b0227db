"""String normalisation, date ranges and number ranges."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from fhir_server.search.index.normalize import normalize_string
from fhir_server.search.index.rows import DATE_MAX, DATE_MIN
from fhir_server.search.index.values import date_range, number_range, period_range


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Søreng", "soreng"),
        ("SØRENG", "soreng"),
        ("Ærlig Åse", "aerlig ase"),
        ("Œuvre", "oeuvre"),
        ("Straße", "strasse"),
        ("Łódź", "lodz"),
        ("Þór Đorđe", "thor dorde"),
        ("I\u0131", "ii"),  # dotless i
        ("Müller-Lüdenscheidt", "muller-ludenscheidt"),
        ("\uff26\uff55\uff4c\uff4c", "full"),  # fullwidth letters (NFKD)
        ("plain ASCII", "plain ascii"),
        ("", ""),
    ],
)
def test_normalize_string(text: str, expected: str) -> None:
    assert normalize_string(text) == expected


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("2020", datetime(2020, 1, 1), datetime(2021, 1, 1)),
        ("2020-12", datetime(2020, 12, 1), datetime(2021, 1, 1)),
        ("2020-02-29", datetime(2020, 2, 29), datetime(2020, 3, 1)),
        ("2020-01-01T10:00:00Z", datetime(2020, 1, 1, 10), datetime(2020, 1, 1, 10, 0, 1)),
        ("2020-01-01T10:00:00+02:00", datetime(2020, 1, 1, 8), datetime(2020, 1, 1, 8, 0, 1)),
        ("2020-01-01T00:30:00-01:00", datetime(2020, 1, 1, 1, 30), datetime(2020, 1, 1, 1, 30, 1)),
        ("2020-01-01T10:00:00", datetime(2020, 1, 1, 10), datetime(2020, 1, 1, 10, 0, 1)),  # no zone: UTC
        ("2020-01-01T10:00:00.5Z", datetime(2020, 1, 1, 10, 0, 0, 500000), datetime(2020, 1, 1, 10, 0, 0, 600000)),
        (
            "2012-03-09T21:48:14.209+01:00",
            datetime(2012, 3, 9, 20, 48, 14, 209000),
            datetime(2012, 3, 9, 20, 48, 14, 210000),
        ),
        ("9999-12-31", datetime(9999, 12, 31), DATE_MAX),
        ("9999", datetime(9999, 1, 1), DATE_MAX),
    ],
)
def test_date_range(text: str, low: datetime, high: datetime) -> None:
    assert date_range(text) == (low, high)


@pytest.mark.parametrize("text", ["", "20", "2020-13", "2020-02-30", "2020-01-01T25:00:00Z", "yesterday", None, 2020])
def test_invalid_dates_give_nothing(text: object) -> None:
    assert date_range(text) is None


def test_period_range_open_ends() -> None:
    assert period_range({"start": "2020"}) == (datetime(2020, 1, 1), DATE_MAX)
    assert period_range({"end": "2020-06"}) == (DATE_MIN, datetime(2020, 7, 1))
    assert period_range({"start": "2020-01-01", "end": "2020-01-31"}) == (datetime(2020, 1, 1), datetime(2020, 2, 1))
    assert period_range({}) is None
    assert period_range("2020") is None


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        (100, "99.5", "100.5"),
        (1.0, "0.95", "1.05"),
        (111.4, "111.35", "111.45"),
        (0.001, "0.0005", "0.0015"),
        (-3, "-3.5", "-2.5"),
        (Decimal("2.50"), "2.495", "2.505"),
        ("7.1", "7.05", "7.15"),
    ],
)
def test_number_range(value: object, low: str, high: str) -> None:
    assert number_range(value) == (Decimal(low), Decimal(high))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "x", None, [1]])
def test_invalid_numbers_give_nothing(value: object) -> None:
    assert number_range(value) is None
