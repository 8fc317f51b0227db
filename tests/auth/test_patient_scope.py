"""A patient sees and writes only their own Patient, Tasks, QuestionnaireResponses and Consents (and reads the
Questionnaires), through every interaction; what is not theirs is not found."""

from __future__ import annotations

import pytest

from fhir_server.norway.identifiers import FNR_SYSTEM
from tests.conftest import bearer
from tests.rest.helpers import unique_fnr


@pytest.fixture
def world(client):
    """Two patients with a Task, a response and (A) a consent each, written by the administration."""
    made: dict[str, str] = {}
    for who in ("a", "b"):
        fnr = unique_fnr()
        patient = {"resourceType": "Patient", "identifier": [{"system": FNR_SYSTEM, "value": fnr}]}
        pid = client.post("/fhir/Patient", json=patient).json()["id"]
        ref = {"reference": f"Patient/{pid}"}
        task = {"resourceType": "Task", "status": "ready", "intent": "order", "for": ref, "owner": ref}
        response = {"resourceType": "QuestionnaireResponse", "status": "in-progress", "subject": ref, "author": ref}
        made |= {
            f"{who}_fnr": fnr,
            f"{who}_patient": pid,
            f"{who}_task": client.post("/fhir/Task", json=task).json()["id"],
            f"{who}_response": client.post("/fhir/QuestionnaireResponse", json=response).json()["id"],
        }
    consent = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "research"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{made['a_patient']}"},
    }
    made["a_consent"] = client.post("/fhir/Consent", json=consent).json()["id"]
    made["questionnaire"] = client.post(
        "/fhir/Questionnaire", json={"resourceType": "Questionnaire", "status": "active"}
    ).json()["id"]
    return made


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {e["resource"]["id"] for e in response.json().get("entry", []) if e["search"]["mode"] == "match"}


def test_searches_and_reads_show_only_their_own(client, server, world):
    me = bearer(server, "patient", patient=world["a_fnr"])
    assert _ids(client.get("/fhir/Task?status=ready&_count=100", headers=me)) == {world["a_task"]}
    counted = client.get("/fhir/Task?_total=accurate&_count=1", headers=me).json()
    assert counted["total"] == 1  # the total is theirs too: nothing of others leaks through it
    assert _ids(client.get("/fhir/QuestionnaireResponse", headers=me)) == {world["a_response"]}
    assert _ids(client.post("/fhir/Patient/_search", data={"_count": "10"}, headers=me)) == {world["a_patient"]}
    assert client.get(f"/fhir/Task/{world['a_task']}", headers=me).status_code == 200
    assert client.get(f"/fhir/Consent/{world['a_consent']}", headers=me).status_code == 200
    for other in (
        f"Task/{world['b_task']}",
        f"Patient/{world['b_patient']}",
        f"QuestionnaireResponse/{world['b_response']}",
    ):
        assert client.get(f"/fhir/{other}", headers=me).status_code == 404, other
        assert client.get(f"/fhir/{other}/_history/1", headers=me).status_code == 404, other
    assert client.get(f"/fhir/Questionnaire/{world['questionnaire']}", headers=me).status_code == 200


def test_what_a_patient_never_does(client, server, world):
    me = bearer(server, "patient", patient=world["a_fnr"], scope="patient/*.cruds")
    for url in (
        "/fhir/Observation",
        f"/fhir/Patient/{world['a_patient']}/QuestionnaireResponse",
        "/fhir?_type=Task",
        "/fhir/_history",
        "/fhir/Task/_history",
        "/fhir/Task?_include=Task:owner",
        "/fhir/Patient?_has:Task:owner:status=ready",
        "/fhir/Task?owner.name=x",
    ):
        assert client.get(url, headers=me).status_code == 403, url
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": []}
    assert client.post("/fhir", json=bundle, headers=me).status_code == 403
    assert client.delete(f"/fhir/Task/{world['a_task']}", headers=me).status_code == 403


def test_a_patient_writes_only_their_own_forms(client, server, world):
    me = bearer(server, "patient", patient=world["a_fnr"])
    mine = {"reference": f"Patient/{world['a_patient']}"}
    theirs = {"reference": f"Patient/{world['b_patient']}"}
    form = {"resourceType": "QuestionnaireResponse", "status": "in-progress", "subject": mine, "author": mine}
    created = client.post("/fhir/QuestionnaireResponse", json=form, headers=me)
    assert created.status_code == 201, created.text
    assert (
        client.post(
            "/fhir/QuestionnaireResponse", json={**form, "subject": theirs, "author": theirs}, headers=me
        ).status_code
        == 403
    )
    own = created.json()
    assert (
        client.put(
            f"/fhir/QuestionnaireResponse/{own['id']}", json={**own, "status": "completed"}, headers=me
        ).status_code
        == 200
    )
    other = client.get(f"/fhir/QuestionnaireResponse/{world['b_response']}").json()
    taken = client.put(
        f"/fhir/QuestionnaireResponse/{other['id']}", json={**other, "subject": mine, "author": mine}, headers=me
    )
    assert taken.status_code == 404  # not theirs: as if it did not exist
    assert client.get(f"/fhir/QuestionnaireResponse/{other['id']}").json()["subject"] == theirs


def test_a_person_without_a_patient_sees_nothing(client, server, world):
    stranger = bearer(server, "patient", patient=unique_fnr())
    assert _ids(client.get("/fhir/Task", headers=stranger)) == set()
    assert client.get(f"/fhir/Task/{world['a_task']}", headers=stranger).status_code == 404
