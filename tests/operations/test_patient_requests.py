"""R2 and R3: a patient asks for a correction or for erasure; the request reaches the staff who hold their data, and
the patient can follow it."""

from __future__ import annotations

from starlette.testclient import TestClient

from fhir_server.server import FhirServer
from tests.conftest import bearer
from tests.operations.test_patient_everything import OTHER, UNIT, _fnr, _record

REQUESTS = "https://ryggrad.no/fhir/CodeSystem/patient-request"


def _ask(client: TestClient, headers: dict[str, str], operation: str, **params: object) -> object:
    parameter = [
        {"name": "text", "valueString": params["text"]} if "text" in params else None,
        *({"name": "about", "valueReference": {"reference": r}} for r in params.get("about", [])),
    ]
    body = {"resourceType": "Parameters", "parameter": [p for p in parameter if p]}
    return client.post(f"/fhir/Patient/${operation}", json=body, headers=headers)


def test_a_correction_request_reaches_the_units_holding_the_data(client: TestClient, server: FhirServer):
    fnr = _fnr()
    record = _record(client, server, fnr)
    patient = bearer(server, "patient", patient=fnr)
    asked = _ask(
        client, patient, "request-correction", text="Feil kommune", about=[f"EpisodeOfCare/{record['episode']}"]
    )
    assert asked.status_code == 201, asked.json()
    task = asked.json()
    assert task["code"]["coding"] == [{"system": REQUESTS, "code": "correction"}]
    assert task["status"] == "requested" and task["description"] == "Feil kommune"
    assert task["for"] == {"reference": f"Patient/{record['patient']}"}
    assert task["focus"] == {"reference": f"EpisodeOfCare/{record['episode']}"}
    unit = client.get(f"/fhir/Task/{task['id']}", headers=bearer(server, "clerk", org=UNIT))
    other = client.get(f"/fhir/Task/{task['id']}", headers=bearer(server, "clerk", org=OTHER))
    assert unit.status_code == 200 and other.status_code == 404  # OTHER holds no episode of theirs
    assert client.get(f"/fhir/Task/{task['id']}", headers=patient).status_code == 200  # they can follow it
    assert _ask(client, patient, "request-correction").status_code == 400  # say what is wrong


def test_an_erasure_request_and_nobody_elses(client: TestClient, server: FhirServer):
    fnr = _fnr()
    record, someone = _record(client, server, fnr), _record(client, server, _fnr())
    patient = bearer(server, "patient", patient=fnr)
    asked = _ask(client, patient, "request-erasure")
    assert asked.status_code == 201
    assert asked.json()["code"]["coding"][0]["code"] == "erasure"
    assert asked.json()["for"] == {"reference": f"Patient/{record['patient']}"}
    theirs = client.post(
        f"/fhir/Patient/{someone['patient']}/$request-erasure",
        json={"resourceType": "Parameters", "parameter": []},
        headers=patient,
    )
    assert theirs.status_code == 404
