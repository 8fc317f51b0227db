"""Parsing parameter names and values, and the SQL helpers that need no database."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.search.query.parameters import HasLink, ParamName, parse_name, split_or
from fhir_server.search.query.sql import successor


def test_plain_and_modified_names():
    assert parse_name("name") == ParamName("name", "name")
    assert parse_name("name:exact") == ParamName("name:exact", "name", "exact")


def test_chains():
    parsed = parse_name("subject:Patient.organization.name:exact")
    assert (parsed.code, parsed.modifier) == ("subject", "Patient")
    assert parsed.chain is not None and parsed.chain.code == "organization"
    assert parsed.chain.chain == ParamName("name:exact", "name", "exact")


def test_has_nested_and_with_a_chain():
    parsed = parse_name("_has:EpisodeOfCare:patient:_has:Task:focus:status")
    assert parsed.has is not None
    assert (parsed.has.source_type, parsed.has.reference) == ("EpisodeOfCare", "patient")
    assert parsed.has.inner.has == HasLink("Task", "focus", ParamName("status", "status"))
    chained = parse_name("_has:Appointment:patient:patient.name")
    assert chained.has is not None and chained.has.inner.chain == ParamName("name", "name")


@pytest.mark.parametrize("bad", ["", ":x", "a:", "a.", ".a", "_has:A:b", "_has:A::c", "_has"])
def test_malformed_names(bad):
    with pytest.raises(FhirError):
        parse_name(bad)


def test_split_or_keeps_other_escapes():
    assert split_or("a,b") == ["a", "b"]
    assert split_or("a\\,b,c") == ["a,b", "c"]
    assert split_or("a\\|b") == ["a\\|b"]
    assert split_or("a,,b,") == ["a", "b"]


def test_successor():
    assert successor("abc") == "abd"
    assert successor("a\U0010ffff") == "b"
    assert successor("\U0010ffff") is None
    assert successor("\ud7ff") == "\ue000"
    assert successor("soreng") == "sorenh"
