"""uri: exact, :below, :above, :missing; _profile and _source are uri parameters."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.search.index.rows import UriRow
from fhir_server.search.query.uri import ancestors


@pytest.fixture
def value_sets(seed):
    seed.add("ValueSet", "root", UriRow("url", "http://acme.org/fhir/"))
    seed.add("ValueSet", "vs", UriRow("url", "http://acme.org/fhir/ValueSet/123"))
    seed.add("ValueSet", "vs1234", UriRow("url", "http://acme.org/fhir/ValueSet/1234"))
    seed.add("ValueSet", "hist", UriRow("url", "http://acme.org/fhir/ValueSet/123/_history/5"))
    seed.add("ValueSet", "oid", UriRow("url", "urn:oid:2.16.578.1.12.4.1.1.7010"))
    seed.add("ValueSet", "none")
    return seed


def test_exact(value_sets):
    assert value_sets.ids("ValueSet", "url=http://acme.org/fhir/ValueSet/123") == {"vs"}
    assert value_sets.ids("ValueSet", "url=http://acme.org/fhir/ValueSet/12") == set()
    assert value_sets.ids("ValueSet", "url=HTTP://acme.org/fhir/ValueSet/123") == set()
    assert value_sets.ids("ValueSet", "url=urn:oid:2.16.578.1.12.4.1.1.7010") == {"oid"}


def test_below(value_sets):
    assert value_sets.ids("ValueSet", "url:below=http://acme.org/fhir/ValueSet/123") == {"vs", "hist"}
    assert value_sets.ids("ValueSet", "url:below=http://acme.org/fhir/") == {"root", "vs", "vs1234", "hist"}
    assert value_sets.ids("ValueSet", "url:below=http://acme.org/fhir") == {"root", "vs", "vs1234", "hist"}


def test_above(value_sets):
    above = value_sets.ids("ValueSet", "url:above=http://acme.org/fhir/ValueSet/123/_history/5")
    assert above == {"root", "vs", "hist"}
    assert value_sets.ids("ValueSet", "url:above=http://acme.org/fhir/ValueSet/1234") == {"root", "vs1234"}
    assert value_sets.ids("ValueSet", "url:above=urn:oid:2.16.578.1.12.4.1.1.7010") == {"oid"}


def test_missing(value_sets):
    assert value_sets.ids("ValueSet", "url:missing=true") == {"none"}


def test_profile_and_source(seed):
    profile = "http://ryggrad.no/StructureDefinition/nkr-patient"
    seed.add("Patient", "p", UriRow("_profile", profile), UriRow("_source", "urn:dips#1"))
    seed.add("Patient", "q")
    assert seed.ids("Patient", f"_profile={profile}") == {"p"}
    assert seed.ids("Patient", "_source=urn:dips#1") == {"p"}
    assert seed.ids("Patient", "_profile:missing=true") == {"q"}


def test_ancestors():
    assert ancestors("http://a.org/b/c") == [
        "http://a.org/b/c",
        "http://a.org/b/c/",
        "http://a.org/b",
        "http://a.org/b/",
        "http://a.org",
        "http://a.org/",
    ]
    assert ancestors("urn:uuid:1") == ["urn:uuid:1"]


@pytest.mark.parametrize("modifier", ["exact", "contains", "not", "text"])
def test_other_modifiers_are_400(value_sets, modifier):
    with pytest.raises(FhirError):
        value_sets.ids("ValueSet", f"url:{modifier}=http://acme.org")
