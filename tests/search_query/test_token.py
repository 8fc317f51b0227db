"""token: code, system|code, |code, system|, :not, :text, :of-type, :in, :not-in, :missing, escaping."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.search.index.normalize import normalize_string
from fhir_server.search.index.rows import TokenRow

GENDER = "http://hl7.org/fhir/administrative-gender"
FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
V2 = "http://terminology.hl7.org/CodeSystem/v2-0203"


@pytest.fixture
def people(seed):
    seed.add("Patient", "m", TokenRow("gender", GENDER, "male"), TokenRow("identifier", FNR, "12345678901"))
    seed.add("Patient", "f", TokenRow("gender", GENDER, "female"), TokenRow("identifier", "urn:other", "12345678901"))
    seed.add("Patient", "nosys", TokenRow("gender", None, "male"), TokenRow("identifier", None, "a|b,c"))
    seed.add("Patient", "none")
    return seed


def test_code_any_system(people):
    assert people.ids("Patient", "gender=male") == {"m", "nosys"}
    assert people.ids("Patient", "identifier=12345678901") == {"m", "f"}


def test_system_and_code(people):
    assert people.ids("Patient", f"gender={GENDER}|male") == {"m"}
    assert people.ids("Patient", f"identifier={FNR}|12345678901") == {"m"}
    assert people.ids("Patient", "identifier=urn:other|12345678901") == {"f"}


def test_no_system(people):
    assert people.ids("Patient", "gender=|male") == {"nosys"}


def test_system_only(people):
    assert people.ids("Patient", f"gender={GENDER}|") == {"m", "f"}


def test_codes_are_case_sensitive(people):
    assert people.ids("Patient", "gender=MALE") == set()


def test_or_and(people):
    assert people.ids("Patient", "gender=male,female") == {"m", "f", "nosys"}
    assert people.ids("Patient", f"gender=male&identifier={FNR}|") == {"m"}


def test_escaped_separators(people):
    assert people.ids("Patient", [("identifier", "a\\|b\\,c")]) == {"nosys"}
    assert people.ids("Patient", [("identifier", "|a\\|b\\,c")]) == {"nosys"}


def test_not_includes_resources_without_the_element(people):
    assert people.ids("Patient", "gender:not=male") == {"f", "none"}
    assert people.ids("Patient", f"gender:not={GENDER}|male") == {"f", "nosys", "none"}
    assert people.ids("Patient", "gender:not=male,female") == {"none"}


def test_missing(people):
    assert people.ids("Patient", "gender:missing=true") == {"none"}
    assert people.ids("Patient", "gender:missing=false") == {"m", "f", "nosys"}


def test_text_is_a_normalised_prefix_of_display_or_text(seed):
    seed.add("Observation", "bp", TokenRow("code", "http://loinc.org", "85354-9", "blodtrykk, sittende"))
    seed.add("Observation", "hr", TokenRow("code", "http://loinc.org", "8867-4", "hjertefrekvens"))
    seed.add("Observation", "txt", TokenRow("code", None, None, normalize_string("Blodtrykk ståande")))
    assert seed.ids("Observation", "code:text=Blodtrykk") == {"bp", "txt"}
    assert seed.ids("Observation", "code:text=blodtrykk sta") == {"txt"}
    assert seed.ids("Observation", "code:text=BLODTRYKK ST") == {"txt"}
    assert seed.ids("Observation", "code:text=frekvens") == set()


def test_of_type(seed):
    seed.add("Patient", "mr", TokenRow("identifier", "urn:hospital", "446053", None, V2, "MR"))
    seed.add("Patient", "ss", TokenRow("identifier", "urn:hospital", "446053", None, V2, "SS"))
    assert seed.ids("Patient", f"identifier:of-type={V2}|MR|446053") == {"mr"}
    assert seed.ids("Patient", f"identifier:of-type={V2}|MR|999") == set()
    with pytest.raises(FhirError) as err:
        seed.ids("Patient", "identifier:of-type=MR|446053")
    assert err.value.status == 400


def test_in_and_not_in_value_sets_of_the_packages(people):
    vs = "http://hl7.org/fhir/ValueSet/administrative-gender"
    assert people.ids("Patient", f"gender:in={vs}") == {"m", "f"}
    assert people.ids("Patient", f"gender:in={vs}|4.0.1") == {"m", "f"}
    assert people.ids("Patient", f"gender:not-in={vs}") == {"nosys", "none"}


def test_unknown_value_set_is_400_with_a_clear_message(people):
    with pytest.raises(FhirError) as err:
        people.ids("Patient", "gender:in=http://example.org/ValueSet/nope")
    assert err.value.status == 400
    assert "http://example.org/ValueSet/nope" in err.value.issues[0].diagnostics
    # SNOMED CT is not enumerable here
    with pytest.raises(FhirError):
        people.ids("Patient", "gender:in=http://hl7.org/fhir/ValueSet/clinical-findings")


def test_tag_and_security_are_ordinary_tokens(seed):
    seed.add("Patient", "t", TokenRow("_tag", "urn:registry", "nkr"), TokenRow("_security", "urn:sec", "R"))
    seed.add("Patient", "u")
    assert seed.ids("Patient", "_tag=urn:registry|nkr") == {"t"}
    assert seed.ids("Patient", "_security=R") == {"t"}
    assert seed.ids("Patient", "_tag:not=nkr") == {"u"}


@pytest.mark.parametrize(
    "query",
    [
        "gender:exact=male",
        "gender:contains=ma",
        "gender:above=male",
        "gender:below=male",
        "identifier=a|b|c",
        "gender=|",
    ],
)
def test_bad_modifiers_and_values_are_400(people, query):
    with pytest.raises(FhirError) as err:
        people.ids("Patient", query)
    assert err.value.status == 400
