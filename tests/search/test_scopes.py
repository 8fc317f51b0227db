"""Search scopes: system-wide with _type, and compartments."""

from __future__ import annotations

from tests.conftest import bearer
from tests.rest.helpers import patient, unique


def test_system_search_with_type(client):
    org = client.post("/fhir/Organization", json={"resourceType": "Organization", "name": unique("o")}).json()
    pat = client.post("/fhir/Patient", json=patient()).json()
    both = client.get(f"/fhir?_type=Patient,Organization&_id={org['id']},{pat['id']}").json()
    assert {(e["resource"]["resourceType"], e["resource"]["id"]) for e in both["entry"]} == {
        ("Organization", org["id"]),
        ("Patient", pat["id"]),
    }
    only = client.get(f"/fhir?_type=Organization&_id={org['id']},{pat['id']}").json()
    assert [e["resource"]["id"] for e in only["entry"]] == [org["id"]]
    assert client.get("/fhir?_type=Unicorn").status_code == 400
    assert both["link"][0]["url"].startswith("http://testserver/fhir?")


def test_compartment_shapes(client, server):
    clinician = bearer(server, "clinician", org="974589095")
    pat = client.post("/fhir/Patient", json=patient(), headers=clinician).json()  # the unit's own patient
    own = client.get(f"/fhir/Patient/{pat['id']}/Patient").json()
    assert [e["resource"]["id"] for e in own["entry"]] == [pat["id"]]
    assert client.get(f"/fhir/Patient/{pat['id']}/Observation").json().get("entry", []) == []
    assert client.get(f"/fhir/Patient/{pat['id']}/Unicorn").status_code == 404
    assert client.get(f"/fhir/Organization/{pat['id']}/Patient").status_code == 400
    everything = client.get(f"/fhir/Patient/{pat['id']}/*", headers=clinician).json()
    assert [e["resource"]["id"] for e in everything["entry"]] == [pat["id"]]
    # the registry's administration also sees the audit trail of the patient's record
    server.audit.flush()
    audited = client.get(f"/fhir/Patient/{pat['id']}/*").json()
    assert {e["resource"]["resourceType"] for e in audited["entry"]} == {"Patient", "AuditEvent"}
