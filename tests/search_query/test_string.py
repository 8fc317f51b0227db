"""string: normalised starts-with by default, :exact, :contains, :missing — Norwegian letters included."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.search.index.normalize import normalize_string
from fhir_server.search.index.rows import StringRow


def name(value: str, param: str = "name") -> StringRow:
    return StringRow(param, normalize_string(value), value)


@pytest.fixture
def people(seed):
    seed.add("Patient", "soreng", name("Søreng"), name("Kari"))
    seed.add("Patient", "aase", name("Åse"), name("Ærlighet"))
    seed.add("Patient", "bjorn", name("Bjørnstad"), name("Per Ødegård"))
    seed.add("Patient", "sorensen", name("Sorensen"))
    seed.add("Patient", "wild", name("50%_rabatt"))
    seed.add("Patient", "nameless")
    return seed


def test_default_is_case_and_accent_insensitive_prefix(people):
    assert people.ids("Patient", "name=soreng") == {"soreng"}
    assert people.ids("Patient", "name=SØR") == {"soreng", "sorensen"}
    assert people.ids("Patient", "name=sor") == {"soreng", "sorensen"}
    assert people.ids("Patient", "name=Ase") == {"aase"}
    assert people.ids("Patient", "name=aerlig") == {"aase"}
    assert people.ids("Patient", "name=ÆRL") == {"aase"}
    assert people.ids("Patient", "name=bjorn") == {"bjorn"}
    assert people.ids("Patient", "name=odegard") == set()  # starts-with on each value: "per odegard"
    assert people.ids("Patient", "name=per o") == {"bjorn"}


def test_exact_is_case_and_accent_sensitive(people):
    assert people.ids("Patient", "name:exact=Søreng") == {"soreng"}
    assert people.ids("Patient", "name:exact=søreng") == set()
    assert people.ids("Patient", "name:exact=Soreng") == set()
    assert people.ids("Patient", "name:exact=Sør") == set()


def test_contains_anywhere(people):
    assert people.ids("Patient", "name:contains=ØDE") == {"bjorn"}
    assert people.ids("Patient", "name:contains=ren") == {"soreng", "sorensen"}
    assert people.ids("Patient", "name:contains=rlig") == {"aase"}


def test_like_wildcards_in_values_are_literal(people):
    assert people.ids("Patient", "name:contains=%") == {"wild"}
    assert people.ids("Patient", "name:contains=0%_r") == {"wild"}
    assert people.ids("Patient", "name:contains=_") == {"wild"}
    assert people.ids("Patient", "name=50%") == {"wild"}
    assert people.ids("Patient", "name=5_") == set()


def test_or_and_and(people):
    assert people.ids("Patient", "name=kari,bjorn") == {"soreng", "bjorn"}
    assert people.ids("Patient", "name=kari&name=sor") == {"soreng"}
    assert people.ids("Patient", "name=kari&name=bjorn") == set()


def test_escaped_comma_is_part_of_the_value(seed):
    seed.add("Patient", "comma", name("Hansen, Kari"))
    seed.add("Patient", "kari", name("Kari"))
    assert seed.ids("Patient", [("name", "hansen\\, kari")]) == {"comma"}
    assert seed.ids("Patient", [("name", "hansen,kari")]) == {"comma", "kari"}


def test_missing(people):
    assert people.ids("Patient", "name:missing=true") == {"nameless"}
    assert people.ids("Patient", "name:missing=false") == {"soreng", "aase", "bjorn", "sorensen", "wild"}
    with pytest.raises(FhirError):
        people.ids("Patient", "name:missing=yes")


def test_other_string_parameters_are_separate(seed):
    seed.add("Patient", "a", name("Nordmann", "family"), name("Ola", "given"))
    assert seed.ids("Patient", "family=nord") == {"a"}
    assert seed.ids("Patient", "given=nord") == set()


@pytest.mark.parametrize("modifier", ["text", "not", "below", "Patient", "identifier"])
def test_unknown_modifiers_are_400(people, modifier):
    with pytest.raises(FhirError) as err:
        people.ids("Patient", f"name:{modifier}=x")
    assert err.value.status == 400
    assert err.value.issues[0].expression == (f"name:{modifier}",)
