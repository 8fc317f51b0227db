"""PATCH over HTTP: JSON Patch and FHIRPath Patch, preconditions, conditional patch, failures write nothing."""

from __future__ import annotations

from tests.rest.helpers import patient, row_counts, unique, with_identifier

JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def test_json_patch(client):
    created = client.post("/fhir/Patient", json=patient()).json()
    url = f"/fhir/Patient/{created['id']}"
    ops = [{"op": "add", "path": "/birthDate", "value": "1980-02-03"}]
    response = client.patch(url, json=ops, headers=JSON_PATCH)
    assert response.status_code == 200, response.text
    assert response.json()["birthDate"] == "1980-02-03"
    assert response.json()["meta"]["versionId"] == "2"
    stale = client.patch(url, json=ops, headers={**JSON_PATCH, "If-Match": 'W/"1"'})
    assert stale.status_code == 412


def test_fhirpath_patch(client):
    created = client.post("/fhir/Patient", json={**patient(), "birthDate": "1920-01-01"}).json()
    params = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "operation",
                "part": [
                    {"name": "type", "valueCode": "replace"},
                    {"name": "path", "valueString": "Patient.birthDate"},
                    {"name": "value", "valueDate": "1930-01-01"},
                ],
            }
        ],
    }
    response = client.patch(
        f"/fhir/Patient/{created['id']}", json=params, headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["birthDate"] == "1930-01-01"


def test_patch_that_makes_invalid_resource_writes_nothing(client, server):
    created = client.post("/fhir/Patient", json=patient()).json()
    before = row_counts(server)
    bad = [{"op": "add", "path": "/gender", "value": "unicorn"}]
    assert client.patch(f"/fhir/Patient/{created['id']}", json=bad, headers=JSON_PATCH).status_code == 400
    retype = [{"op": "replace", "path": "/resourceType", "value": "Group"}]
    assert client.patch(f"/fhir/Patient/{created['id']}", json=retype, headers=JSON_PATCH).status_code == 422
    assert client.patch(f"/fhir/Patient/{created['id']}", content=b"[{", headers=JSON_PATCH).status_code == 400
    assert client.patch("/fhir/Patient/missing", json=bad, headers=JSON_PATCH).status_code == 404
    assert row_counts(server) == before


def test_conditional_patch(client):
    ident = unique("mrn")
    created = client.post("/fhir/Patient", json=with_identifier(patient(), "urn:cp", ident)).json()
    ops = [{"op": "add", "path": "/active", "value": True}]
    response = client.patch(f"/fhir/Patient?identifier=urn:cp|{ident}", json=ops, headers=JSON_PATCH)
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]
    assert client.patch(f"/fhir/Patient?identifier=urn:cp|{unique()}", json=ops, headers=JSON_PATCH).status_code == 404
