"""What the portal's rights page writes for a patient (R3, R4): they withdraw their own registry consent (status
``inactive``, even one staff recorded) and opt out of questionnaires (a reservation Consent) — for themselves only."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from fhir_server.norway.identifiers import FNR_SYSTEM
from fhir_server.server import FhirServer
from tests.conftest import bearer
from tests.registry.conftest import reservation
from tests.rest.helpers import unique_fnr

SCOPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]}


def _patient_with_consent(client: TestClient) -> tuple[str, str, dict[str, Any]]:
    """A patient (fnr, id) and their registry consent, recorded by the administration."""
    fnr = unique_fnr()
    patient = {"resourceType": "Patient", "identifier": [{"system": FNR_SYSTEM, "value": fnr}]}
    pid = client.post("/fhir/Patient", json=patient).json()["id"]
    consent = {
        "resourceType": "Consent",
        "status": "active",
        "scope": SCOPE,
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{pid}"},
        "policy": [{"uri": "https://ryggrad.no/fhir/policy/nnrr-participation"}],
        "provision": {"type": "permit"},
    }
    created = client.post("/fhir/Consent", json=consent)
    assert created.status_code == 201, created.text
    return fnr, pid, created.json()


def test_a_patient_withdraws_their_own_consent_and_nobody_elses(client: TestClient, server: FhirServer):
    fnr, _, consent = _patient_with_consent(client)
    _, _, someone_elses = _patient_with_consent(client)
    me = bearer(server, "patient", patient=fnr)
    withdrawn = client.put(f"/fhir/Consent/{consent['id']}", json={**consent, "status": "inactive"}, headers=me)
    assert withdrawn.status_code == 200, withdrawn.text
    assert client.get(f"/fhir/Consent/{consent['id']}").json()["status"] == "inactive"
    theirs = client.put(
        f"/fhir/Consent/{someone_elses['id']}", json={**someone_elses, "status": "inactive"}, headers=me
    )
    assert theirs.status_code == 404  # not theirs: as if it did not exist
    assert client.get(f"/fhir/Consent/{someone_elses['id']}").json()["status"] == "active"


def test_a_patient_opts_out_of_questionnaires_for_themselves_only(client: TestClient, server: FhirServer):
    fnr, pid, _ = _patient_with_consent(client)
    _, other, _ = _patient_with_consent(client)
    me = bearer(server, "patient", patient=fnr)
    made = client.post("/fhir/Consent", json=reservation(f"Patient/{pid}"), headers=me)
    assert made.status_code == 201, made.text
    cancelled = client.put(f"/fhir/Consent/{made.json()['id']}", json={**made.json(), "status": "inactive"}, headers=me)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "inactive"
    assert client.post("/fhir/Consent", json=reservation(f"Patient/{other}"), headers=me).status_code == 403
