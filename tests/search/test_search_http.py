"""Search over HTTP on registry-shaped data: Patient ← Appointment ← EpisodeOfCare ← Task ← QuestionnaireResponse."""

from __future__ import annotations

import pytest

from tests.rest.helpers import unique

FNR = "urn:oid:2.16.578.1.12.4.1.4.1"


def _ids(bundle: dict, mode: str = "match") -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode}


@pytest.fixture(scope="module")
def registry(client):
    tag = unique("reg")
    tx = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001",
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": FNR, "value": f"{tag}-1"}],
                    "name": [{"family": "Søreng", "given": ["Jannice"]}],
                    "gender": "female",
                    "birthDate": "1974-05-17",
                    "meta": {"tag": [{"system": "urn:test", "code": tag}]},
                },
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000002",
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": FNR, "value": f"{tag}-2"}],
                    "name": [{"family": "Ås", "given": ["Ola"]}],
                    "gender": "male",
                    "birthDate": "1990",
                    "meta": {"tag": [{"system": "urn:test", "code": tag}]},
                },
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000003",
                "resource": {
                    "resourceType": "Appointment",
                    "status": "booked",
                    "start": "2026-12-10T09:00:00+01:00",
                    "end": "2026-12-10T09:30:00+01:00",
                    "identifier": [{"system": "urn:appt", "value": tag}],
                    "participant": [
                        {"actor": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"}, "status": "accepted"}
                    ],
                },
                "request": {"method": "POST", "url": "Appointment"},
            },
            {
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000004",
                "resource": {
                    "resourceType": "EpisodeOfCare",
                    "status": "active",
                    "patient": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"},
                    "identifier": [{"system": "urn:eoc", "value": tag}],
                },
                "request": {"method": "POST", "url": "EpisodeOfCare"},
            },
            {
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000005",
                "resource": {
                    "resourceType": "Task",
                    "status": "ready",
                    "intent": "order",
                    "for": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"},
                    "focus": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000004"},
                    "identifier": [{"system": "urn:task", "value": tag}],
                },
                "request": {"method": "POST", "url": "Task"},
            },
            {
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000006",
                "resource": {
                    "resourceType": "QuestionnaireResponse",
                    "status": "completed",
                    "questionnaire": "https://ryggrad.no/fhir/Questionnaire/nnrr-pre|1.0",
                    "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"},
                    "basedOn": [{"reference": "urn:uuid:00000000-0000-4000-8000-000000000005"}],
                    "authored": "2026-11-24T10:00:00Z",
                    "identifier": {"system": "urn:qr", "value": tag},
                },
                "request": {"method": "POST", "url": "QuestionnaireResponse"},
            },
            {
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000007",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "https://ryggrad.no/fhir/CodeSystem/score", "code": "odi"}]},
                    "valueQuantity": {"value": 42, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
                    "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"},
                    "derivedFrom": [{"reference": "urn:uuid:00000000-0000-4000-8000-000000000006"}],
                    "identifier": [{"system": "urn:obs", "value": tag}],
                },
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    result = client.post("/fhir", json=tx).json()
    ids = [e["response"]["location"].split("/")[-3] for e in result["entry"]]
    names = ["p1", "p2", "appt", "eoc", "task", "qr", "obs"]
    return tag, dict(zip(names, ids, strict=True))


def test_string_is_accent_and_case_insensitive(client, registry):
    tag, ids = registry
    for value in ("soreng", "SØRENG", "sør", "Soreng"):
        found = client.get(f"/fhir/Patient?family={value}&_tag=urn:test|{tag}").json()
        assert _ids(found) == {ids["p1"]}, value
    assert _ids(client.get(f"/fhir/Patient?family:exact=Søreng&_tag=urn:test|{tag}").json()) == {ids["p1"]}
    assert _ids(client.get(f"/fhir/Patient?family:exact=soreng&_tag=urn:test|{tag}").json()) == set()
    assert _ids(client.get(f"/fhir/Patient?name:contains=renG&_tag=urn:test|{tag}").json()) == {ids["p1"]}


