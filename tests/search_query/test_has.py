"""_has: reverse chaining, nested, combined with chains, through canonical URLs, and its errors."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from tests.search_query.registry_data import load


@pytest.fixture
def data(seed):
    load(seed)
    return seed


def test_has(data):
    assert data.ids("Patient", f"_has:Appointment:patient:_id={data.id('a1')}") == {"p1"}
    assert data.ids("Patient", "_has:Appointment:patient:status=booked") == {"p1"}  # p3 is deleted
    assert data.ids("Patient", "_has:Appointment:patient:status=booked,cancelled") == {"p1", "p2"}
    assert data.ids("Patient", "_has:Appointment:patient:status:not=booked") == {"p2"}


def test_has_counts_only_references_to_this_server(data):
    # obs1 refers to p1, obs2 to p2 by this server's absolute URL, obs3 to another server's Patient/p1
    assert data.ids("Patient", "_has:Observation:subject:code=1234") == {"p1", "p2"}
    assert data.ids("Patient", "_has:Observation:subject:code=5678") == {"p1"}


def test_nested_has(data):
    assert data.ids("Patient", "_has:EpisodeOfCare:patient:_has:Task:focus:status=ready") == {"p1"}
    assert data.ids("Patient", "_has:EpisodeOfCare:patient:_has:Task:focus:status=completed") == {"p2"}
    assert data.ids("Organization", "_has:Patient:organization:_has:Appointment:patient:status=booked") == {"o1"}


def test_has_with_a_chain_inside(data):
    assert data.ids("Patient", "_has:Appointment:patient:patient.organization.name=haukeland") == {"p2"}


def test_has_inside_a_chain(data):
    assert data.ids("Appointment", "patient._has:EpisodeOfCare:patient:_has:Task:focus:status=ready") == {"a1"}


def test_has_and_other_parameters(data):
    assert data.ids("Patient", "_has:Appointment:patient:status=booked&name=kari") == {"p1"}
    assert data.ids("Patient", "_has:Appointment:patient:status=booked&name=ola") == set()
    assert (
        data.ids("Patient", "_has:Appointment:patient:status=booked&_has:Appointment:patient:status=cancelled") == set()
    )


def test_has_through_canonical_urls(data):
    assert data.ids("Questionnaire", "_has:QuestionnaireResponse:questionnaire:status=completed") == {"q1"}
    assert data.ids("Questionnaire", "_has:QuestionnaireResponse:questionnaire:status=in-progress") == {"q2"}


@pytest.mark.parametrize(
    "name",
    [
        "_has:Foo:patient:status",
        "_has:Appointment:status:status",  # not a reference
        "_has:Appointment:patient",
        "_has:Appointment::status",
        "_has",
        "_has:Appointment:patient:status:exact",  # bad modifier inside
    ],
)
def test_malformed_has_is_400(data, name):
    with pytest.raises(FhirError) as err:
        data.ids("Patient", [(name, "booked")])
    assert err.value.status == 400


def test_has_on_a_type_the_reference_cannot_point_at_is_400(data):
    with pytest.raises(FhirError) as err:
        data.ids("Organization", "_has:Appointment:patient:status=booked")
    assert "does not refer to Organization" in err.value.issues[0].diagnostics


def test_unknown_reference_parameter_in_has_is_unknown(data):
    plan = data.plan("Patient", [("_has:Appointment:nope:status", "booked")], strict=False)
    assert [n for n, _ in plan.unknown] == ["_has:Appointment:nope:status"]
    with pytest.raises(FhirError):
        data.ids("Patient", "_has:Appointment:nope:status=booked")
