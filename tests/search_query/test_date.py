"""date: every prefix with range semantics, precision, time zones, open periods, ap, _lastUpdated, errors."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fhir_server.errors import FhirError
from fhir_server.search.index.rows import DATE_MAX, DATE_MIN, DateRow
from fhir_server.search.index.values import date_range
from tests.search_query.conftest import NOW


def born(text: str) -> DateRow:
    low, high = date_range(text)
    return DateRow("birthdate", low, high)


@pytest.fixture
def births(seed):
    seed.add("Patient", "y1980", born("1980"))
    seed.add("Patient", "d0515", born("1980-05-15"))
    seed.add("Patient", "utc", born("1980-12-31T23:30:00Z"))
    seed.add("Patient", "oslo", born("1981-01-01T00:30:00+01:00"))  # the same instant
    seed.add("Patient", "y1990", born("1990-03-01"))
    seed.add("Patient", "d1979", born("1979-01-01"))
    seed.add("Patient", "recent", born("2025-12-30"))
    seed.add("Patient", "unborn")
    return seed


ALL = {"y1980", "d0515", "utc", "oslo", "y1990", "d1979", "recent"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # eq: the indexed range lies within the search range
        ("1980", {"y1980", "d0515", "utc", "oslo"}),
        ("eq1980", {"y1980", "d0515", "utc", "oslo"}),
        ("1980-05", {"d0515"}),
        ("1980-05-15", {"d0515"}),
        ("1980-12-31", {"utc", "oslo"}),
        ("1981-01-01", set()),  # 00:30 in Oslo is still 1980 in UTC
        ("1980-12-31T23:30Z", {"utc", "oslo"}),
        ("1980-12-31T23:30:00Z", {"utc", "oslo"}),
        ("1981-01-01T00:30:00+01:00", {"utc", "oslo"}),
        ("1980-12-31T18:30:00-05:00", {"utc", "oslo"}),
        ("1980-12-31T23:30:01Z", set()),
        ("1980-12-31T23:30:00.000Z", set()),  # a millisecond is narrower than the indexed second
        ("1980-12-31T23:30", {"utc", "oslo"}),  # no zone: UTC
        ("ne1980", ALL - {"y1980", "d0515", "utc", "oslo"}),
        ("ne1980-05-15", ALL - {"d0515"}),
        # gt: some of the indexed range after the search range; lt: some of it before
        ("gt1980-05-15", {"y1980", "utc", "oslo", "y1990", "recent"}),
        ("lt1980-05-15", {"y1980", "d1979"}),
        ("gt1980", {"y1990", "recent"}),
        ("lt1980", {"d1979"}),
        # ge = gt or eq; le = lt or eq
        ("ge1980-05-15", {"y1980", "d0515", "utc", "oslo", "y1990", "recent"}),
        ("le1980-05-15", {"y1980", "d0515", "d1979"}),
        ("ge1980", {"y1980", "d0515", "utc", "oslo", "y1990", "recent"}),
        ("le1980", {"y1980", "d0515", "utc", "oslo", "d1979"}),
        # sa: starts after the search range ends; eb: ends before it starts
        ("sa1980-05-15", {"utc", "oslo", "y1990", "recent"}),
        ("eb1980-05-15", {"d1979"}),
        ("sa1980", {"y1990", "recent"}),
        ("eb1980", {"d1979"}),
        # ap: overlapping the search range widened by 10 % of its distance from now (2026-01-01)
        ("ap1990-03", {"y1990"}),
        ("ap1980", {"y1980", "d0515", "utc", "oslo", "d1979"}),
        ("ap2025-12-31", {"recent"}),
        ("ap2025-06", set()),
    ],
)
def test_prefixes(births, value, expected):
    assert births.ids("Patient", [("birthdate", value)]) == expected


def test_or_and(births):
    assert births.ids("Patient", "birthdate=1979,1990") == {"d1979", "y1990"}
    assert births.ids("Patient", "birthdate=ge1980&birthdate=lt1981") == {"y1980", "d0515", "utc", "oslo"}
    # a year overlaps both halves: ranges, not points
    assert births.ids("Patient", "birthdate=ge1980-06&birthdate=le1980-12") == {"y1980", "utc", "oslo"}


def test_missing(births):
    assert births.ids("Patient", "birthdate:missing=true") == {"unborn"}
    assert births.ids("Patient", "birthdate:missing=false") == ALL


@pytest.fixture
def periods(seed):
    seed.add("Encounter", "open_end", DateRow("date", datetime(2020, 1, 1), DATE_MAX))
    seed.add("Encounter", "open_start", DateRow("date", DATE_MIN, datetime(2020, 6, 1)))
    seed.add("Encounter", "closed", DateRow("date", datetime(2020, 1, 10), datetime(2020, 1, 20)))
    return seed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-01", {"closed"}),
        ("2020", {"closed"}),
        ("ne2020-01", {"open_end", "open_start"}),
        ("gt2021", {"open_end"}),
        ("lt2019", {"open_start"}),
        ("ge2020-01-15", {"open_end", "open_start", "closed"}),
        ("le2020-01-15", {"open_end", "open_start", "closed"}),
        ("sa2019-12-31", {"open_end", "closed"}),
        ("eb2020-07", {"open_start", "closed"}),
        ("eb2020-01-10", set()),
        ("ap2020-01-15", {"open_end", "open_start", "closed"}),
    ],
)
def test_periods_with_open_ends(periods, value, expected):
    assert periods.ids("Encounter", [("date", value)]) == expected


@pytest.fixture
def updated(seed):
    seed.add("Patient", "a", last_updated=datetime(2025, 6, 1, 10, 0, 0))
    seed.add("Patient", "b", last_updated=datetime(2025, 6, 2, 8, 30, 15, 250000))
    return seed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-06-01", {"a"}),
        ("2025-06", {"a", "b"}),
        ("ne2025-06-01", {"b"}),
        ("gt2025-06-01", {"b"}),
        ("sa2025-06-01", {"b"}),
        ("ge2025-06-01T10:00:00Z", {"a", "b"}),
        ("gt2025-06-01T10:00:00Z", {"b"}),
        ("lt2025-06-02T08:30:15.250Z", {"a"}),
        ("eb2025-06-02T08:30:15.250Z", {"a"}),
        ("le2025-06-02T08:30:15.250Z", {"a", "b"}),
        ("2025-06-02T10:30:15+02:00", {"b"}),
        ("2025-06-02T10:30+02:00", {"b"}),
        ("lt2025-06-01", set()),
        ("ap2025-06-01", {"a", "b"}),
    ],
)
def test_last_updated(updated, value, expected):
    assert updated.ids("Patient", [("_lastUpdated", value)]) == expected


def test_last_updated_missing(updated):
    assert updated.ids("Patient", "_lastUpdated:missing=true") == set()
    assert updated.ids("Patient", "_lastUpdated:missing=false") == {"a", "b"}


@pytest.mark.parametrize(
    "value",
    [
        "1980-13",
        "1980-02-30",
        "xx1980",
        "19800101",
        "1980-01-01T10",
        "1980-01-01T25:00Z",
        "gt",
        "1980-01-01T10:00:00+1:00",
        "today",
    ],
)
def test_malformed_dates_are_400_naming_the_parameter(births, value):
    with pytest.raises(FhirError) as err:
        births.ids("Patient", [("birthdate", value)])
    assert err.value.status == 400
    assert "birthdate" in err.value.issues[0].diagnostics
    assert err.value.issues[0].expression == ("birthdate",)


def test_modifiers_other_than_missing_are_400(births):
    with pytest.raises(FhirError):
        births.ids("Patient", "birthdate:exact=1980")
    with pytest.raises(FhirError):
        births.ids("Patient", "_lastUpdated:not=2020")


def _meets(prefix: str, low: datetime, high: datetime, search: str) -> bool:
    """The spec's range semantics for one stored value [low, high) — an oracle written apart from the SQL."""
    vl, vh = date_range(search)
    contained = vl <= low and high <= vh
    margin = abs(NOW - vl) / 10
    return {
        "ap": low < vh + margin and high > vl - margin,
        "eq": contained,
        "ne": not contained,
        "gt": high > vh,
        "lt": low < vl,
        "ge": high > vh or contained,
        "le": low < vl or contained,
        "sa": low >= vh,
        "eb": high <= vl,
    }[prefix]


