"""Responses to registry forms as the portal sends them (refero: no subject, author, authored; a leaked
``initialSelected``): the server completes them from the Task, and a registry that needs consent gets it first (N2)."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from fhir_server.server import FhirServer
from fhir_server.subscriptions.delivery import deliver
from tests.conftest import bearer
from tests.profiles.test_registry_forms import PROFILES, answered_response
from tests.registry.conftest import FNR, consent
from tests.registry.test_appointment_workflow import oslo
from workers.registry.activation import activate_due

PRE_CONSULTATION = "https://ryggrad.no/fhir/Questionnaire/nnrr-pre-consultation|1.0.0"
EPISODE = "https://ryggrad.no/fhir/StructureDefinition/episode"


def _form(name: str) -> dict[str, Any]:
    return json.loads((PROFILES / f"Questionnaire-{name}.json").read_text())


def _as_refero_sends(task: dict[str, Any], status: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": PRE_CONSULTATION,
        "basedOn": [{"reference": f"Task/{task['id']}"}],
        "status": status,
        "item": [
            {
                "linkId": "background",
                "item": [
                    {
                        "linkId": "education",
                        "answer": [
                            {
                                "valueCoding": {
                                    "system": "https://ryggrad.no/fhir/CodeSystem/education",
                                    "code": "primary",
                                },
                                "initialSelected": True,  # refero 22.2.1's leak
                            }
                        ],
                    }
                ],
            }
        ],
        **extra,
    }


def patient_saves_a_draft(world: Any, server: FhirServer, client: TestClient) -> tuple[dict, dict, dict, dict]:
    """An appointment's form sent to the patient, who saves a draft in the portal: (the episode, the Task, the
    draft, the patient's headers)."""
    world.push("2026-12-20T10:00")
    (episode,) = world.episodes()
    (task,) = world.tasks(episode)
    activate_due(server, oslo("2026-12-04T09:00"))
    patient = bearer(server, "patient", patient=FNR)
    saved = client.post("/fhir/QuestionnaireResponse", json=_as_refero_sends(task, "in-progress"), headers=patient)
    assert saved.status_code == 201, saved.json()
    return episode, task, saved.json(), patient


def test_the_server_completes_a_patients_response_from_its_task(dispatching, server: FhirServer, client: TestClient):
    world, _, _ = dispatching
    episode, task, draft, patient = patient_saves_a_draft(world, server, client)
    assert draft["subject"] == {"reference": f"Patient/{world.patient}"}
    assert draft["author"] == {"reference": f"Patient/{world.patient}"}
    assert draft["authored"]
    assert {"url": EPISODE, "valueReference": {"reference": f"EpisodeOfCare/{episode['id']}"}} in draft["extension"]
    assert "initialSelected" not in str(draft)

    # sending: consent comes first (N2); then a required answer left out is named by its question
    sending = {**draft, "status": "completed"}
    unconsented = client.put(f"/fhir/QuestionnaireResponse/{draft['id']}", json=sending, headers=patient)
    assert unconsented.status_code == 422 and "(N2)" in unconsented.json()["issue"][0]["diagnostics"]
    consent(client, f"Patient/{world.patient}", headers=patient)
    incomplete = client.put(f"/fhir/QuestionnaireResponse/{draft['id']}", json=sending, headers=patient)
    assert incomplete.status_code == 422
    (message,) = [i["diagnostics"] for i in incomplete.json()["issue"]]
    assert "'consent'" in message and "(Jeg samtykker til at opplysningene registreres" in message
    assert "Du må samtykke for å sende skjemaet" in message  # the item's own validation text

    other = client.post(
        "/fhir/QuestionnaireResponse",
        json=_as_refero_sends(task, "in-progress", subject={"reference": "Patient/someone-else"}),
        headers=patient,
    )
    assert other.status_code in (403, 422)  # a patient writes only their own; anyone else: not the Task's patient


def test_consent_comes_before_sending_and_only_where_the_registry_needs_it(dispatching, server, client):
    world, _, _ = dispatching
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    answers = {
        **answered_response(_form("nnrr-pre-consultation"), "completed"),
        "basedOn": [{"reference": f"Task/{task['id']}"}],
    }
    refused = client.post("/fhir/QuestionnaireResponse", json=answers)
    assert refused.status_code == 422
    assert "not consented to the registry (nnrr)" in refused.json()["issue"][0]["diagnostics"]
    draft = client.post("/fhir/QuestionnaireResponse", json={**answers, "status": "in-progress"})
    assert draft.status_code == 201  # a draft needs no consent
    consent(client, f"Patient/{world.patient}")
    assert client.post("/fhir/QuestionnaireResponse", json=answers).status_code == 201

    opr = type(world)(client, server)  # OPR runs on a consent exemption (P7)
    opr.push("2026-12-21T10:00", registry="opr")
    baseline = next(t for t in opr.tasks(opr.episodes()[0]) if t["code"]["coding"][0]["code"] == "baseline")
    exempt = {
        **answered_response(_form("opr-baseline"), "completed"),
        "basedOn": [{"reference": f"Task/{baseline['id']}"}],
    }
    assert client.post("/fhir/QuestionnaireResponse", json=exempt).status_code == 201


