"""quantity: number|system|code, number||code (code or unit), number only, UCUM prefix conversion, prefixes,
comparators (open rows), errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fhir_server.errors import FhirError
from fhir_server.search.index.rows import QuantityRow
from fhir_server.search.index.values import NUMBER_MIN, number_range
from fhir_server.search.query.quantity import ucum_variants

UCUM = "http://unitsofmeasure.org"


def value(text: str, code: str | None, system: str | None = UCUM, unit: str | None = None) -> QuantityRow:
    low, high = number_range(text)
    return QuantityRow("value-quantity", system, code, unit or code, low, high)


@pytest.fixture
def observations(seed):
    seed.add("Observation", "mg54", value("5.4", "mg"))
    seed.add("Observation", "g", value("0.0054", "g"))
    seed.add("Observation", "kg", value("5.4", "kg"))
    seed.add("Observation", "nosys", value("5.4", None, None, "mg"))
    seed.add("Observation", "mmolL", value("5.4", "mmol/L"))
    seed.add("Observation", "umolL", value("5400", "umol/L"))
    seed.add("Observation", "mgdL", value("100", "mg/dL"))
    seed.add("Observation", "gL", value("1", "g/L"))
    seed.add("Observation", "lt5", QuantityRow("value-quantity", UCUM, "mg", "mg", NUMBER_MIN, Decimal(5)))
    seed.add("Observation", "none")
    return seed


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("5.4", {"mg54", "kg", "nosys", "mmolL"}),
        (f"5.4|{UCUM}|mg", {"mg54", "g"}),
        (f"0.0054|{UCUM}|g", {"mg54", "g"}),
        (f"5.4|{UCUM}|kg", {"kg"}),
        ("5.4||mg", {"mg54", "nosys"}),  # code or unit text, no conversion
        (f"5.4|{UCUM}|", {"mg54", "kg", "mmolL"}),
        (f"5.4|{UCUM}|mmol/L", {"mmolL", "umolL"}),
        (f"100|{UCUM}|mg/dL", {"mgdL", "gL"}),
        (f"gt5|{UCUM}|mg", {"mg54", "g", "kg"}),  # 5.4 kg > 5 mg
        (f"lt5.4|{UCUM}|mg", {"lt5"}),
        (f"lt1|{UCUM}|g", {"lt5", "mg54", "g"}),
        (f"le5.4|{UCUM}|mg", {"lt5", "mg54", "g"}),
        (f"ge5.4|{UCUM}|mg", {"mg54", "g", "kg"}),
        (f"ne5.4|{UCUM}|mg", {"lt5", "kg"}),
        (f"ap5|{UCUM}|mg", {"mg54", "g", "lt5"}),
        (f"sa5|{UCUM}|mg", {"kg"}),  # starts after [4.5, 5.5) mg
        (f"eb5.5|{UCUM}|mg", {"mg54", "g", "lt5"}),  # ends before [5.45, 5.55) mg
        (f"5.4|{UCUM}|mg,5.4|{UCUM}|kg", {"mg54", "g", "kg"}),
        ("5.4|http://other|mg", set()),
    ],
)
def test_values(observations, query, expected):
    assert observations.ids("Observation", [("value-quantity", query)]) == expected


def test_missing(observations):
    assert observations.ids("Observation", "value-quantity:missing=true") == {"none"}


def test_ucum_variants():
    units = dict(ucum_variants("mg"))
    assert units["mg"] == 1 and units["g"] == Decimal("0.001") and units["ug"] == 1000
    units = dict(ucum_variants("mmol/L"))
    assert units["umol/L"] == 1000 and units["mmol/dL"] == Decimal("0.1")
    assert ucum_variants("mm[Hg]") == [("mm[Hg]", 1)]
    assert ucum_variants("kg/m2") == [("kg/m2", 1)]
    assert dict(ucum_variants("min")) == {"min": 1}


@pytest.mark.parametrize("query", ["5.4|mg", "abc|x|y", "5.4|a|b|c", "gt", "||mg"])
def test_malformed_are_400(observations, query):
    with pytest.raises(FhirError) as err:
        observations.ids("Observation", [("value-quantity", query)])
    assert err.value.status == 400
