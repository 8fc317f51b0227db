"""Materialized views on a real server (SQLite and PostgreSQL): resources written through the API, the tables
refreshed, then read with plain SQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from fhir_server.views.errors import ViewDefinitionError
from fhir_server.views.materialize import drop_view, load_views, refresh, refresh_all
from tests.paths import REPO_ROOT
from tests.rest.helpers import unique

WEIGHT = "https://example.org/fhir/StructureDefinition/test-weight"
ERASE_REASON = {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "consent withdrawn"}]}


@pytest.fixture
def view_names(server: FhirServer) -> Iterator[list[str]]:
    """Names of the views a test materializes; their tables and state are dropped afterwards, so the shared
    database keeps exactly the migrated schema."""
    names: list[str] = []
    yield names
    for name in names:
        drop_view(server, name)


def _view(name: str, marker: str, *, extra_columns: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "resourceType": "ViewDefinition",
        "name": name,
        "resource": "Patient",
        "constant": [{"name": "marker", "valueString": marker}],
        "where": [{"path": "name.where(family = %marker).exists()"}],
        "select": [
            {
                "column": [
                    {"name": "id", "path": "getResourceKey()", "type": "string"},
                    {"name": "gender", "path": "gender", "type": "code"},
                    {"name": "birth_date", "path": "birthDate", "type": "date"},
                    {"name": "active", "path": "active", "type": "boolean"},
                    {"name": "births", "path": "multipleBirth.ofType(integer)", "type": "integer"},
                    {"name": "weight", "path": f"extension('{WEIGHT}').value.ofType(decimal)", "type": "decimal"},
                    {"name": "given", "path": "name.given", "type": "string", "collection": True},
                    *(extra_columns or []),
                ]
            },
            {"forEachOrNull": "telecom", "column": [{"name": "phone", "path": "value", "type": "string"}]},
        ],
    }


def _patient(marker: str, **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "name": [{"family": marker, "given": ["Kari", "Anne"]}], **fields}


def _create(client: TestClient, body: dict[str, Any]) -> str:
    response = client.post("/fhir/Patient", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _rows(server: FhirServer, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with server.db.reading() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def test_rows_appear_change_and_disappear(server: FhirServer, client: TestClient, view_names: list[str]) -> None:
    marker, name = unique("Mat"), unique("v").replace("-", "_")
    view_names.append(name)
    kept = _create(client, _patient(marker, gender="female", birthDate="1970-03-01"))
    changed = _create(client, _patient(marker, gender="male", telecom=[{"system": "phone", "value": "1"}]))
    gone = _create(client, _patient(marker, gender="other"))

    first = refresh(server, _view(name, marker))
    assert first.full and first.rows == 3 and first.removed == 0
    assert sorted(_rows(server, f"SELECT _resource, gender, phone FROM view_{name}")) == sorted(
        [(kept, "female", None), (changed, "male", "1"), (gone, "other", None)]
    )

    body = _patient(marker, id=changed, gender="male", telecom=[{"system": "phone", "value": "2"}, {"value": "3"}])
    assert client.put(f"/fhir/Patient/{changed}", json=body).status_code == 200
    assert client.delete(f"/fhir/Patient/{gone}").status_code in (200, 204)
    added = _create(client, _patient(marker, gender="unknown"))

    second = refresh(server, _view(name, marker))
    assert not second.full
    assert (second.resources, second.rows) == (3, 3)  # changed (2 rows), gone (none), added (1)
    assert second.watermark > first.watermark
    assert sorted(_rows(server, f"SELECT _resource, gender, phone FROM view_{name}")) == sorted(
        [(kept, "female", None), (changed, "male", "2"), (changed, "male", "3"), (added, "unknown", None)]
    )


def test_a_second_refresh_without_writes_recomputes_nothing(
    server: FhirServer, client: TestClient, view_names: list[str]
) -> None:
    marker, name = unique("Mat"), unique("v").replace("-", "_")
    view_names.append(name)
    _create(client, _patient(marker))
    refresh(server, _view(name, marker))
    again = refresh(server, _view(name, marker))
    assert (again.full, again.resources, again.rows, again.removed) == (False, 0, 0, 0)
    assert _rows(server, f"SELECT count(*) FROM view_{name}") == [(1,)]


def test_a_changed_definition_rebuilds_the_table(server: FhirServer, client: TestClient, view_names: list[str]) -> None:
    marker, name = unique("Mat"), unique("v").replace("-", "_")
    view_names.append(name)
    patient = _create(client, _patient(marker, gender="female"))
    refresh(server, _view(name, marker))

    retitled = {**_view(name, marker), "title": "Same rows, new title"}
    assert not refresh(server, retitled).full  # only what decides the rows counts

    wider = _view(name, marker, extra_columns=[{"name": "family", "path": "name.family.first()", "type": "string"}])
    rebuilt = refresh(server, wider)
    assert rebuilt.full and rebuilt.rows == 1
    assert _rows(server, f"SELECT _resource, family FROM view_{name}") == [(patient, marker)]


def test_columns_have_their_sql_types(server: FhirServer, client: TestClient, view_names: list[str]) -> None:
    marker, name = unique("Mat"), unique("v").replace("-", "_")
    view_names.append(name)
    weight = [{"url": WEIGHT, "valueDecimal": 70.5}]
    _create(client, _patient(marker, active=True, multipleBirthInteger=2, birthDate="1980-05-17", extension=weight))
    _create(client, _patient(marker, active=False, multipleBirthInteger=3, birthDate="1990-01-02"))
    _create(client, _patient(marker, active=True, multipleBirthInteger=4, birthDate="2001-12-31"))
    refresh(server, _view(name, marker))
    table = f"view_{name}"

    assert _rows(server, f"SELECT sum(births) FROM {table}") == [(9,)]
    assert _rows(server, f"SELECT sum(births) FROM {table} WHERE active") == [(6,)]
    assert _rows(server, f"SELECT count(*) FROM {table} WHERE NOT active") == [(1,)]
    assert _rows(server, f"SELECT weight * 2 FROM {table} WHERE weight IS NOT NULL") == [(141.0,)]
    assert _rows(server, f"SELECT count(*) FROM {table} WHERE birth_date >= '1990-01-01'") == [(2,)]
    assert {row[0] for row in _rows(server, f"SELECT given FROM {table}")} == {'["Kari","Anne"]'}


def test_a_value_of_the_wrong_type_is_an_error(server: FhirServer, client: TestClient, view_names: list[str]) -> None:
    marker, name = unique("Mat"), unique("v").replace("-", "_")
    view_names.append(name)
    _create(client, _patient(marker, gender="female"))
    bad = _view(name, marker, extra_columns=[{"name": "sex", "path": "gender", "type": "integer"}])
    with pytest.raises(ViewDefinitionError, match="'sex'"):
        refresh(server, bad)
    with pytest.raises(ViewDefinitionError, match="name"):
        refresh(server, {**_view(name, marker), "name": "no spaces please"})


def test_erased_resources_leave_the_table(server: FhirServer, client: TestClient, view_names: list[str]) -> None:
    marker, name = unique("Mat"), unique("v").replace("-", "_")
    view_names.append(name)
    kept = _create(client, _patient(marker))
    erased = _create(client, _patient(marker))
    refresh(server, _view(name, marker))
    assert client.post(f"/fhir/Patient/{erased}/$erase", json=ERASE_REASON).status_code == 200

    after = refresh(server, _view(name, marker))
    assert after.removed == 1
    assert _rows(server, f"SELECT _resource FROM view_{name}") == [(kept,)]


def test_concurrent_refreshes_leave_one_consistent_table(
    server: FhirServer, client: TestClient, view_names: list[str]
) -> None:
    marker, name = unique("Mat"), unique("v").replace("-", "_")
    view_names.append(name)
    ids = [_create(client, _patient(marker, gender="female")) for _ in range(5)]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            refresh(server, _view(name, marker), batch=2)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    for _ in range(2):  # the first round races two full builds, the second two incremental refreshes
        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(_rows(server, f"SELECT _resource FROM view_{name}")) == sorted((i,) for i in ids)
        body = _patient(marker, id=ids[0], gender="male")
        assert client.put(f"/fhir/Patient/{ids[0]}", json=body).status_code == 200
    assert _rows(server, f"SELECT gender FROM view_{name} WHERE _resource = :id", id=ids[0]) == [("male",)]


def test_the_registry_views_load_and_materialize(server: FhirServer, view_names: list[str]) -> None:
    views = load_views(REPO_ROOT / Settings().views_dir)  # the default: the repo's mappings/views
    assert set(views) == {
        "registry_episode",
        "registry_form_task",
        "nnrr_clinician_form",
        "nnrr_patient_form",
        "registry_score",
        "registry_referral",
        "opr_short_baseline",
    }
    view_names.extend(views)
    refreshed = refresh_all(server, views)
    assert set(refreshed) == set(views)
    for name in views:
        _rows(server, f"SELECT count(*) FROM view_{name}")  # the table exists and reads