def test_a_response_answers_the_tasks_form(dispatching, client):
    world, _, _ = dispatching
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    other = {
        **answered_response(_form("nnrr-follow-up-6m"), "in-progress"),
        "basedOn": [{"reference": f"Task/{task['id']}"}],
    }
    refused = client.post("/fhir/QuestionnaireResponse", json=other)
    assert refused.status_code == 422
    assert "asks for the form https://ryggrad.no/fhir/Questionnaire/nnrr-pre-consultation" in str(refused.json())


def test_the_office_gives_the_opr_short_baseline_on_site(dispatching, server, client):
    """P6: a patient who arrives without having answered the baseline gets the short form from the office, with
    the reason; it completes the baseline Task. The patient cannot pick it in the portal, nor for a closed form."""
    world, _, _ = dispatching
    world.push("2026-12-21T10:00", registry="opr")
    baseline = next(t for t in world.tasks(world.episodes()[0]) if t["code"]["coding"][0]["code"] == "baseline")
    activate_due(server, oslo("2026-12-10T09:00"))
    short = {
        **answered_response(_form("opr-short-baseline"), "completed"),
        "basedOn": [{"reference": f"Task/{baseline['id']}"}],
    }
    reasons = [i for i in short["item"] if i["linkId"] == "short-reason"]
    assert reasons and reasons[0]["answer"][0]["valueCoding"]["system"].endswith("/short-reason")

    by_patient = client.post("/fhir/QuestionnaireResponse", json=short, headers=bearer(server, "patient", patient=FNR))
    assert by_patient.status_code == 422 and "(P6)" in by_patient.json()["issue"][0]["diagnostics"]

    clerk = bearer(server, "clerk", org="974589095")
    given = client.post("/fhir/QuestionnaireResponse", json=short, headers=clerk)
    assert given.status_code == 201, given.text
    assert given.json()["questionnaire"].startswith("https://ryggrad.no/fhir/Questionnaire/opr-short-baseline")
    assert deliver(server, "registry-responses") == "done"
    task = client.get(f"/fhir/Task/{baseline['id']}").json()
    assert task["status"] == "completed"
    assert task["output"][0]["valueReference"]["reference"] == f"QuestionnaireResponse/{given.json()['id']}"

    again = client.post("/fhir/QuestionnaireResponse", json=short, headers=clerk)
    assert again.status_code == 409 and "completed" in again.json()["issue"][0]["diagnostics"]


def test_another_patient_or_a_closed_form_is_refused(dispatching, server, client):
    world, _, _ = dispatching
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    wrong = _as_refero_sends(task, "in-progress", subject={"reference": "Patient/someone-else"})
    refused = client.post("/fhir/QuestionnaireResponse", json=wrong)
    assert refused.status_code == 422 and "another patient" in refused.json()["issue"][0]["diagnostics"]
    client.put(f"/fhir/Task/{task['id']}", json={**task, "status": "cancelled"})
    patient = bearer(server, "patient", patient=FNR)
    closed = client.post("/fhir/QuestionnaireResponse", json=_as_refero_sends(task, "in-progress"), headers=patient)
    assert closed.status_code == 409 and "cancelled" in closed.json()["issue"][0]["diagnostics"]


CHANNEL = "https://ryggrad.no/fhir/StructureDefinition/response-channel"


def _channel(response: dict[str, Any]) -> str:
    return next(e["valueCoding"]["code"] for e in response.get("extension", []) if e["url"] == CHANNEL)


def test_how_the_answers_were_given_is_marked(dispatching, server: FhirServer, client: TestClient):
    """N4: staff key in a paper form on the patient's behalf, marked as such; the portal's answers are digital."""
    world, _, _ = dispatching
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    activate_due(server, oslo("2026-12-04T09:00"))
    digital = client.post(
        "/fhir/QuestionnaireResponse",
        json=_as_refero_sends(task, "in-progress"),
        headers=bearer(server, "patient", patient=FNR),
    ).json()
    assert _channel(digital) == "digital"
    hpr = "9144889"
    practitioner = client.post(
        "/fhir/Practitioner",
        json={
            "resourceType": "Practitioner",
            "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.4", "value": hpr}],
        },
    ).json()["id"]
    clerk = bearer(server, "clerk", org="974589095", hpr=hpr)
    keyed = client.post("/fhir/QuestionnaireResponse", json=_as_refero_sends(task, "in-progress"), headers=clerk)
    assert keyed.status_code == 201, keyed.json()
    paper = keyed.json()
    assert _channel(paper) == "paper"
    assert paper["source"] == {"reference": f"Patient/{world.patient}"}
    assert paper["author"] == {"reference": f"Practitioner/{practitioner}"}
