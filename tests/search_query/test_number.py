"""number: precision ranges, every prefix, open-ended rows, float tolerance on SQLite, errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fhir_server.errors import FhirError
from fhir_server.search.index.rows import NumberRow
from fhir_server.search.index.values import NUMBER_MAX, NUMBER_MIN, number_range


def probability(text: str) -> NumberRow:
    low, high = number_range(text)
    return NumberRow("probability", low, high)


@pytest.fixture
def risks(seed):
    for local, text in [
        ("n100", "100"),
        ("n100_0", "100.0"),
        ("n100_4", "100.4"),
        ("n100_5", "100.5"),
        ("n99_7", "99.7"),
        ("n1_1", "1.1"),
        ("n0_1", "0.1"),
    ]:
        seed.add("RiskAssessment", local, probability(text))
    seed.add("RiskAssessment", "lt5", NumberRow("probability", NUMBER_MIN, Decimal(5)))  # as a '<5' is stored
    seed.add("RiskAssessment", "ge200", NumberRow("probability", Decimal("199.5"), NUMBER_MAX))  # '>=200'
    seed.add("RiskAssessment", "none")
    return seed


HUNDREDS = {"n100", "n100_0", "n100_4", "n100_5", "n99_7"}
ALL = HUNDREDS | {"n1_1", "n0_1", "lt5", "ge200"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100", {"n100", "n100_0", "n100_4", "n99_7"}),  # [99.5, 100.5)
        ("eq100", {"n100", "n100_0", "n100_4", "n99_7"}),
        ("100.0", {"n100", "n100_0"}),  # [99.95, 100.05)
        ("100.00", {"n100", "n100_0"}),
        ("1e2", HUNDREDS),  # one significant figure: [50, 150)
        ("3", set()),  # an open row is never equal to a value
        ("ne100", ALL - {"n100", "n100_0", "n100_4", "n99_7"}),
        ("gt100", {"n100_4", "n100_5", "ge200"}),
        ("ge100", {"n100", "n100_0", "n100_4", "n100_5", "ge200"}),
        ("lt100", {"n99_7", "n1_1", "n0_1", "lt5"}),
        ("le100", {"n100", "n100_0", "n99_7", "n1_1", "n0_1", "lt5"}),
        ("gt1.1", HUNDREDS | {"ge200", "lt5"}),
        ("ge1.1", HUNDREDS | {"ge200", "lt5", "n1_1"}),
        ("lt1.1", {"n0_1", "lt5"}),
        ("le1.1", {"n0_1", "n1_1", "lt5"}),
        ("gt4.99", HUNDREDS | {"ge200", "lt5"}),
        ("gt5", HUNDREDS | {"ge200"}),
        ("ge250", {"ge200"}),
        ("sa100", {"ge200"}),
        ("eb100", {"n1_1", "n0_1", "lt5"}),
        ("eb0.1", set()),  # below 5 does not end before 0.1
        ("ap100", HUNDREDS),
        ("ap1", {"n1_1", "lt5"}),
        ("ap0.1", {"n0_1", "lt5"}),
        ("gt-5", ALL),
        ("lt-5", {"lt5"}),
        ("0.1,1.1", {"n0_1", "n1_1"}),
    ],
)
def test_prefixes(risks, value, expected):
    assert risks.ids("RiskAssessment", [("probability", value)]) == expected


def test_and(risks):
    assert risks.ids("RiskAssessment", "probability=gt99&probability=lt100.3") == {"n100", "n100_0", "n99_7"}


def test_missing(risks):
    assert risks.ids("RiskAssessment", "probability:missing=true") == {"none"}
    assert risks.ids("RiskAssessment", "probability:missing=false") == ALL


@pytest.mark.parametrize("value", ["abc", "1.2.3", "gt", "1e", "NaN", "Infinity", "0x10", "1_000", "xx5", "=5"])
def test_malformed_numbers_are_400(risks, value):
    with pytest.raises(FhirError) as err:
        risks.ids("RiskAssessment", [("probability", value)])
    assert err.value.status == 400
    assert err.value.issues[0].expression == ("probability",)


def test_modifiers_are_400(risks):
    with pytest.raises(FhirError):
        risks.ids("RiskAssessment", "probability:exact=1")
