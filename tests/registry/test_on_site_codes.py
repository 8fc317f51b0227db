"""N8: the form is filled in at the clinic. Staff issue a one-time code for the Task; a tablet redeems it once for a
session that opens exactly that form; nothing is sent to the patient; the session ends with the form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from fhir_server.http.hardening import RateLimiter
from fhir_server.server import FhirServer
from fhir_server.storage.schema import access_code
from fhir_server.subscriptions.delivery import deliver
from tests.conftest import bearer
from tests.registry.conftest import consent, pre_consultation_answers
from tests.registry.test_appointment_workflow import OTHER_UNIT, UNIT, World
from tests.registry.test_dispatch import _communications, _sent_for

NO_TOKEN = {"Authorization": ""}


def _issue(client: TestClient, server: FhirServer, task_id: str) -> dict[str, Any]:
    response = client.post(f"/fhir/Task/{task_id}/$issue-code", headers=bearer(server, "clerk", org=UNIT))
    assert response.status_code == 200, response.json()
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in response.json()["parameter"]}


def _redeem(client: TestClient, code: str) -> Any:
    body = {"resourceType": "Parameters", "parameter": [{"name": "code", "valueString": code}]}
    return client.post("/fhir/$redeem-code", json=body, headers=NO_TOKEN)


def _tablet(response: Any) -> dict[str, str]:
    assert response.status_code == 200, response.json()
    token = next(p["valueString"] for p in response.json()["parameter"] if p["name"] == "access_token")
    return {"Authorization": f"Bearer {token}"}


def _response(task_id: str, patient: str, status: str = "completed") -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        **pre_consultation_answers(),
        "basedOn": [{"reference": f"Task/{task_id}"}],
        "status": status,
        "subject": {"reference": f"Patient/{patient}"},
    }


def test_a_code_opens_exactly_one_form_once_and_nothing_is_sent(dispatching, server: FhirServer, client: TestClient):
    world, helsenorge, box = dispatching
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    assert task["status"] == "requested"
    url = f"/fhir/Task/{task['id']}/$issue-code"
    assert client.post(url, headers=bearer(server, "ehr", org=UNIT)).status_code == 403  # EHR systems read Tasks
    assert client.post(url, headers=bearer(server, "clerk", org=OTHER_UNIT)).status_code == 404
    issued = _issue(client, server, task["id"])
    code = issued["code"]
    assert len(code) == 9 and code[4] == "-" and issued["task"] == {"reference": f"Task/{task['id']}"}
    with server.db.reading() as conn:  # only a digest is kept
        stored = [row.digest for row in conn.execute(select(access_code.c.digest))]
    assert code.replace("-", "") not in "".join(stored)
    # available now, and not sent: the hand-over is the record, and the dispatch channels leave the Task alone
    assert client.get(f"/fhir/Task/{task['id']}").json()["status"] == "ready"
    assert deliver(server, "registry-dispatch") == "done"
    assert _sent_for(helsenorge, task) == [] and box.messages == []
    (handed_over,) = _communications(client, task["id"])
    assert handed_over["category"][0]["coding"][0]["code"] == "on-site"

    assert _redeem(client, "ABCD-EFGH").status_code == 400
    tablet = _tablet(_redeem(client, f" {code.lower().replace('-', ' ')} "))  # typed loosely
    assert _redeem(client, code).status_code == 400  # once

    other = World(client, server)
    other.push("2026-12-21T10:00")
    (other_task,) = other.tasks(other.episodes()[0])
    assert client.get(f"/fhir/Task/{task['id']}", headers=tablet).status_code == 200
    assert client.get(f"/fhir/Task/{other_task['id']}", headers=tablet).status_code == 404
    assert client.get("/fhir/Task", headers=tablet).status_code == 403  # the tablet was told its one Task
    assert client.get(f"/fhir/Patient/{world.patient}", headers=tablet).status_code == 403
    assert (
        client.get("/fhir/Questionnaire", params={"url": task["focus"]["reference"]}, headers=tablet).status_code == 200
    )
    elsewhere = client.post(
        "/fhir/QuestionnaireResponse", json=_response(other_task["id"], world.patient), headers=tablet
    )
    assert elsewhere.status_code == 403
    someone_else = client.post("/fhir/QuestionnaireResponse", json=_response(task["id"], other.patient), headers=tablet)
    assert someone_else.status_code == 422  # its own Task is for its own patient only

    refused = client.post("/fhir/QuestionnaireResponse", json=_response(task["id"], world.patient), headers=tablet)
    assert refused.status_code == 422 and "(N2)" in refused.json()["issue"][0]["diagnostics"]  # no consent yet
    consent(client, f"Patient/{world.patient}", headers=tablet)  # the tablet records it first
    sent = client.post("/fhir/QuestionnaireResponse", json=_response(task["id"], world.patient), headers=tablet)
    assert sent.status_code == 201, sent.json()
    channel = next(e for e in sent.json()["extension"] if e["url"].endswith("/response-channel"))
    assert channel["valueCoding"]["code"] == "on-site"
    assert deliver(server, "registry-responses") == "done"
    assert client.get(f"/fhir/Task/{task['id']}").json()["status"] == "completed"
    ended = client.get(f"/fhir/Task/{task['id']}", headers=tablet)
    assert ended.status_code == 401  # the session ended with the form


def test_a_new_code_voids_the_old_and_codes_expire(dispatching, server: FhirServer, client: TestClient):
    world, _, _ = dispatching
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    first = _issue(client, server, task["id"])["code"]
    second = _issue(client, server, task["id"])["code"]
    assert _redeem(client, first).status_code == 400
    third = _issue(client, server, task["id"])["code"]
    lifetime = timedelta(seconds=server.settings.registry_code_lifetime_s)
    later = server.clock() + lifetime + timedelta(seconds=1)
    server.clock = lambda: later  # type: ignore[method-assign]
    try:
        assert _redeem(client, third).status_code == 400  # expired
    finally:
        del server.clock
    assert second != third
    # a form withdrawn meanwhile cannot be opened
    fourth = _issue(client, server, task["id"])["code"]
    current = client.get(f"/fhir/Task/{task['id']}").json()
    client.put(f"/fhir/Task/{task['id']}", json={**current, "status": "cancelled"})
    refused = _redeem(client, fourth)
    assert refused.status_code == 400 and "Ask the reception" in refused.json()["issue"][0]["diagnostics"]
    assert (
        client.post(f"/fhir/Task/{task['id']}/$issue-code", headers=bearer(server, "clerk", org=UNIT)).status_code
        == 409
    )


def test_a_tablet_writes_only_while_its_form_is_open(dispatching, server: FhirServer, client: TestClient):
    world, _, _ = dispatching
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    tablet = _tablet(_redeem(client, _issue(client, server, task["id"])["code"]))
    draft = client.post(
        "/fhir/QuestionnaireResponse", json=_response(task["id"], world.patient, "in-progress"), headers=tablet
    )
    assert draft.status_code == 201
    found = client.get("/fhir/QuestionnaireResponse", headers=tablet)  # only the responses to its Task
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [draft.json()["id"]]
    current = client.get(f"/fhir/Task/{task['id']}").json()
    client.put(f"/fhir/Task/{task['id']}", json={**current, "status": "cancelled"})
    late = client.put(
        f"/fhir/QuestionnaireResponse/{draft.json()['id']}",
        json={**draft.json(), "status": "completed"},
        headers=tablet,
    )
    assert late.status_code == 409


def test_guessing_codes_is_rate_limited(server: FhirServer, client: TestClient):
    saved = server.__dict__.pop("code_attempts", None)
    server.__dict__["code_attempts"] = (RateLimiter(5, burst=5), RateLimiter(150, burst=150))
    try:
        statuses = [_redeem(client, f"AAAA-AAA{n}").status_code for n in range(2, 9)]
    finally:
        server.__dict__.pop("code_attempts")
        if saved is not None:
            server.__dict__["code_attempts"] = saved
    assert statuses[:5] == [400] * 5
    assert statuses[5:] == [429, 429]
    assert _redeem(client, "AAAA-AAAA").status_code == 400  # the suite's own limit is off again
