"""run_view_over_store on a real server (SQLite and PostgreSQL): current versions only, deleted ones left out."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from fhir_server.server import FhirServer
from fhir_server.views.errors import ViewDefinitionError
from fhir_server.views.over_store import run_view_over_store


def _view(marker: str) -> dict[str, Any]:
    return {
        "resourceType": "ViewDefinition",
        "resource": "Patient",
        "constant": [{"name": "marker", "valueString": marker}],
        "where": [{"path": "name.where(family = %marker).exists()"}],
        "select": [
            {
                "column": [
                    {"name": "key", "path": "getResourceKey()"},
                    {"name": "gender", "path": "gender"},
                    {"name": "birth_date", "path": "birthDate"},
                ]
            },
            {"forEachOrNull": "name.given", "column": [{"name": "given", "path": "$this"}]},
        ],
    }


def _create(client: TestClient, marker: str, given: list[str], gender: str) -> str:
    name: dict[str, Any] = {"family": marker, **({"given": given} if given else {})}
    body = {"resourceType": "Patient", "name": [name], "gender": gender}
    response = client.post("/fhir/Patient", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_rows_come_from_current_versions(server: FhirServer, client: TestClient) -> None:
    marker = f"View{uuid.uuid4().hex[:10]}"
    first = _create(client, marker, ["Kari", "Anne"], "female")
    second = _create(client, marker, [], "male")
    gone = _create(client, marker, ["Ola"], "male")
    third = _create(client, marker, ["Per"], "male")

    changed = {
        "resourceType": "Patient",
        "id": third,
        "name": [{"family": marker, "given": ["Pål"]}],
        "gender": "male",
        "birthDate": "1980-02-29",
    }
    assert client.put(f"/fhir/Patient/{third}", json=changed).status_code == 200
    assert client.delete(f"/fhir/Patient/{gone}").status_code in (200, 204)

    rows = list(run_view_over_store(server, _view(marker), batch=2))

    expected = [
        {"key": f"Patient/{first}", "gender": "female", "birth_date": None, "given": "Kari"},
        {"key": f"Patient/{first}", "gender": "female", "birth_date": None, "given": "Anne"},
        {"key": f"Patient/{second}", "gender": "male", "birth_date": None, "given": None},
        {"key": f"Patient/{third}", "gender": "male", "birth_date": "1980-02-29", "given": "Pål"},
    ]
    assert sorted(rows, key=repr) == sorted(expected, key=repr)


def test_a_bad_view_fails_before_reading(server: FhirServer) -> None:
    with pytest.raises(ViewDefinitionError):
        run_view_over_store(server, {"select": [{"column": [{"name": "id", "path": "id"}]}]})
