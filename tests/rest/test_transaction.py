"""batch and transaction Bundles: references resolved, spec order, all-or-nothing, entries independent in a batch."""

from __future__ import annotations

import base64
import json

from tests.rest.helpers import patient, row_counts, unique, with_identifier


def _tx(entries: list[dict], kind: str = "transaction") -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def test_transaction_resolves_urn_uuid_and_conditional_references(client):
    ident = unique("mrn")
    org = unique("org")
    bundle = _tx(
        [
            {
                "fullUrl": "urn:uuid:7f1c3f9a-0000-4000-8000-000000000001",
                "resource": {
                    "resourceType": "Organization",
                    "name": org,
                    "identifier": [{"system": "urn:org", "value": org}],
                },
                "request": {"method": "POST", "url": "Organization"},
            },
            {
                "fullUrl": "urn:uuid:7f1c3f9a-0000-4000-8000-000000000002",
                "resource": {
                    **with_identifier(patient(), "urn:mrn", ident),
                    "managingOrganization": {"reference": "urn:uuid:7f1c3f9a-0000-4000-8000-000000000001"},
                },
                "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier=urn:mrn|{ident}"},
            },
            {
                "resource": {
                    "resourceType": "Appointment",
                    "status": "booked",
                    "participant": [
                        {
                            "actor": {"reference": "urn:uuid:7f1c3f9a-0000-4000-8000-000000000002"},
                            "status": "accepted",
                        }
                    ],
                },
                "request": {"method": "POST", "url": "Appointment"},
            },
        ]
    )
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["type"] == "transaction-response"
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created"] * 3
    org_id = result["entry"][0]["resource"]["id"]
    pat = result["entry"][1]["resource"]
    assert pat["managingOrganization"]["reference"] == f"Organization/{org_id}"
    appt = result["entry"][2]["resource"]
    assert appt["participant"][0]["actor"]["reference"] == f"Patient/{pat['id']}"

    # the same bundle again: the patient exists (ifNoneExist) and references point at it
    again = client.post("/fhir", json=bundle).json()
    assert again["entry"][1]["response"]["status"] == "200 OK"
    assert again["entry"][2]["resource"]["participant"][0]["actor"]["reference"] == f"Patient/{pat['id']}"

    conditional = _tx(
        [
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "x"},
                    "subject": {"reference": f"Patient?identifier=urn:mrn|{ident}"},
                },
                "request": {"method": "POST", "url": "Observation"},
            }
        ]
    )
    obs = client.post("/fhir", json=conditional).json()["entry"][0]["resource"]
    assert obs["subject"]["reference"] == f"Patient/{pat['id']}"


def test_transaction_is_all_or_nothing(client, server):
    before = row_counts(server)
    bundle = _tx(
        [
            {"resource": patient(), "request": {"method": "POST", "url": "Patient"}},
            {
                "resource": {"resourceType": "Patient", "gender": "bad"},
                "request": {"method": "POST", "url": "Patient"},
            },
        ]
    )
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any(e.startswith("Bundle.entry[1]") for e in outcome["issue"][0]["expression"])
    assert row_counts(server) == before


def test_transaction_processing_order_and_identity_rules(client, server):
    pid = unique("p")
    client.put(f"/fhir/Patient/{pid}", json={**patient(), "id": pid})
    # GET listed first still sees the PUT (GETs run last); DELETE of another resource runs first
    doomed = client.post("/fhir/Patient", json=patient()).json()["id"]
    bundle = _tx(
        [
            {"request": {"method": "GET", "url": f"Patient/{pid}"}},
            {
                "resource": {**patient("Changed"), "id": pid},
                "request": {"method": "PUT", "url": f"Patient/{pid}"},
            },
            {"request": {"method": "DELETE", "url": f"Patient/{doomed}"}},
        ]
    )
    result = client.post("/fhir", json=bundle).json()
    assert result["entry"][0]["resource"]["name"][0]["family"] == "Changed"
    assert result["entry"][2]["response"]["status"].startswith("204")
    # two entries acting on one resource is an invalid transaction
    before = row_counts(server)
    twice = _tx(
        [
            {"resource": {**patient("A"), "id": pid}, "request": {"method": "PUT", "url": f"Patient/{pid}"}},
            {"request": {"method": "DELETE", "url": f"Patient/{pid}"}},
        ]
    )
    assert client.post("/fhir", json=twice).status_code == 400
    assert row_counts(server) == before


def test_unresolvable_references_fail_the_transaction(client, server):
    before = row_counts(server)
    dangling = _tx(
        [
            {
                "resource": {
                    **patient(),
                    "link": [
                        {
                            "other": {"reference": "urn:uuid:0b3c0b3c-1111-4111-8111-000000000009"},
                            "type": "seealso",
                        }
                    ],
                },
                "request": {"method": "POST", "url": "Patient"},
            }
        ]
    )
    assert client.post("/fhir", json=dangling).status_code == 400
    no_match = _tx(
        [
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "x"},
                    "subject": {"reference": f"Patient?identifier=urn:none|{unique()}"},
                },
                "request": {"method": "POST", "url": "Observation"},
            }
        ]
    )
    assert client.post("/fhir", json=no_match).status_code == 412
    assert row_counts(server) == before


def test_transaction_patch_entries(client):
    created = client.post("/fhir/Patient", json=patient()).json()
    json_patch = [{"op": "add", "path": "/gender", "value": "female"}]
    bundle = _tx(
        [
            {
                "resource": {
                    "resourceType": "Binary",
                    "contentType": "application/json-patch+json",
                    "data": base64.b64encode(json.dumps(json_patch).encode()).decode(),
                },
                "request": {"method": "PATCH", "url": f"Patient/{created['id']}"},
            }
        ]
    )
    result = client.post("/fhir", json=bundle).json()
    assert result["entry"][0]["resource"]["gender"] == "female"


def test_batch_entries_are_independent(client, server):
    pid = unique("p")
    bundle = _tx(
        [
            {"resource": {**patient(), "id": pid}, "request": {"method": "PUT", "url": f"Patient/{pid}"}},
            {
                "resource": {"resourceType": "Patient", "gender": "bad"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {"request": {"method": "GET", "url": f"Patient/{pid}"}},
            {"request": {"method": "GET", "url": "Patient/does-not-exist"}},
        ],
        kind="batch",
    )
    result = client.post("/fhir", json=bundle).json()
    assert result["type"] == "batch-response"
    statuses = [e["response"]["status"].split()[0] for e in result["entry"]]
    assert statuses == ["201", "400", "200", "404"]
    assert result["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert client.get(f"/fhir/Patient/{pid}").status_code == 200


def test_bundle_shape_errors(client):
    assert client.post("/fhir", json={"resourceType": "Bundle", "type": "collection"}).status_code == 400
    assert client.post("/fhir", json=patient()).status_code == 400
    no_request = {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": patient()}]}
    assert client.post("/fhir", json=no_request).status_code == 400


def test_entry_limit(client, server):
    limit = server.settings.max_bundle_entries
    entries = [{"request": {"method": "GET", "url": "Patient/x"}}] * (limit + 1)
    assert client.post("/fhir", json=_tx(entries, "batch")).status_code == 413
