"""The DIPS intake (/intake/dips): appointments as DIPS Arena pushes them — by PUT, in transactions and batches,
repeated and out of order — become the registry's Appointments, with patients matched or created by FNR/DNR; the
DIPS version decides, so an older push never undoes a newer one; a push that cannot be mapped writes nothing."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from fhir_server.http.app import create_app
from fhir_server.server import FhirServer
from tests.conftest import bearer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dips"
OWNER = "974589095"
INTAKE = "/intake/dips"


def sample(name: str, dips_id: str, version: int | None = None) -> dict[str, Any]:
    """A DIPS sample under the id ``dips_id`` (each test its own appointments), at DIPS ``version``."""
    dips = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    dips["id"] = dips_id
    if version is not None:
        dips["meta"]["versionId"] = str(version)
    return dips


def new_id() -> str:
    return str(uuid.uuid4().int)[:12]


@pytest.fixture(scope="module")
def ehr(server: FhirServer) -> TestClient:
    """DIPS at the unit OWNER, with an EHR system's token."""
    with TestClient(create_app(server=server), headers=bearer(server, "ehr", org=OWNER)) as test_client:
        yield test_client


def stored(client: TestClient, dips_id: str) -> dict[str, Any]:
    response = client.get(f"/fhir/Appointment/dips-{dips_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_pushed_appointment_becomes_the_registry_appointment(ehr: TestClient, client: TestClient):
    dips_id = new_id()
    response = ehr.put(f"{INTAKE}/Appointment/{dips_id}", json=sample("booked", dips_id))
    assert response.status_code == 201, response.text
    assert response.headers["Location"].endswith(f"/fhir/Appointment/dips-{dips_id}/_history/1")
    body = response.json()
    assert body["id"] == f"dips-{dips_id}" and body["status"] == "booked"
    assert body["meta"]["security"] == [{"system": "https://ryggrad.no/fhir/CodeSystem/owner", "code": OWNER}]
    held = stored(client, dips_id)
    assert held["meta"]["source"].endswith(f"/dips-appointment/{dips_id}/_history/1")
    patient = held["participant"][0]["actor"]["reference"]
    assert patient.startswith("Patient/")
    found = client.get("/fhir/Patient", params={"identifier": "urn:oid:2.16.578.1.12.4.1.4.1|14836808275"}).json()
    assert f"Patient/{found['entry'][0]['resource']['id']}" == patient


def test_a_repeated_push_changes_nothing(ehr: TestClient):
    dips_id = new_id()
    first = ehr.put(f"{INTAKE}/Appointment/{dips_id}", json=sample("booked", dips_id))
    again = ehr.put(f"{INTAKE}/Appointment/{dips_id}", json=sample("booked", dips_id))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["ETag"] == first.headers["ETag"] == 'W/"1"'


def test_an_older_version_arriving_late_is_ignored(ehr: TestClient, client: TestClient):
    dips_id = new_id()
    cancelled = ehr.put(f"{INTAKE}/Appointment/{dips_id}", json=sample("cancelled", dips_id, 3))
    assert cancelled.status_code == 201, cancelled.text
    for name, version in (("booked", 1), ("rescheduled", 2), ("cancelled", 3)):
        late = ehr.put(f"{INTAKE}/Appointment/{dips_id}", json=sample(name, dips_id, version))
        assert late.status_code == 200, late.text
        assert late.json()["status"] == "cancelled"
    held = stored(client, dips_id)
    assert held["status"] == "cancelled" and held["meta"]["versionId"] == "1"


def test_newer_versions_apply_in_order(ehr: TestClient, client: TestClient):
    dips_id = new_id()
    for name, version in (("booked", 1), ("rescheduled", 2)):
        assert ehr.put(f"{INTAKE}/Appointment/{dips_id}", json=sample(name, dips_id, version)).status_code < 300
    held = stored(client, dips_id)
    assert held["start"] == sample("rescheduled", dips_id)["start"] and held["meta"]["versionId"] == "2"


def _transaction(*appointments: dict[str, Any], kind: str = "transaction") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"resource": a, "request": {"method": "PUT", "url": f"Appointment/{a['id']}"}} for a in appointments],
    }


