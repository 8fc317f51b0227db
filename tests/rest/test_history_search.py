"""History (instance, type, system; _since, _at, paging) and the basic type search."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from tests.rest.helpers import patient, unique, with_identifier


def _all_pages(client, url: str) -> list[dict]:
    entries: list[dict] = []
    while url:
        bundle = client.get(url).json()
        entries += bundle.get("entry", [])
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        if url:
            url = url.replace("http://testserver", "")
    return entries


def test_instance_history_pages_newest_first(client):
    pid = unique("p")
    for family in ("A", "B", "C", "D", "E"):
        client.put(f"/fhir/Patient/{pid}", json={**patient(family), "id": pid})
    bundle = client.get(f"/fhir/Patient/{pid}/_history?_count=2").json()
    assert bundle["type"] == "history"
    assert [e["resource"]["meta"]["versionId"] for e in bundle["entry"]] == ["5", "4"]
    entries = _all_pages(client, f"/fhir/Patient/{pid}/_history?_count=2")
    assert [e["resource"]["name"][0]["family"] for e in entries] == ["E", "D", "C", "B", "A"]
    assert entries[-1]["request"] == {"method": "PUT", "url": f"Patient/{pid}"}
    assert entries[-1]["response"]["status"].startswith("201")


def test_since_and_at(client):
    """``_since`` and ``_at`` against the server's own timestamps (the test's clock is not the server's)."""
    pid = unique("p")
    first = client.put(f"/fhir/Patient/{pid}", json={**patient("Old"), "id": pid})
    assert first.status_code == 201, first.text
    time.sleep(0.05)
    second = client.put(f"/fhir/Patient/{pid}", json={**patient("New"), "id": pid})
    assert second.status_code == 200, second.text
    old_time = first.json()["meta"]["lastUpdated"]
    after_old = datetime.fromisoformat(old_time.replace("Z", "+00:00")) + timedelta(milliseconds=1)
    since = client.get(f"/fhir/Patient/{pid}/_history", params={"_since": after_old.isoformat()})
    assert since.status_code == 200, since.text
    found = [e["resource"]["name"][0]["family"] for e in since.json()["entry"]]
    assert found == ["New"], (old_time, second.json()["meta"], since.json())
    at = client.get(f"/fhir/Patient/{pid}/_history", params={"_at": old_time}).json()
    found = [e["resource"]["name"][0]["family"] for e in at["entry"]]
    assert found == ["Old"], (old_time, second.json()["meta"], at)


def test_type_and_system_history(client):
    for _ in range(3):
        client.post("/fhir/Organization", json={"resourceType": "Organization", "name": unique("org")})
    assert client.get("/fhir/Organization/_history?_count=1").json()["entry"][0]["resource"]["resourceType"] == (
        "Organization"
    )
    system = client.get("/fhir/_history?_count=3").json()
    assert system["type"] == "history"
    assert len(system["entry"]) == 3


def test_search_by_id_identifier_and_last_updated(client):
    ident = unique("mrn")
    created = client.post("/fhir/Patient", json=with_identifier(patient(), "urn:sys", ident)).json()
    by_id = client.get(f"/fhir/Patient?_id={created['id']},nothing").json()
    assert [e["resource"]["id"] for e in by_id["entry"]] == [created["id"]]
    assert by_id["entry"][0]["search"]["mode"] == "match"
    for value in (f"urn:sys|{ident}", ident, f"|{ident}"):
        found = client.post("/fhir/Patient/_search", data={"identifier": value}).json()
        ids = [e["resource"]["id"] for e in found.get("entry", [])]
        assert ids == ([] if value.startswith("|") else [created["id"]]), value
    assert client.get(f"/fhir/Patient?identifier=urn:other|{ident}").json().get("entry", []) == []
    stamp = created["meta"]["lastUpdated"]
    ge = client.get("/fhir/Patient", params={"_lastUpdated": f"ge{stamp}", "_id": created["id"]}).json()
    assert len(ge["entry"]) == 1
    lt = client.get("/fhir/Patient", params={"_lastUpdated": f"lt{stamp}", "_id": created["id"]}).json()
    assert lt.get("entry", []) == []


def test_search_paging_and_total(client):
    tag = unique("batch")
    ids = {
        client.post("/fhir/Patient", json=with_identifier(patient(), "urn:page", tag)).json()["id"] for _ in range(7)
    }
    entries = _all_pages(client, f"/fhir/Patient?identifier=urn:page|{tag}&_count=3")
    assert {e["resource"]["id"] for e in entries} == ids
    assert len(entries) == 7
    counted = client.get(f"/fhir/Patient?identifier=urn:page|{tag}&_total=accurate&_count=1").json()
    assert counted["total"] == 7
    assert "total" not in client.get(f"/fhir/Patient?identifier=urn:page|{tag}").json()


def test_deleted_resources_are_not_found_by_search(client):
    ident = unique("mrn")
    created = client.post("/fhir/Patient", json=with_identifier(patient(), "urn:del", ident)).json()
    client.delete(f"/fhir/Patient/{created['id']}")
    assert client.get(f"/fhir/Patient?identifier=urn:del|{ident}").json().get("entry", []) == []


def test_capability_statement(client):
    cs = client.get("/fhir/metadata").json()
    assert cs["resourceType"] == "CapabilityStatement"
    assert cs["fhirVersion"] == "4.0.1"
    types = {r["type"]: r for r in cs["rest"][0]["resource"]}
    assert {"Patient", "Appointment", "Questionnaire", "Task", "EpisodeOfCare", "Consent"} <= set(types)
    patient_params = {p["name"] for p in types["Patient"]["searchParam"]}
    assert {
        "_id",
        "_lastUpdated",
        "identifier",
        "name",
        "family",
        "birthdate",
        "gender",
        "general-practitioner",
        "_tag",
        "_profile",
        "_security",
        "_source",
    } <= patient_params
    assert not {"_text", "_content", "_list"} & patient_params
    by_name = {p["name"]: p for p in types["Patient"]["searchParam"]}
    assert by_name["birthdate"]["type"] == "date"
    assert by_name["birthdate"]["definition"] == "http://hl7.org/fhir/SearchParameter/individual-birthdate"
    assert {i["code"] for i in cs["rest"][0]["interaction"]} == {"transaction", "batch", "history-system"}
    assert "application/json-patch+json" in cs["patchFormat"]
    assert "*" in types["Patient"]["searchInclude"]
    assert all(p["documentation"] for p in types["Patient"]["searchParam"])


def test_paging_links_never_carry_posted_identifiers(client):
    fnr = "01010112345"  # searched by POST: must never show up in a link
    for _ in range(3):
        client.post("/fhir/Patient", json=with_identifier(patient(), "urn:oid:2.16.578.1.12.4.1.4.1", fnr))
    first = client.post("/fhir/Patient/_search", data={"identifier": fnr, "_count": "2"})
    assert fnr not in first.text.split('"entry"')[0]  # the links part of the Bundle
    links = {link["relation"]: link["url"] for link in first.json()["link"]}
    assert "_page=" in links["next"]
    second = client.get(links["next"].replace("http://testserver", "")).json()
    assert len(second["entry"]) >= 1
    assert all(fnr not in link["url"] for link in second["link"])


def test_forged_or_foreign_page_tokens_are_rejected(client):
    assert client.get("/fhir/Patient?_page=not-a-token").status_code == 400
    first = client.get("/fhir/Patient?_count=1").json()
    token = next(link["url"] for link in first["link"] if link["relation"] == "next").split("_page=")[1]
    assert client.get(f"/fhir/Observation?_page={token}").status_code == 400
