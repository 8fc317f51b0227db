"""The audit trail over HTTP: every access leaves an AuditEvent (without search values), writes atomically with
theirs; only the registry's administration reads the trail, and nobody changes it."""

from __future__ import annotations

import base64

import orjson

from tests.conftest import bearer
from tests.rest.helpers import unique, unique_fnr

FNR = "urn:oid:2.16.578.1.12.4.1.4.1"


def _events(client, server, reference: str) -> list[dict]:
    server.audit.flush()
    bundle = client.get(f"/fhir/AuditEvent?entity={reference}&_count=100").json()
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def _clinician(server) -> dict[str, str]:
    return bearer(server, "clinician", org="974589095", hpr="9144889", client_id="ehr-test")


def test_reads_and_writes_are_audited_with_who_and_what(client, server):
    clinician = _clinician(server)
    created = client.post("/fhir/Patient", json={"resourceType": "Patient", "gender": "male"}, headers=clinician)
    reference = f"Patient/{created.json()['id']}"
    # the create's event was written with the create: visible without waiting for the queue
    written = client.get(f"/fhir/AuditEvent?entity={reference}").json()["entry"]
    assert [e["resource"]["subtype"][0]["code"] for e in written] == ["create"]
    assert client.get(f"/fhir/{reference}", headers=clinician).status_code == 200
    events = _events(client, server, reference)
    assert {e["subtype"][0]["code"] for e in events} == {"create", "read"}
    read = next(e for e in events if e["subtype"][0]["code"] == "read")
    assert read["action"] == "R" and read["outcome"] == "0"
    agent = read["agent"][0]
    assert agent["type"]["coding"][0]["code"] == "clinician"
    assert agent["who"]["identifier"]["value"] == "ehr-test"
    assert agent["role"][0]["coding"][0]["code"] == "974589095"
    assert agent["extension"][0]["valueIdentifier"]["value"] == "9144889"


def test_searches_record_parameter_names_never_values(client, server):
    fnr = unique_fnr()
    patient = {"resourceType": "Patient", "identifier": [{"system": FNR, "value": fnr}]}
    made = client.post("/fhir/Patient", json=patient, headers=_clinician(server))  # the clinician's unit's
    assert made.status_code == 201, made.text
    made = made.json()
    found = client.post(
        "/fhir/Patient/_search",
        data={"identifier": f"{FNR}|{fnr}"},
        headers=_clinician(server),
    )
    assert found.status_code == 200
    events = [e for e in _events(client, server, f"Patient/{made['id']}") if e["subtype"][0]["code"] == "search-type"]
    assert events, "the search names what it returned"
    query = next(x["query"] for x in events[0]["entity"] if "query" in x)
    assert base64.b64decode(query).decode() == "identifier"
    everything = orjson.dumps(events).decode()
    assert fnr not in everything


def test_failures_and_refused_sign_ins_are_audited(client, server):
    missing = f"Patient/{unique('none')}"
    assert client.get(f"/fhir/{missing}", headers=_clinician(server)).status_code == 404
    failed = _events(client, server, missing)
    assert failed and failed[0]["outcome"] == "4" and failed[0]["outcomeDesc"]
    before = client.get("/fhir/AuditEvent?type=110114&_summary=count").json()["total"]
    assert client.get("/fhir/Patient", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    server.audit.flush()
    after = client.get("/fhir/AuditEvent?type=110114&_summary=count").json()["total"]
    assert after >= before + 1  # (other servers of the session may add theirs meanwhile)


def test_only_the_registry_admin_reads_the_trail_and_nobody_changes_it(client, server):
    clinician = _clinician(server)
    event = client.get("/fhir/AuditEvent?_count=1").json()["entry"][0]["resource"]
    path = f"/fhir/AuditEvent/{event['id']}"
    assert client.get(path).status_code == 200  # the client fixture acts as registry-admin
    assert client.get(path, headers=clinician).status_code == 403
    assert client.get("/fhir/AuditEvent", headers=clinician).status_code == 403
    assert client.get("/fhir/Patient?_revinclude=AuditEvent:entity", headers=clinician).status_code == 403
    system = client.get("/fhir?_count=200&_sort=-_lastUpdated", headers=clinician).json()
    assert all(e["resource"]["resourceType"] != "AuditEvent" for e in system.get("entry", []))
    history = client.get("/fhir/_history?_count=200", headers=clinician).json()
    assert all(e.get("resource", {}).get("resourceType") != "AuditEvent" for e in history.get("entry", []))
    for method in ("PUT", "DELETE", "PATCH"):
        assert client.request(method, path, json=event).status_code == 405, method
    assert client.post("/fhir/AuditEvent", json={**event, "id": None}).status_code == 405
    assert client.get(path).json()["meta"]["versionId"] == "1"