def test_a_transaction_of_appointments_shares_the_patient(ehr: TestClient, client: TestClient):
    first, second = new_id(), new_id()
    response = ehr.post(INTAKE, json=_transaction(sample("booked", first), sample("rescheduled", second)))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["type"] == "transaction-response"
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created", "201 Created"]
    patients = {stored(client, i)["participant"][0]["actor"]["reference"] for i in (first, second)}
    assert len(patients) == 1
    repeat = ehr.post(INTAKE, json=_transaction(sample("booked", first, 0), sample("rescheduled", second)))
    outcomes = [e["response"]["outcome"]["issue"][0]["diagnostics"] for e in repeat.json()["entry"]]
    assert "older DIPS version" in outcomes[0] and "no change" in outcomes[1]


def test_a_transaction_with_an_unmappable_appointment_writes_nothing(ehr: TestClient, client: TestClient):
    good, bad = new_id(), new_id()
    broken = sample("booked", bad)
    broken["appointmentType"]["coding"][0]["code"] = "mystery-visit"
    response = ehr.post(INTAKE, json=_transaction(sample("booked", good), broken))
    assert response.status_code == 422, response.text
    issue = response.json()["issue"][0]
    assert "Bundle.entry[1]" in issue["diagnostics"] and "mystery-visit" in issue["diagnostics"]
    assert issue["code"] == "code-invalid"
    assert client.get(f"/fhir/Appointment/dips-{good}").status_code == 404


def test_a_batch_takes_each_appointment_on_its_own(ehr: TestClient, client: TestClient):
    good, bad = new_id(), new_id()
    broken = sample("booked", bad)
    broken["participant"][0]["actor"]["identifier"]["value"] = "14836808276"  # a check digit off
    response = ehr.post(INTAKE, json=_transaction(sample("booked", good), broken, kind="batch"))
    assert response.status_code == 200, response.text
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses == ["201 Created", "422 Unprocessable Entity"]
    assert stored(client, good)["status"] == "booked"
    assert client.get(f"/fhir/Appointment/dips-{bad}").status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        (lambda d: d.update(id="other"), 400, "equal the id in the URL"),
        (lambda d: d.update(resourceType="Patient"), 400, "must be an Appointment"),
        (lambda d: d.update(status="postponed"), 422, "postponed"),
    ],
)
def test_bad_pushes_are_refused_with_the_reason(ehr: TestClient, change, status: int, words: str):
    dips_id = new_id()
    dips = sample("booked", dips_id)
    change(dips)
    response = ehr.put(f"{INTAKE}/Appointment/{dips_id}", json=dips)
    assert response.status_code == status, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    assert words in response.text


def test_entries_other_than_appointment_puts_are_refused(ehr: TestClient):
    dips_id = new_id()
    bundle = _transaction(sample("booked", dips_id))
    bundle["entry"][0]["request"]["method"] = "POST"
    response = ehr.post(INTAKE, json=bundle)
    assert response.status_code == 400 and "PUTs of Appointments only" in response.text


def test_the_intake_needs_a_token_with_the_sending_unit(server: FhirServer):
    dips_id = new_id()
    with TestClient(create_app(server=server)) as anonymous:
        refused = anonymous.put(f"{INTAKE}/Appointment/{dips_id}", json=sample("booked", dips_id))
        assert refused.status_code == 401 and "WWW-Authenticate" in refused.headers
        no_unit = anonymous.put(
            f"{INTAKE}/Appointment/{dips_id}", json=sample("booked", dips_id), headers=bearer(server, "ehr")
        )
        assert no_unit.status_code == 403 and "organisation" in no_unit.text
        patient = bearer(server, "patient", patient="14836808275")
        denied = anonymous.put(f"{INTAKE}/Appointment/{dips_id}", json=sample("booked", dips_id), headers=patient)
        assert denied.status_code == 403
        assert anonymous.delete(f"{INTAKE}/Appointment/{dips_id}").status_code == 405


