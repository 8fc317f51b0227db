"""Validation against the registry profiles: every valid example of the Implementation Guide passes, every invalid
one fails with the issue it was written for — in the validator, and over HTTP (a claimed or enforced profile
that is not met is a 422 naming the element)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from fhir_server.http.app import create_app
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from fhir_server.validation.profile import ProfileValidator
from fhir_server.validation.structure import ResourceValidator
from tests.conftest import BASE_URL, bearer
from tests.rest.helpers import unique

EXAMPLES = Path(__file__).resolve().parents[2] / "ig" / "examples"
VALID = sorted((EXAMPLES / "valid").glob("*.json"))
EXPECTED: dict[str, str] = json.loads((EXAMPLES / "invalid" / "expected.json").read_text())


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _profile(resource: dict) -> str:
    return resource["meta"]["profile"][0]


@pytest.fixture(scope="module")
def validators(definitions):
    return ResourceValidator(definitions), ProfileValidator(definitions)


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_examples_conform(validators, path):
    structure, profiles = validators
    resource = _load(path)
    issues = structure.validate(resource) + profiles.validate(resource, _profile(resource))
    assert [i for i in issues if i.severity == "error"] == []
    assert [i for i in issues if i.severity == "warning"] == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_examples_fail_for_their_reason(validators, name):
    structure, profiles = validators
    resource = _load(EXAMPLES / "invalid" / name)
    issues = structure.validate(resource) + profiles.validate(resource, _profile(resource))
    errors = [i for i in issues if i.severity == "error"]
    wanted = EXPECTED[name]
    assert any(wanted in i.diagnostics or wanted in " ".join(i.expression) for i in errors), [
        (i.diagnostics, i.expression) for i in errors
    ]
    assert all(i.expression for i in errors), "every issue names where it is"


def test_every_registry_profile_has_valid_and_invalid_examples():
    valid = {_profile(_load(p)) for p in VALID}
    invalid = {_profile(_load(EXAMPLES / "invalid" / n)) for n in EXPECTED}
    assert len(valid) == 15 and valid == invalid


def test_an_unmet_claimed_profile_is_refused_with_422(client):
    resource = _load(EXAMPLES / "invalid" / "Task-bad-guid.json")
    resource.pop("id")
    refused = client.post("/fhir/Task", json=resource)
    assert refused.status_code == 422, refused.text
    issue = refused.json()["issue"][0]
    assert issue["severity"] == "error" and "ryg-guid" in issue["diagnostics"]
    assert issue["expression"] == ["Task.identifier[0].value"]
    unclaimed = {k: v for k, v in resource.items() if k != "meta"}
    assert client.post("/fhir/Task", json=unclaimed).status_code == 201  # claims nothing, enforced for nothing
    valid = {k: v for k, v in _load(EXAMPLES / "valid" / "Task-example-prom-task.json").items() if k != "id"}
    assert client.post("/fhir/Task", json=valid).status_code == 201


def test_a_profile_enforced_for_a_type_applies_to_every_write(server, tmp_path):
    profile = "https://ryggrad.no/fhir/StructureDefinition/registry-episode-of-care"
    settings = Settings(data_dir=tmp_path, base_url=BASE_URL, auth="dev", enforced_profiles={"EpisodeOfCare": profile})
    enforcing = FhirServer(settings, db=server.db, definitions=server.definitions)
    with TestClient(create_app(server=enforcing), base_url="http://testserver", headers=bearer(enforcing)) as client:
        bare = {"resourceType": "EpisodeOfCare", "status": "active", "patient": {"reference": f"Patient/{unique()}"}}
        refused = client.post("/fhir/EpisodeOfCare", json=bare)
        assert refused.status_code == 422, refused.text
        said = " ".join(i["diagnostics"] for i in refused.json()["issue"])
        assert "extension:registry' is required" in said and "'managingOrganization' is required" in said
        example = _load(EXAMPLES / "valid" / "EpisodeOfCare-example-episode.json")
        conforming = {k: v for k, v in example.items() if k not in ("id", "meta")}
        assert client.post("/fhir/EpisodeOfCare", json=conforming).status_code == 201
