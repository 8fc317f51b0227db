"""``$validate``: the checks of a write without the write — type and instance level, Parameters or a bare
resource, the profile parameter, modes create/update/delete — always answered with an OperationOutcome."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import bearer
from tests.rest.helpers import unique

EXAMPLES = Path(__file__).resolve().parents[2] / "ig" / "examples"
TASK_PROFILE = "https://ryggrad.no/fhir/StructureDefinition/prom-task"


def _outcome(response) -> list[dict]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"]


def _errors(response) -> list[dict]:
    return [i for i in _outcome(response) if i["severity"] == "error"]


def _example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def test_type_level_validates_without_writing(client):
    bad = _example("invalid/Task-bad-guid.json")
    marker = unique("not-a-guid")
    bad["identifier"][0]["value"] = marker
    errors = _errors(client.post("/fhir/Task/$validate", json=bad))
    assert errors and "ryg-guid" in errors[0]["diagnostics"]
    as_parameters = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": bad}]}
    assert _errors(client.post("/fhir/Task/$validate", json=as_parameters))
    ok = _outcome(client.post("/fhir/Task/$validate", json=_example("valid/Task-example-prom-task.json")))
    assert [i["severity"] for i in ok] == ["information"]
    assert not client.get(f"/fhir/Task?identifier=urn:ietf:rfc:3986|{marker}").json().get("entry")  # not written
    structural = _errors(client.post("/fhir/Patient/$validate", json={"resourceType": "Patient", "gender": "x"}))
    assert structural[0]["expression"] == ["Patient.gender"]


def test_the_profile_parameter_checks_against_that_profile(client):
    plain = {"resourceType": "Task", "status": "ready", "intent": "order"}
    assert not _errors(client.post("/fhir/Task/$validate", json=plain))  # claims nothing: valid R4
    asked = {
        "resourceType": "Parameters",
        "parameter": [{"name": "resource", "resource": plain}, {"name": "profile", "valueUri": TASK_PROFILE}],
    }
    said = " ".join(i["diagnostics"] for i in _errors(client.post("/fhir/Task/$validate", json=asked)))
    assert "'focus' is required" in said and "'identifier' is required" in said
    unknown = {**asked, "parameter": [asked["parameter"][0], {"name": "profile", "valueUri": "urn:nope"}]}
    assert "not known" in _errors(client.post("/fhir/Task/$validate", json=unknown))[0]["diagnostics"]


def test_instance_level_and_modes(client):
    stored = client.post("/fhir/Patient", json={"resourceType": "Patient", "gender": "female"}).json()
    path = f"/fhir/Patient/{stored['id']}/$validate"
    assert [i["severity"] for i in _outcome(client.get(path))] == ["information"]  # the stored one
    changed = {**stored, "gender": "nope"}
    assert _errors(client.post(path, json=changed))
    other_id = {**stored, "id": "someone-else"}
    assert "id" in _errors(client.post(path, json=other_id))[0]["expression"]
    assert [i["severity"] for i in _outcome(client.get(f"{path}?mode=delete"))] == ["information"]
    form = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "author": {"reference": f"Patient/{stored['id']}"},
    }
    locked = client.post("/fhir/QuestionnaireResponse", json=form).json()
    delete_check = _errors(client.get(f"/fhir/QuestionnaireResponse/{locked['id']}/$validate?mode=delete"))
    assert delete_check[0]["code"] == "business-rule"
    assert client.get(f"/fhir/Patient/{unique('none')}/$validate").status_code == 404


def test_bad_parameters_and_permissions(client, server):
    wrong = {"resourceType": "Parameters", "parameter": [{"name": "nonsense", "valueString": "x"}]}
    assert client.post("/fhir/Patient/$validate", json=wrong).status_code == 400
    assert client.get("/fhir/Patient/x/$validate?mode=sideways").status_code in (400, 404)
    assert client.post("/fhir/Patient/$no-such-operation", json={}).status_code == 404
    reader = bearer(server, "clinician", scope="user/Patient.r", org="974589095")
    assert client.post("/fhir/Patient/$validate", json={"resourceType": "Patient"}, headers=reader).status_code == 403


def test_the_capability_statement_lists_validate(client):
    rest = client.get("/fhir/metadata").json()["rest"][0]
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert {"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"} in patient[
        "operation"
    ]
