"""N20: a patient's answers to a unit's form belong to that unit — its staff read them (and find them by the
episode), another unit's staff do not."""

from __future__ import annotations

from starlette.testclient import TestClient

from fhir_server.server import FhirServer
from tests.conftest import bearer
from tests.registry.conftest import consent
from tests.registry.test_appointment_workflow import OTHER_UNIT, UNIT
from tests.registry.test_form_responses import _form, patient_saves_a_draft

OWNER_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/owner"


def test_the_episodes_unit_sees_the_patients_answers(dispatching, server: FhirServer, client: TestClient):
    world, _, _ = dispatching
    episode, _, draft, patient = patient_saves_a_draft(world, server, client)
    assert {"system": OWNER_SYSTEM, "code": UNIT} in draft["meta"]["security"]

    consent(client, f"Patient/{world.patient}", headers=patient)
    answers = {**draft, "status": "completed"}
    answers["item"] = [*answers["item"], {"linkId": "consent", "answer": [{"valueCoding": _consent_answer()}]}]
    del answers["meta"]  # as the portal sends it: the server labels it again
    sent = client.put(f"/fhir/QuestionnaireResponse/{draft['id']}", json=answers, headers=patient)
    assert sent.status_code == 200, sent.json()

    clinician = bearer(server, "clinician", org=UNIT, hpr="1234567")
    read = client.get(f"/fhir/QuestionnaireResponse/{draft['id']}", headers=clinician)
    assert read.status_code == 200 and read.json()["status"] == "completed"
    found = client.get(
        "/fhir/QuestionnaireResponse", params={"episode": f"EpisodeOfCare/{episode['id']}"}, headers=clinician
    ).json()
    assert draft["id"] in [e["resource"]["id"] for e in found.get("entry", [])]
    stranger = bearer(server, "clinician", org=OTHER_UNIT, hpr="1234568")
    assert client.get(f"/fhir/QuestionnaireResponse/{draft['id']}", headers=stranger).status_code == 404


def _consent_answer() -> dict[str, str]:
    (item,) = [i for i in _form("nnrr-pre-consultation")["item"] if i["linkId"] == "consent"]
    return item["answerOption"][0]["valueCoding"]
