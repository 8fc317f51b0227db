"""Bad input: a clear OperationOutcome with the right status, and nothing written."""

from __future__ import annotations

import pytest

from tests.rest.helpers import patient, row_counts, unique


def _assert_outcome(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["diagnostics"]
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/fhir+json", 400),
        (b"", "application/fhir+json", 400),
        (b"[1, 2]", "application/fhir+json", 400),
        (b'{"name": "no resourceType"}', "application/fhir+json", 400),
        (b'{"resourceType": "Observation", "status": "final"}', "application/fhir+json", 400),
        (b'{"resourceType": "Patient", "gender": "unicorn"}', "application/fhir+json", 400),
        (b'{"resourceType": "Patient", "birthDate": "23.11.2026"}', "application/fhir+json", 400),
        (b'{"resourceType": "Patient", "notAnElement": true}', "application/fhir+json", 400),
        (b'<Patient xmlns="http://hl7.org/fhir"/>', "application/fhir+xml", 415),
        (b"name=x", "text/plain", 415),
    ],
    ids=[
        "malformed",
        "empty",
        "array",
        "no-type",
        "wrong-type",
        "bad-code",
        "bad-date",
        "unknown-element",
        "xml",
        "text",
    ],
)
def test_bad_create_writes_nothing(client, server, body, content_type, status):
    before = row_counts(server)
    response = client.post("/fhir/Patient", content=body, headers={"Content-Type": content_type})
    _assert_outcome(response, status)
    assert row_counts(server) == before


def test_invalid_element_is_located(client):
    body = _assert_outcome(client.post("/fhir/Patient", json={"resourceType": "Patient", "gender": "x"}), 400)
    assert any("Patient.gender" in e for i in body["issue"] for e in i.get("expression", []))


def test_body_over_limit_is_413(client, server):
    limit = server.settings.max_body_bytes
    before = row_counts(server)
    big = b'{"resourceType": "Patient", "text": "' + b"x" * (limit + 10) + b'"}'
    _assert_outcome(client.post("/fhir/Patient", content=big, headers={"Content-Type": "application/fhir+json"}), 413)
    assert row_counts(server) == before


def test_nesting_over_limit_is_rejected(client, server):
    depth = server.settings.max_json_depth + 5
    deep = "[" * depth + "]" * depth
    body = '{"resourceType": "Patient", "extension": ' + deep + "}"
    _assert_outcome(client.post("/fhir/Patient", content=body, headers={"Content-Type": "application/fhir+json"}), 400)


def test_update_with_wrong_type_in_url(client, server):
    before = row_counts(server)
    pid = unique("p")
    _assert_outcome(client.put(f"/fhir/Observation/{pid}", json={**patient(), "id": pid}), 400)
    _assert_outcome(client.put("/fhir/Patient/bad id!", json={**patient(), "id": "bad id!"}), 400)
    assert row_counts(server) == before


def test_version_conflict_is_412_and_writes_nothing(client, server):
    pid = unique("p")
    client.put(f"/fhir/Patient/{pid}", json={**patient(), "id": pid})
    before = row_counts(server)
    _assert_outcome(
        client.put(f"/fhir/Patient/{pid}", json={**patient("Z"), "id": pid}, headers={"If-Match": 'W/"9"'}),
        412,
    )
    assert row_counts(server) == before


def test_method_not_allowed(client):
    _assert_outcome(client.delete("/fhir/metadata"), 405)


def test_bad_search_values(client):
    _assert_outcome(client.get("/fhir/Patient?_lastUpdated=yesterday"), 400)
    _assert_outcome(client.get("/fhir/Patient?_count=many"), 400)
    _assert_outcome(client.get("/fhir/Patient?unknown=1", headers={"Prefer": "handling=strict"}), 400)
    assert client.get("/fhir/Patient?unknown=1").status_code == 200  # lenient by default


def test_internal_errors_leak_no_stack_trace_or_data(client, server, monkeypatch, caplog):
    def explode(*_args, **_kwargs):
        raise RuntimeError("secret detail 01010112345")

    monkeypatch.setattr(server, "execute", explode)
    response = client.get("/fhir/Patient/anything?identifier=01010112345")
    body = _assert_outcome(response, 500)
    assert "incident" in body["issue"][0]["diagnostics"]
    assert "secret" not in response.text and "RuntimeError" not in response.text
    access = [r.getMessage() for r in caplog.records if r.name == "ryggrad.access"]
    assert all("01010112345" not in line for line in access)