def test_repeated_date_parameter_against_an_oracle(seed):
    """``date=geX&date=ltY``: a resource matches when every value given is met by one of its dates — the same
    one (a single value, any width, open periods included) or different ones (several values)."""
    import random

    rng = random.Random(7)
    texts = ["2024", "2024-05", "2024-05-03", "2024-05-03T10:00:00Z", "2024-06-30", "2023-12-31", "2025-01"]
    values: dict[str, list[tuple[datetime, datetime]]] = {}
    crossing = [  # ranges across the searches' edges, one per width class
        (datetime(2024, 5, 2, 12), datetime(2024, 5, 3, 12)),
        (datetime(2024, 4, 20), datetime(2024, 5, 19)),
        (datetime(2024, 6, 15), datetime(2024, 7, 14)),
        (datetime(2023, 8, 1), datetime(2024, 7, 1)),
        (datetime(2024, 5, 3, 9, 59), datetime(2024, 5, 3, 10, 1)),
        (datetime(2024, 5, 3, 6), datetime(2024, 5, 4, 6)),
        (datetime(2024, 5, 20), datetime(2024, 6, 15)),
    ]
    for n in range(80):
        ranges = [
            rng.choice(crossing) if rng.random() < 0.3 else date_range(rng.choice(texts))
            for _ in range(rng.choice([1, 1, 2, 3]))
        ]
        if n % 10 == 0:
            ranges.append((datetime(2024, 5, 1), DATE_MAX) if n % 20 else (DATE_MIN, datetime(2024, 5, 10)))
        values[f"r{n}"] = ranges
    for n, crossed in enumerate(crossing):  # each also the only value of a resource
        values[f"c{n}"] = [crossed]
    searches = ["2024-05", "2024-05-03", "2024", "2024-05-03T10:00Z", "2024-07"]
    for n, search in enumerate(searches):  # ap's edges: an hour just before its widened range, and one across it
        vl = date_range(search)[0]
        edge = vl - abs(NOW - vl) / 10
        values[f"a{n}"] = [(edge - timedelta(hours=2), edge - timedelta(hours=1))]
        values[f"b{n}"] = [(edge - timedelta(hours=2), edge + timedelta(hours=1))]
    for name, ranges in values.items():
        seed.add("Encounter", name, *(DateRow("date", low, high) for low, high in ranges))
    prefixes = ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"]
    for _ in range(300):
        conditions = [(rng.choice(prefixes), rng.choice(searches)) for _ in range(rng.choice([1, 2, 2, 3]))]
        expected = {
            name
            for name, ranges in values.items()
            if all(any(_meets(p, low, high, s) for low, high in ranges) for p, s in conditions)
        }
        found = seed.ids("Encounter", [("date", p + s) for p, s in conditions])
        assert found == expected, conditions


def test_fractions_of_a_second_are_read_as_written():
    """Six digits are microseconds exactly (a float would turn .254783 into .254782)."""
    from fhir_server.search.dates import parse_date_range

    for text, micros in [(".254783", 254783), (".1", 100000), (".000001", 1), (".2547839", 254783)]:
        found = parse_date_range(f"2026-11-23T16:09:40{text}Z", "_at")
        assert found.low.microsecond == micros, text
        assert found.high > found.low
