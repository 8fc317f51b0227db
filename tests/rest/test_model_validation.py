"""The server with the R4B model layer switched on (RYGGRAD_VALIDATE_WITH_MODELS=true), end to end over HTTP."""

from __future__ import annotations

import bz2

import orjson
import pytest
from starlette.testclient import TestClient

from fhir_server.http.app import create_app
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from fhir_server.storage.engine import Database
from fhir_server.storage.migrate import upgrade
from tests.conftest import bearer
from tests.paths import FIXTURES, requires_shared
from tests.rest.helpers import patient


@pytest.fixture(scope="module")
def model_client(definitions, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("models")
    settings = Settings(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / 'db.sqlite'}",
        base_url="http://testserver/fhir",
        auth="dev",
        rate_limit_per_minute=0,
        validate_with_models=True,
    )
    db = Database(settings.resolved_database_url)
    upgrade(db)
    server = FhirServer(settings, db=db, definitions=definitions)
    assert server.validator._models is not None
    with TestClient(create_app(server=server), base_url="http://testserver", headers=bearer(server)) as client:
        yield client
    server.close()


def test_valid_and_invalid_writes(model_client):
    assert model_client.post("/fhir/Patient", json=patient()).status_code == 201
    bad = model_client.post("/fhir/Patient", json={"resourceType": "Patient", "birthDate": "1980-13-45"})
    assert bad.status_code == 400
    assert any("Patient.birthDate" in e for i in bad.json()["issue"] for e in i.get("expression", []))


@requires_shared
def test_synthea_transaction_passes_both_layers(model_client):
    path = sorted((FIXTURES / "synthea").glob("[1-9a-f]*.json.bz2"))[0]
    bundle = orjson.loads(bz2.decompress(path.read_bytes()))
    hospitals = orjson.loads(
        bz2.decompress((FIXTURES / "synthea" / "0-hospitalInformation1625911868739.json.bz2").read_bytes())
    )
    practitioners = orjson.loads(
        bz2.decompress((FIXTURES / "synthea" / "0-practitionerInformation1625911868739.json.bz2").read_bytes())
    )
    for prerequisite in (hospitals, practitioners):
        assert model_client.post("/fhir", json=prerequisite).status_code == 200
    response = model_client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text[:1000]
    assert all(e["response"]["status"].startswith("201") for e in response.json()["entry"])
