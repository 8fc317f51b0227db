"""build_conditions as a whole: _id, _list, lenient/strict handling, result controls, empty values, deleted
resources, searches across types, and malformed names."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from fhir_server.errors import FhirError
from fhir_server.search.index.normalize import normalize_string
from fhir_server.search.index.rows import StringRow, TokenRow
from fhir_server.search.query import CONTROL_PARAMETERS, build_conditions
from fhir_server.storage.schema import resource
from tests.search_query.registry_data import load


def name(value: str) -> StringRow:
    return StringRow("name", normalize_string(value), value)


@pytest.fixture
def data(seed):
    load(seed)
    return seed


def test_id(data):
    p1, p2 = data.id("p1"), data.id("p2")
    assert data.ids("Patient", f"_id={p1}") == {"p1"}
    assert data.ids("Patient", f"_id={p1},{p2}") == {"p1", "p2"}
    assert data.ids("Patient", f"_id:not={p1}") == {"p2"}  # p3 is deleted
    assert data.ids("Patient", "_id:missing=false") == {"p1", "p2"}
    assert data.ids("Patient", "_id:missing=true") == set()
    assert data.ids("Patient", f"_id={p1}&name=ola") == set()
    with pytest.raises(FhirError):
        data.ids("Patient", f"_id:exact={p1}")


def test_list(data):
    assert data.ids("Patient", f"_list={data.id('l1')}") == {"p1"}
    assert data.ids("Observation", f"_list={data.id('l1')}") == {"obs2"}
    assert data.ids("Observation", "_list=nope") == set()
    with pytest.raises(FhirError):
        data.ids("Patient", "_list=$current-problems")


def test_deleted_resources_never_match(seed):
    seed.add("Patient", "alive", name("Kari"))
    seed.add("Patient", "gone", name("Kari"), deleted=True)
    assert seed.ids("Patient", "name=kari") == {"alive"}
    assert seed.ids("Patient", "name:missing=true") == set()
    assert seed.ids("Patient", "gender:not=male") == {"alive"}


def test_lenient_reports_unknown_and_unsupported_parameters(data):
    params = [
        ("name", "kari"),
        ("nonsense", "1"),
        ("_text", "kari"),
        ("_content", "kari"),
        ("_filter", "name eq kari"),
        ("_query", "x"),
        ("age", "40"),  # a SearchParameter without an expression
        ("subject:Patient.nonsense", "1"),
    ]
    plan = data.plan("Patient", params, strict=False)
    assert plan.used == [("name", "kari")]
    assert [n for n, _ in plan.unknown] == [
        "nonsense",
        "_text",
        "_content",
        "_filter",
        "_query",
        "age",
        "subject:Patient.nonsense",
    ]
    issues = plan.issues()
    assert issues[0].severity == "warning" and issues[0].code == "not-supported"
    assert issues[0].expression == ("nonsense",)
    assert "nonsense" in issues[0].diagnostics


def test_strict_rejects_unknown_parameters_naming_them(data):
    with pytest.raises(FhirError) as err:
        data.ids("Patient", "name=kari&nonsense=1")
    assert err.value.status == 400
    assert err.value.issues[0].expression == ("nonsense",)
    assert "nonsense" in err.value.issues[0].diagnostics


def test_malformed_values_are_400_even_when_lenient(data):
    with pytest.raises(FhirError):
        data.plan("Patient", [("birthdate", "yesterday")], strict=False)
    with pytest.raises(FhirError):
        data.plan("Patient", [("name:fuzzy", "kari")], strict=False)


def test_result_controls_are_passed_through(data):
    params = [
        ("_count", "5"),
        ("_sort", "-birthdate"),
        ("_include", "Patient:organization"),
        ("_include:iterate", "Organization:partof"),
        ("_revinclude", "Appointment:patient"),
        ("_summary", "true"),
        ("_elements", "name"),
        ("_total", "accurate"),
        ("_format", "json"),
        ("_pretty", "true"),
        ("_page", "abc"),
        ("_contained", "false"),
        ("_type", "Patient"),
        ("name", "kari"),
    ]
    plan = data.plan("Patient", params)
    assert plan.controls == params[:-1]
    assert plan.used == [("name", "kari")]
    assert {n.split(":")[0] for n, _ in params[:-1]} <= CONTROL_PARAMETERS


def test_empty_values_are_ignored(data):
    plan = data.plan("Patient", [("name", ""), ("gender", ","), ("birthdate", "")])
    assert plan.used == [] and plan.unknown == []
    assert data.ids("Patient", [("name", "")]) == {"p1", "p2"}


def test_conditions_carry_the_type_and_skip_deleted(data, registry):
    plan = build_conditions("Patient", [], registry, strict=True)
    sql = str(select(resource.c.id).where(*plan.conditions))
    assert "resource.resource_type =" in sql and "deleted" in sql


def test_search_across_types_with_common_parameters(seed):
    seed.add("Patient", "p", TokenRow("_tag", "urn:registry", "nkr"))
    seed.add("Observation", "o", TokenRow("_tag", "urn:registry", "nkr"))
    seed.add("Observation", "x", last_updated=datetime(2020, 1, 1))
    assert seed.ids(None, "_tag=urn:registry|nkr") == {"p", "o"}
    assert seed.ids(None, f"_id={seed.id('o')},{seed.id('x')}") == {"o", "x"}
    assert seed.ids(None, "_lastUpdated=lt2021") == {"x"}
    plan = seed.plan(None, [("name", "x")], strict=False)
    assert [n for n, _ in plan.unknown] == ["name"]
    with pytest.raises(FhirError):
        seed.ids(None, "_has:Observation:patient:code=1")


def test_backslash_escapes(seed):
    seed.add("Patient", "bs", name("a\\b"))
    seed.add("Patient", "ab", name("ab"))
    assert seed.ids("Patient", [("name", "a\\\\b")]) == {"bs"}


@pytest.mark.parametrize("bad", ["name:", ":exact", ".name", "subject.", "subject:Patient.", "_has:"])
def test_malformed_names_are_400(data, bad):
    with pytest.raises(FhirError) as err:
        data.ids("Patient", [(bad, "x")])
    assert err.value.status == 400


def test_ap_on_dates_uses_the_current_time_by_default(seed, registry):
    plan = build_conditions("Patient", [("birthdate", "ap2000")], registry, strict=True)
    assert len(plan.conditions) == 3
