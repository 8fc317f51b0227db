"""read, vread, create, update, delete over HTTP, with versions, ETags and preconditions."""

from __future__ import annotations

from tests.rest.helpers import FHIR_JSON, patient, unique, with_identifier


def test_create_assigns_id_version_and_headers(client):
    response = client.post("/fhir/Patient", json={**patient(), "id": "client-chosen"})
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != "client-chosen"  # the server assigns ids on create
    assert body["meta"]["versionId"] == "1"
    assert body["meta"]["lastUpdated"].endswith("Z")
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["location"].endswith(f"/fhir/Patient/{body['id']}/_history/1")
    assert response.headers["content-type"].startswith(FHIR_JSON)
    assert "last-modified" in response.headers

    read = client.get(f"/fhir/Patient/{body['id']}")
    assert read.status_code == 200
    assert read.json() == body


def test_update_creates_versions_and_vread_returns_each(client):
    pid = unique("p")
    first = client.put(f"/fhir/Patient/{pid}", json={**patient("One"), "id": pid})
    assert first.status_code == 201
    second = client.put(f"/fhir/Patient/{pid}", json={**patient("Two"), "id": pid})
    assert second.status_code == 200
    assert second.json()["meta"]["versionId"] == "2"
    assert client.get(f"/fhir/Patient/{pid}/_history/1").json()["name"][0]["family"] == "One"
    assert client.get(f"/fhir/Patient/{pid}/_history/2").json()["name"][0]["family"] == "Two"
    assert client.get(f"/fhir/Patient/{pid}/_history/3").status_code == 404


def test_identical_update_creates_no_new_version(client):
    pid = unique("p")
    client.put(f"/fhir/Patient/{pid}", json={**patient(), "id": pid})
    again = client.put(f"/fhir/Patient/{pid}", json={**patient(), "id": pid})
    assert again.status_code == 200
    assert again.json()["meta"]["versionId"] == "1"


def test_update_requires_matching_id(client):
    pid = unique("p")
    missing = client.put(f"/fhir/Patient/{pid}", json=patient())
    assert missing.status_code == 400
    other = client.put(f"/fhir/Patient/{pid}", json={**patient(), "id": "other"})
    assert other.status_code == 400
    assert other.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"/fhir/Patient/{pid}").status_code == 404


def test_if_match(client):
    pid = unique("p")
    client.put(f"/fhir/Patient/{pid}", json={**patient(), "id": pid})
    stale = client.put(f"/fhir/Patient/{pid}", json={**patient("X"), "id": pid}, headers={"If-Match": 'W/"7"'})
    assert stale.status_code == 412
    fresh = client.put(f"/fhir/Patient/{pid}", json={**patient("Y"), "id": pid}, headers={"If-Match": 'W/"1"'})
    assert fresh.status_code == 200
    assert fresh.json()["meta"]["versionId"] == "2"
    assert client.delete(f"/fhir/Patient/{pid}", headers={"If-Match": 'W/"1"'}).status_code == 412


def test_conditional_read_headers(client):
    created = client.post("/fhir/Patient", json=patient()).json()
    url = f"/fhir/Patient/{created['id']}"
    assert client.get(url, headers={"If-None-Match": 'W/"1"'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": 'W/"2"'}).status_code == 200
    last_modified = client.get(url).headers["last-modified"]
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200


def test_delete_then_read_is_gone_and_history_keeps_versions(client):
    created = client.post("/fhir/Patient", json=patient()).json()
    url = f"/fhir/Patient/{created['id']}"
    deleted = client.delete(url)
    assert deleted.status_code == 204
    assert deleted.headers["etag"] == 'W/"2"'
    gone = client.get(url)
    assert gone.status_code == 410
    assert gone.json()["issue"][0]["code"] == "deleted"
    assert client.get(f"{url}/_history/1").status_code == 200
    assert client.get(f"{url}/_history/2").status_code == 410
    assert client.delete(url).status_code == 204  # deleting again changes nothing
    history = client.get(f"{url}/_history").json()
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
    # update after delete brings it back as a new version
    revived = client.put(url, json={**patient(), "id": created["id"]})
    assert revived.status_code == 200
    assert revived.json()["meta"]["versionId"] == "3"


def test_prefer_return(client):
    minimal = client.post("/fhir/Patient", json=patient(), headers={"Prefer": "return=minimal"})
    assert minimal.status_code == 201
    assert minimal.content == b""
    assert minimal.headers["location"]
    outcome = client.post("/fhir/Patient", json=patient(), headers={"Prefer": "return=OperationOutcome"})
    assert outcome.json()["resourceType"] == "OperationOutcome"


def test_conditional_create(client):
    ident = unique("mrn")
    body = with_identifier(patient(), "urn:test", ident)
    headers = {"If-None-Exist": f"identifier=urn:test|{ident}"}
    first = client.post("/fhir/Patient", json=body, headers=headers)
    assert first.status_code == 201
    second = client.post("/fhir/Patient", json=body, headers=headers)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    client.post("/fhir/Patient", json=body)  # a duplicate made without the condition
    third = client.post("/fhir/Patient", json=body, headers=headers)
    assert third.status_code == 412


def test_conditional_update_and_delete(client):
    ident = unique("mrn")
    body = with_identifier(patient("A"), "urn:test", ident)
    created = client.put(f"/fhir/Patient?identifier=urn:test|{ident}", json=body)
    assert created.status_code == 201
    pid = created.json()["id"]
    updated = client.put(f"/fhir/Patient?identifier=urn:test|{ident}", json={**body, "gender": "female"})
    assert updated.status_code == 200
    assert updated.json()["id"] == pid
    assert updated.json()["meta"]["versionId"] == "2"
    wrong_id = client.put(f"/fhir/Patient?identifier=urn:test|{ident}", json={**body, "id": "nope"})
    assert wrong_id.status_code == 400
    unsupported = client.delete("/fhir/Patient?no-such-param=1")
    assert unsupported.status_code == 400  # never "delete everything" on an unknown parameter
    deleted = client.delete(f"/fhir/Patient?identifier=urn:test|{ident}")
    assert deleted.status_code == 204
    assert client.get(f"/fhir/Patient/{pid}").status_code == 410


def test_unknown_type_and_endpoint(client):
    assert client.get("/fhir/Unicorn/1").status_code == 404
    assert client.post("/fhir/Unicorn", json={"resourceType": "Unicorn"}).status_code == 404
    assert client.get("/fhir/Patient/1/2/3/4/5").status_code == 404
    assert client.post("/fhir/Patient/x/_history").status_code in (404, 405)


def test_pretty_and_format(client):
    created = client.post("/fhir/Patient", json=patient()).json()
    pretty = client.get(f"/fhir/Patient/{created['id']}?_pretty=true")
    assert b"\n  " in pretty.content
    assert client.get(f"/fhir/Patient/{created['id']}?_format=json").status_code == 200
    assert client.get(f"/fhir/Patient/{created['id']}?_format=xml").status_code == 406
    assert client.get(f"/fhir/Patient/{created['id']}", headers={"Accept": "application/fhir+xml"}).status_code == 406
