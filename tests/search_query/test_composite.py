"""composite: components paired by grp (never across elements), OR of pairs, prefixes inside, :missing, errors."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.search.index.rows import QuantityRow, TokenRow
from fhir_server.search.index.values import number_range

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"


def component(grp: int, code: str, value: str) -> list:
    low, high = number_range(value)
    return [
        TokenRow("component-code-value-quantity$0", LOINC, code, grp=grp),
        QuantityRow("component-code-value-quantity$1", UCUM, "mm[Hg]", "mmHg", low, high, grp=grp),
    ]


@pytest.fixture
def pressures(seed):
    seed.add("Observation", "high", *component(1, SYSTOLIC, "150"), *component(2, DIASTOLIC, "95"))
    seed.add("Observation", "normal", *component(1, SYSTOLIC, "120"), *component(2, DIASTOLIC, "80"))
    # crossed: the systolic code with a low value, a high value under the diastolic code
    seed.add("Observation", "crossed", *component(7, SYSTOLIC, "90"), *component(8, DIASTOLIC, "145"))
    seed.add("Observation", "none")
    return seed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"{LOINC}|{SYSTOLIC}$gt140", {"high"}),  # not "crossed": its 145 belongs to the diastolic component
        (f"{SYSTOLIC}$gt140", {"high"}),
        (f"{LOINC}|{DIASTOLIC}$gt140", {"crossed"}),
        (f"{LOINC}|{SYSTOLIC}$120", {"normal"}),
        (f"{LOINC}|{SYSTOLIC}$120|{UCUM}|mm[Hg]", {"normal"}),
        (f"{LOINC}|{SYSTOLIC}$120|{UCUM}|mg", set()),
        (f"{LOINC}|{SYSTOLIC}$lt100", {"crossed"}),
        (f"{LOINC}|{SYSTOLIC}$gt140,{LOINC}|{DIASTOLIC}$gt140", {"high", "crossed"}),
        (f"{LOINC}|{DIASTOLIC}$ge80", {"high", "normal", "crossed"}),
    ],
)
def test_pairs_by_group(pressures, value, expected):
    assert pressures.ids("Observation", [("component-code-value-quantity", value)]) == expected


def test_and_of_two_composites(pressures):
    query = [
        ("component-code-value-quantity", f"{SYSTOLIC}$gt140"),
        ("component-code-value-quantity", f"{DIASTOLIC}$gt90"),
    ]
    assert pressures.ids("Observation", query) == {"high"}


def test_missing(pressures):
    assert pressures.ids("Observation", "component-code-value-quantity:missing=true") == {"none"}
    assert pressures.ids("Observation", "component-code-value-quantity:missing=false") == {"high", "normal", "crossed"}


def test_token_and_concept_composite(seed):
    seed.add(
        "Observation",
        "smoker",
        TokenRow("code-value-concept$0", LOINC, "72166-2", grp=0),
        TokenRow("code-value-concept$1", "http://snomed.info/sct", "77176002", grp=0),
    )
    assert seed.ids("Observation", "code-value-concept=72166-2$77176002") == {"smoker"}
    assert seed.ids("Observation", "code-value-concept=72166-2$8517006") == set()


def test_escaped_dollar_stays_in_the_part(seed):
    seed.add(
        "Observation",
        "dollar",
        TokenRow("code-value-concept$0", None, "a$b", grp=0),
        TokenRow("code-value-concept$1", None, "c", grp=0),
    )
    assert seed.ids("Observation", [("code-value-concept", "a\\$b$c")]) == {"dollar"}


@pytest.mark.parametrize("value", [f"{SYSTOLIC}", f"{SYSTOLIC}$gt140$1", f"{SYSTOLIC}$", "$gt140", f"{SYSTOLIC}$xx140"])
def test_malformed_values_are_400(pressures, value):
    with pytest.raises(FhirError) as err:
        pressures.ids("Observation", [("component-code-value-quantity", value)])
    assert err.value.status == 400


def test_modifiers_are_400(pressures):
    with pytest.raises(FhirError):
        pressures.ids("Observation", f"component-code-value-quantity:exact={SYSTOLIC}$1")
