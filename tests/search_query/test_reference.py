"""reference values, :[type], :identifier, :missing, canonicals, and forward chains (two deep, canonical)."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from tests.conftest import BASE_URL
from tests.search_query.registry_data import FNR, PROMS, load


@pytest.fixture
def data(seed):
    load(seed)
    return seed


def test_relative_and_id_only(data):
    p1 = data.id("p1")
    assert data.ids("Observation", f"subject=Patient/{p1}") == {"obs1", "obs6"}  # not another server's
    assert data.ids("Observation", f"subject={p1}") == {"obs1", "obs6"}
    assert data.ids("Observation", f"subject:Patient={p1}") == {"obs1", "obs6"}
    assert data.ids("Observation", f"subject:Patient=Patient/{p1}") == {"obs1", "obs6"}


def test_this_servers_absolute_urls_equal_relative_ones(data):
    p2 = data.id("p2")
    assert data.ids("Observation", f"subject=Patient/{p2}") == {"obs2"}
    assert data.ids("Observation", f"subject={BASE_URL}/Patient/{p2}") == {"obs2"}
    assert data.ids("Observation", f"subject={BASE_URL}/Patient/{data.id('p1')}") == {"obs1", "obs6"}


def test_other_absolute_urls_match_as_written(data):
    p1 = data.id("p1")
    assert data.ids("Observation", f"subject=http://other.org/fhir/Patient/{p1}") == {"obs3"}


def test_versioned_reference(data):
    p1 = data.id("p1")
    assert data.ids("Observation", f"subject=Patient/{p1}/_history/2") == {"obs6"}
    assert data.ids("Observation", f"subject=Patient/{p1}/_history/1") == set()


def test_type_modifier(data):
    assert data.ids("Observation", f"subject:Group={data.id('g1')}") == {"obs5"}
    assert data.ids("Observation", f"subject:Group={data.id('p1')}") == set()


def test_identifier(data):
    assert data.ids("Observation", f"subject:identifier={FNR}|12345678901") == {"obs4"}
    assert data.ids("Observation", "subject:identifier=12345678901") == {"obs4"}
    assert data.ids("Observation", "subject:identifier=urn:x|12345678901") == set()


def test_missing(data):
    assert data.ids("Observation", "subject:missing=true") == {"obs7"}
    assert data.ids("Observation", "subject:missing=false") == {f"obs{i}" for i in range(1, 7)}


def test_or(data):
    assert data.ids("Observation", f"subject=Patient/{data.id('p2')},Group/{data.id('g1')}") == {"obs2", "obs5"}


def test_canonical(data):
    assert data.ids("QuestionnaireResponse", f"questionnaire={PROMS}") == {"qr1", "qr3"}
    assert data.ids("QuestionnaireResponse", f"questionnaire={PROMS}|2.0") == {"qr1"}
    assert data.ids("QuestionnaireResponse", f"questionnaire={PROMS}|3.0") == set()


@pytest.mark.parametrize(
    "query",
    [
        "subject:Foo=1",
        "subject:text=1",
        "subject:not=Patient/1",
        "subject:below=Patient/1",
        "subject=Pat/1",
        "subject=Patient/a/b",
        "subject=Patient/has space",
        "subject=Patient/1|2",
        "subject:Patient=Group/1",
    ],
)
def test_bad_values_and_modifiers_are_400(data, query):
    with pytest.raises(FhirError) as err:
        data.ids("Observation", query)
    assert err.value.status == 400


@pytest.mark.parametrize("query", ["patient=Group/1", "patient:Group=1", "patient:Group.name=x"])
def test_types_the_parameter_cannot_refer_to_are_400(data, query):
    with pytest.raises(FhirError) as err:
        data.ids("Appointment", query)  # Appointment.patient refers to Patients only
    assert "does not refer to Group" in err.value.issues[0].diagnostics


def test_chain_with_type(data):
    assert data.ids("Observation", "subject:Patient.name=kari") == {"obs1", "obs6"}
    assert data.ids("Observation", "subject:Patient.name=KARI,ola") == {"obs1", "obs6", "obs2"}
    assert data.ids("Observation", "subject:Group.code=cohort") == {"obs5"}


def test_chain_through_a_single_target_type(data):
    assert data.ids("Observation", "patient:Patient.name=kari") == {"obs1"}
    assert data.ids("Appointment", "patient.name=kari") == {"a1"}  # p3 is deleted
    # a shared parameter (patient: Patient or Group) narrowed to what the element on this type can refer to
    assert data.ids("Observation", "patient.name=kari") == {"obs1"}


def test_shared_parameters_are_narrowed_per_type(registry):
    assert registry.get("EpisodeOfCare", "patient").targets == ("Patient",)  # EpisodeOfCare.patient
    assert registry.get("Condition", "patient").targets == ("Patient",)  # subject.where(resolve() is Patient)
    assert set(registry.get("Observation", "subject").targets) == {"Patient", "Group", "Device", "Location"}
    assert registry.get(None, "_id") is not None


def test_ambiguous_chain_asks_for_the_type(data):
    with pytest.raises(FhirError) as err:
        data.ids("Observation", "subject.name=kari")
    assert err.value.status == 400
    assert "subject:" in err.value.issues[0].diagnostics


def test_chain_two_deep(data):
    assert data.ids("Observation", "subject:Patient.organization.name=sykehuset ostfold") == {"obs1", "obs6"}
    assert data.ids("Appointment", "patient.organization.name=haukeland") == {"a2"}
    assert data.ids("Task", "focus:EpisodeOfCare.patient:Patient.name=kari") == {"t1"}


def test_chain_to_id_and_modifiers(data):
    assert data.ids("Appointment", f"patient._id={data.id('p1')}") == {"a1"}
    assert data.ids("Appointment", "patient.name:exact=Ola Nordmann") == {"a2"}
    assert data.ids("Appointment", "patient.organization:missing=false") == {"a1", "a2"}


def test_chain_through_canonical_urls(data):
    assert data.ids("QuestionnaireResponse", "questionnaire.name=proms") == {"qr1", "qr3"}
    assert data.ids("QuestionnaireResponse", "questionnaire.name=other") == {"qr2"}


def test_chain_and_plain_parameters_and(data):
    assert data.ids("Observation", "subject:Patient.name=kari&code=5678") == {"obs6"}


def test_chain_errors(data):
    with pytest.raises(FhirError):
        data.ids("Patient", "name.foo=1")  # not a reference
    with pytest.raises(FhirError):
        data.ids("Observation", "subject:identifier.name=1")
    with pytest.raises(FhirError):
        data.ids("Appointment", "patient.foo=1")  # strict: unknown inner parameter
    plan = data.plan("Appointment", [("patient.foo", "1")], strict=False)
    assert [name for name, _ in plan.unknown] == ["patient.foo"]
    deep = "patient.organization.partof.partof.partof.partof.partof.partof.name"
    with pytest.raises(FhirError) as err:
        data.ids("Appointment", [(deep, "x")])
    assert "deep" in err.value.issues[0].diagnostics
