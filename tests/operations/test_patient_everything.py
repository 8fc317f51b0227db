"""R1: a patient sees everything the registry holds about them (``Patient/$everything``), and nothing of anyone
else's; staff see a patient's record as far as their unit's data goes."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.testclient import TestClient

from fhir_server.norway.identifiers import FNR_SYSTEM
from fhir_server.server import FhirServer
from tests.conftest import bearer

UNIT, OTHER = "974589095", "983974899"
OWNER = "https://ryggrad.no/fhir/CodeSystem/owner"


def _fnr() -> str:
    return f"0101{uuid.uuid4().int % 10**7:07d}"  # unique per test; no profile judges it


def _record(client: TestClient, server: FhirServer, fnr: str) -> dict[str, str]:
    """A patient with an episode and a form of UNIT, and an observation of OTHER."""
    unit = bearer(server, "clinician", org=UNIT)
    other = bearer(server, "clinician", org=OTHER)
    body = {"resourceType": "Patient", "identifier": [{"system": FNR_SYSTEM, "value": fnr}]}
    patient = client.post("/fhir/Patient", json=body, headers=unit).json()["id"]
    ref = {"reference": f"Patient/{patient}"}
    episode = client.post(
        "/fhir/EpisodeOfCare", json={"resourceType": "EpisodeOfCare", "status": "planned", "patient": ref}, headers=unit
    ).json()["id"]
    task = client.post(
        "/fhir/Task", json={"resourceType": "Task", "status": "ready", "intent": "order", "for": ref}, headers=unit
    ).json()["id"]
    observation = client.post(
        "/fhir/Observation",
        json={"resourceType": "Observation", "status": "final", "code": {"text": "pain"}, "subject": ref},
        headers=other,
    ).json()["id"]
    return {"patient": patient, "episode": episode, "task": task, "observation": observation}


def _ids(bundle: dict[str, Any]) -> set[str]:
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle.get("entry", [])}


def test_a_patient_sees_all_their_data_and_only_theirs(client: TestClient, server: FhirServer):
    fnr = _fnr()
    mine, theirs = _record(client, server, fnr), _record(client, server, _fnr())
    patient = bearer(server, "patient", patient=fnr)
    everything = client.get("/fhir/Patient/$everything", headers=patient)
    assert everything.status_code == 200, everything.json()
    found = _ids(everything.json())
    assert found == {
        f"Patient/{mine['patient']}",
        f"EpisodeOfCare/{mine['episode']}",
        f"Task/{mine['task']}",
        f"Observation/{mine['observation']}",  # every unit's: all the registry holds (R1)
    }
    assert everything.json()["total"] == 4
    by_id = client.get(f"/fhir/Patient/{mine['patient']}/$everything", headers=patient)
    assert _ids(by_id.json()) == found
    assert client.get(f"/fhir/Patient/{theirs['patient']}/$everything", headers=patient).status_code == 404
    only_tasks = client.get("/fhir/Patient/$everything", params={"_type": "Task"}, headers=patient).json()
    assert _ids(only_tasks) == {f"Task/{mine['task']}"}
    assert client.get("/fhir/Patient/$everything", params={"_type": "AuditEvent"}, headers=patient).status_code == 400


def test_staff_see_their_units_part_of_a_record(client: TestClient, server: FhirServer):
    record = _record(client, server, _fnr())
    unit = bearer(server, "clinician", org=UNIT)
    found = _ids(client.get(f"/fhir/Patient/{record['patient']}/$everything", headers=unit).json())
    assert f"EpisodeOfCare/{record['episode']}" in found and f"Observation/{record['observation']}" not in found
    assert client.get("/fhir/Patient/$everything", headers=unit).status_code == 400  # name the patient
    admin = _ids(client.get(f"/fhir/Patient/{record['patient']}/$everything").json())
    assert f"Observation/{record['observation']}" in admin