def test_tokens_dates_and_missing(client, registry):
    tag, ids = registry
    assert _ids(client.get(f"/fhir/Patient?gender=female&_tag=urn:test|{tag}").json()) == {ids["p1"]}
    assert _ids(client.get(f"/fhir/Patient?gender:not=female&_tag=urn:test|{tag}").json()) == {ids["p2"]}
    assert _ids(client.get(f"/fhir/Patient?birthdate=1974&_tag=urn:test|{tag}").json()) == {ids["p1"]}
    assert _ids(client.get(f"/fhir/Patient?birthdate=ge1980&_tag=urn:test|{tag}").json()) == {ids["p2"]}
    # ranges: "1990" starts before 1990-06-01 (lt matches it) but does not end before it (eb does not)
    assert _ids(client.get(f"/fhir/Patient?birthdate=lt1990-06-01&_tag=urn:test|{tag}").json()) == {
        ids["p1"],
        ids["p2"],
    }
    assert _ids(client.get(f"/fhir/Patient?birthdate=eb1990-06-01&_tag=urn:test|{tag}").json()) == {ids["p1"]}
    assert _ids(client.get(f"/fhir/Patient?address:missing=true&_tag=urn:test|{tag}").json()) == {ids["p1"], ids["p2"]}
    by_fnr = client.post("/fhir/Patient/_search", data={"identifier": f"{FNR}|{tag}-2"}).json()
    assert _ids(by_fnr) == {ids["p2"]}


def test_quantity_and_reference(client, registry):
    tag, ids = registry
    base = f"/fhir/Observation?identifier=urn:obs|{tag}"
    assert _ids(client.get(f"{base}&value-quantity=gt40||%").json()) == {ids["obs"]}
    assert _ids(client.get(f"{base}&value-quantity=lt40").json()) == set()
    assert _ids(client.get(f"{base}&subject=Patient/{ids['p1']}").json()) == {ids["obs"]}
    assert _ids(client.get(f"{base}&subject:Patient={ids['p1']}").json()) == {ids["obs"]}
    assert _ids(client.get(f"{base}&subject={ids['p2']}").json()) == set()
    qr = "/fhir/QuestionnaireResponse?questionnaire=https://ryggrad.no/fhir/Questionnaire/nnrr-pre"
    assert ids["qr"] in _ids(client.get(qr).json())


def test_chains_and_reverse_chains(client, registry):
    tag, ids = registry
    chained = client.get(f"/fhir/Appointment?actor:Patient.family=soreng&identifier=urn:appt|{tag}").json()
    assert _ids(chained) == {ids["appt"]}
    deep = client.get(f"/fhir/Task?focus:EpisodeOfCare.patient:Patient.gender=female&identifier=urn:task|{tag}").json()
    assert _ids(deep) == {ids["task"]}
    two = client.get(
        f"/fhir/Observation?derived-from:QuestionnaireResponse.subject:Patient.family=soreng&identifier=urn:obs|{tag}"
    ).json()
    assert _ids(two) == {ids["obs"]}
    has = client.get(f"/fhir/Patient?_has:Appointment:actor:status=booked&_tag=urn:test|{tag}").json()
    assert _ids(has) == {ids["p1"]}
    nested = client.get(
        f"/fhir/Patient?_has:EpisodeOfCare:patient:_has:Task:focus:status=ready&_tag=urn:test|{tag}"
    ).json()
    assert _ids(nested) == {ids["p1"]}


def test_includes(client, registry):
    tag, ids = registry
    bundle = client.get(f"/fhir/Task?identifier=urn:task|{tag}&_include=Task:focus&_include=Task:patient").json()
    assert _ids(bundle) == {ids["task"]}
    assert _ids(bundle, "include") == {ids["eoc"], ids["p1"]}
    rev = client.get(f"/fhir/Patient?_id={ids['p1']}&_revinclude=Observation:subject").json()
    assert _ids(rev, "include") == {ids["obs"]}
    iterate = client.get(
        f"/fhir/Observation?identifier=urn:obs|{tag}&_include=Observation:derived-from&_include:iterate=QuestionnaireResponse:based-on"
    ).json()
    assert _ids(iterate, "include") == {ids["qr"], ids["task"]}


def test_compartment_and_sort(client, registry):
    tag, ids = registry
    compartment = client.get(f"/fhir/Patient/{ids['p1']}/Observation").json()
    assert _ids(compartment) == {ids["obs"]}
    everything = _ids(client.get(f"/fhir/Patient/{ids['p1']}/*?_count=100").json())
    assert {ids["p1"], ids["appt"], ids["eoc"], ids["qr"], ids["obs"]} <= everything  # R4: Task has no patient link
    assert ids["p2"] not in everything
    ordered = client.get(f"/fhir/Patient?_tag=urn:test|{tag}&_sort=-birthdate").json()
    assert [e["resource"]["id"] for e in ordered["entry"]] == [ids["p2"], ids["p1"]]
    by_name = client.get(f"/fhir/Patient?_tag=urn:test|{tag}&_sort=family").json()
    assert [e["resource"]["id"] for e in by_name["entry"]] == [ids["p2"], ids["p1"]]  # "as" < "soreng"


def test_bad_values_name_the_parameter(client):
    bad = client.get("/fhir/Patient?birthdate=1974-13-45")
    assert bad.status_code == 400
    assert "birthdate" in bad.text
    assert client.get("/fhir/Patient?gender:bogus=x").status_code == 400
