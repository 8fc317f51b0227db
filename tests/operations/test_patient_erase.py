"""R3: the registry administration erases a patient's registry record — every unit's data, the history, deleted
resources and the search index — leaving only the audit record that it happened."""

from __future__ import annotations

from sqlalchemy import Text, cast, func, select
from starlette.testclient import TestClient

from fhir_server.norway.identifiers import FNR_SYSTEM
from fhir_server.server import FhirServer
from fhir_server.storage.schema import resource, resource_history, search_token
from tests.conftest import bearer
from tests.operations.test_patient_everything import UNIT, _fnr, _record

REASON = {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "consent withdrawn"}]}


def _left(server: FhirServer, fnr: str, ids: list[str]) -> dict[str, int]:
    """What the database still holds of the patient: rows naming their number or any of their resources."""
    with server.db.reading() as conn:
        history = conn.execute(
            select(func.count())
            .select_from(resource_history)
            .where(cast(resource_history.c.content, Text).like(f"%{fnr}%"))
        ).scalar()
        current = conn.execute(select(func.count()).select_from(resource).where(resource.c.id.in_(ids))).scalar()
        index = conn.execute(select(func.count()).select_from(search_token).where(search_token.c.code == fnr)).scalar()
    return {"history": history, "current": current, "index": index}


def test_the_record_is_erased_with_its_history_and_only_an_audit_record_is_left(client: TestClient, server: FhirServer):
    fnr = _fnr()
    record, someone = _record(client, server, fnr), _record(client, server, _fnr())
    patient = record["patient"]
    updated = client.get(f"/fhir/Patient/{patient}").json()
    client.put(f"/fhir/Patient/{patient}", json={**updated, "gender": "female"})  # a second version in the history
    assert client.delete(f"/fhir/Observation/{record['observation']}").status_code in (200, 204)  # deleted earlier
    assert _left(server, fnr, list(record.values())) != {"history": 0, "current": 0, "index": 0}

    url = f"/fhir/Patient/{patient}/$erase"
    assert client.post(url, json=REASON, headers=bearer(server, "local-lead", org=UNIT)).status_code == 403
    assert client.post(url, json={"resourceType": "Parameters", "parameter": []}).status_code == 400
    erased = client.post(url, json=REASON)
    assert erased.status_code == 200, erased.json()
    assert "and 3 resources" in erased.json()["issue"][0]["diagnostics"]  # episode, task, observation

    assert _left(server, fnr, list(record.values())) == {"history": 0, "current": 0, "index": 0}
    assert client.get(f"/fhir/Patient/{patient}").status_code == 404
    assert client.get(f"/fhir/Patient/{patient}/_history").json().get("entry", []) == []
    found = client.post("/fhir/Patient/_search", data={"identifier": f"{FNR_SYSTEM}|{fnr}"}).json()
    assert found.get("total", len(found.get("entry", []))) == 0
    assert client.get(f"/fhir/EpisodeOfCare/{someone['episode']}").status_code == 200  # nobody else's
    audit = client.get("/fhir/AuditEvent", params={"entity": f"Patient/{patient}", "_count": "100"}).json()
    erasures = [
        e["resource"] for e in audit.get("entry", []) if e["resource"].get("subtype", [{}])[0].get("code") == "erasure"
    ]
    assert len(erasures) == 1 and "consent withdrawn" in erasures[0]["outcomeDesc"]
    assert client.post(url, json=REASON).status_code == 404  # nothing left to erase