def test_the_intake_says_what_it_takes(ehr: TestClient):
    statement = ehr.get(f"{INTAKE}/metadata").json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["rest"][0]["resource"][0]["type"] == "Appointment"


def test_the_push_is_audited_without_patient_data(ehr: TestClient, client: TestClient):
    dips_id = new_id()
    dips = sample("booked", dips_id)
    assert ehr.put(f"{INTAKE}/Appointment/{dips_id}", json=copy.deepcopy(dips)).status_code == 201
    events = client.get("/fhir/AuditEvent", params={"entity": f"Appointment/dips-{dips_id}"}).json()
    assert events.get("total", len(events.get("entry", []))) >= 1
    text = json.dumps(events)
    assert "14836808275" not in text and "Kari" not in text


def test_two_units_pushing_for_one_person_share_the_patient(server: FhirServer, ehr: TestClient, client: TestClient):
    other_unit = "983974899"
    first, second = new_id(), new_id()
    assert ehr.put(f"{INTAKE}/Appointment/{first}", json=sample("dnr-booked", first)).status_code == 201
    with TestClient(create_app(server=server), headers=bearer(server, "ehr", org=other_unit)) as other:
        response = other.put(f"{INTAKE}/Appointment/{second}", json=sample("dnr-booked", second))
        assert response.status_code == 201, response.text
        assert other.get(f"/fhir/Appointment/dips-{first}").status_code == 404  # the first unit's, not theirs
    patients = {stored(client, i)["participant"][0]["actor"]["reference"] for i in (first, second)}
    assert len(patients) == 1
    (patient,) = patients
    labels = {s["code"] for s in client.get(f"/fhir/{patient}").json()["meta"]["security"]}
    assert {OWNER, other_unit} <= labels


@pytest.mark.parametrize("name", ["booked", "rescheduled", "cancelled", "dnr-booked"])
def test_what_dips_sent_comes_back_from_the_registry(ehr: TestClient, client: TestClient, name: str):
    """The round trip: each sample pushed, then read back from the registry's FHIR API — status, times (the Slot's
    where the Appointment has none), cancellation reason, the registry flag, and every participant resolving to a
    resource that carries the national identifier DIPS named."""
    dips_id = new_id()
    dips = sample(name, dips_id)
    assert ehr.put(f"{INTAKE}/Appointment/{dips_id}", json=dips).status_code == 201
    held = stored(client, dips_id)
    slot = next(c for c in dips["contained"] if c["resourceType"] == "Slot")
    assert held["status"] == dips["status"]
    assert datetime.fromisoformat(held["start"]) == datetime.fromisoformat(dips.get("start", slot["start"]))
    assert datetime.fromisoformat(held["end"]) == datetime.fromisoformat(dips.get("end", slot["end"]))
    assert held.get("cancelationReason") == dips.get("cancelationReason")
    flagged = dips["appointmentType"]["coding"][0]["code"] == "nnrr-first"
    potential = [e["valueCoding"]["code"] for e in held.get("extension", []) if e["url"].endswith("registry-potential")]
    assert potential == (["nnrr"] if flagged else [])
    assert len(held["participant"]) == len(dips["participant"])
    for sent, kept in zip(dips["participant"], held["participant"], strict=True):
        actor = client.get(f"/fhir/{kept['actor']['reference']}").json()
        identifier = sent["actor"]["identifier"]
        value = "".join(identifier["value"].split())
        assert any(i["value"] == value and i["system"].endswith(identifier["system"][-6:]) for i in actor["identifier"])
        assert kept["status"] == sent["status"]
    assert "Kari" not in json.dumps(held) and "description" not in held  # names and free text stay in DIPS
