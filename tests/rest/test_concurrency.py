"""Two writers of one resource never both win; concurrent conditional creates create one resource."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from fhir_server.storage.schema import resource_history
from tests.rest.helpers import patient, unique, with_identifier


def test_concurrent_if_match_updates_one_wins(client):
    pid = unique("p")
    client.put(f"/fhir/Patient/{pid}", json={**patient(), "id": pid})

    def write(n: int) -> int:
        body = {**patient(f"Writer{n}"), "id": pid}
        return client.put(f"/fhir/Patient/{pid}", json=body, headers={"If-Match": 'W/"1"'}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(write, range(8)))
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 412, 409}
    assert client.get(f"/fhir/Patient/{pid}").json()["meta"]["versionId"] == "2"


def test_concurrent_plain_updates_all_land_as_distinct_versions(client, server):
    pid = unique("p")
    client.put(f"/fhir/Patient/{pid}", json={**patient(), "id": pid})

    def write(n: int) -> int:
        return client.put(f"/fhir/Patient/{pid}", json={**patient(f"W{n}"), "id": pid}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(write, range(6)))
    assert all(s in (200, 409) for s in statuses)
    with server.db.reading() as conn:
        versions = conn.execute(
            select(func.count()).select_from(resource_history).where(resource_history.c.id == pid)
        ).scalar_one()
    assert versions == 1 + statuses.count(200)


def test_concurrent_conditional_creates_make_one_resource(client):
    ident = unique("mrn")
    body = with_identifier(patient(), "urn:race", ident)

    def create(_: int) -> int:
        return client.post(
            "/fhir/Patient", json=body, headers={"If-None-Exist": f"identifier=urn:race|{ident}"}
        ).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(create, range(6)))
    assert statuses.count(201) == 1
    found = client.get(f"/fhir/Patient?identifier=urn:race|{ident}&_total=accurate").json()
    assert found["total"] == 1
