"""Scopes decide which interactions a token may make, on every path: plain requests, batches, transactions."""

from __future__ import annotations

import pytest

from fhir_server.auth.scopes import parse_scopes
from tests.conftest import bearer
from tests.rest.helpers import unique


def test_scope_forms():
    permissions = parse_scopes(
        "openid fhirUser system/Appointment.cu user/*.rs patient/QuestionnaireResponse.cru "
        "nhn:ryggrad/system/Task.rs patient/Observation.read user/Consent.cruds?category=x"
    )
    assert permissions.allows("Appointment", "c") and permissions.allows("Appointment", "u")
    assert not permissions.allows("Appointment", "d")
    assert permissions.allows("Patient", "r") and permissions.allows("Patient", "s")  # user/*.rs
    assert not permissions.allows("Patient", "c")
    assert permissions.allows("Task", "s")  # the HelseID form
    assert permissions.allows("Observation", "r") and permissions.allows("Observation", "s")  # v1 .read
    assert not permissions.allows("Consent", "d")  # a query-restricted scope grants nothing
    write = parse_scopes("user/Flag.write")  # v1 .write: create, update, delete
    assert write.allows("Flag", "c") and write.allows("Flag", "u") and write.allows("Flag", "d")
    assert not write.allows("Flag", "r")
    assert parse_scopes("system/Appointment.rc").grants == frozenset()  # SMART v2 letters come in order
    assert parse_scopes(["user/Patient.r"]).allows("Patient", "r")


UNIT = "974589095"


def _location(name: str) -> dict:
    return {"resourceType": "Location", "name": name}


@pytest.fixture
def create_only(server):
    return bearer(server, "ehr", scope="system/Location.c", org=UNIT)


@pytest.fixture
def read_only(server):
    return bearer(server, "clinician", scope="user/*.rs", org=UNIT)


def test_each_interaction_needs_its_permission(client, create_only, read_only):
    created = client.post("/fhir/Location", json=_location(unique("scoped")), headers=create_only)
    assert created.status_code == 201
    path = f"/fhir/Location/{created.json()['id']}"
    for method, url in [("GET", path), ("GET", "/fhir/Location"), ("DELETE", path), ("GET", f"{path}/_history")]:
        denied = client.request(method, url, headers=create_only)
        assert denied.status_code == 403, (method, url)
        assert denied.json()["issue"][0]["code"] == "forbidden"
    assert client.get(path, headers=read_only).status_code == 200
    assert client.get("/fhir/Location", headers=read_only).status_code == 200
    assert client.post("/fhir/Location", json=_location("x"), headers=read_only).status_code == 403
    assert client.put(path, json={**created.json(), "name": "y"}, headers=read_only).status_code == 403
    assert (
        client.patch(path, json=[], headers=read_only | {"Content-Type": "application/json-patch+json"}).status_code
        == 403
    )
    assert client.delete(path, headers=read_only).status_code == 403
    assert client.get(path).json()["name"] == created.json()["name"]  # nothing changed


def test_system_search_needs_every_type_searched(client, server):
    token = bearer(server, "clinician", scope="user/Organization.s", org=UNIT)
    assert client.get("/fhir?_type=Organization", headers=token).status_code == 200
    assert client.get("/fhir?_type=Organization,Patient", headers=token).status_code == 403
    assert client.get("/fhir", headers=token).status_code == 403


def test_a_transaction_with_one_forbidden_entry_writes_nothing(client, server, create_only):
    name = unique("tx")
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": _location(name), "request": {"method": "POST", "url": "Location"}},
            {"resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}},
        ],
    }
    response = client.post("/fhir", json=bundle, headers=create_only)
    assert response.status_code == 403
    assert not client.get(f"/fhir/Location?name:exact={name}").json().get("entry")


def test_a_batch_answers_forbidden_entries_alone(client, create_only):
    name = unique("batch")
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": _location(name), "request": {"method": "POST", "url": "Location"}},
            {"request": {"method": "GET", "url": "Patient?_count=1"}},
        ],
    }
    response = client.post("/fhir", json=bundle, headers=create_only)
    assert response.status_code == 200
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses[0].startswith("201") and statuses[1].startswith("403")
    assert len(client.get(f"/fhir/Location?name:exact={name}").json()["entry"]) == 1
