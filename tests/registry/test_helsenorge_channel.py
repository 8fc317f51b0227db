"""The Helsenorge channel against a Helsenorge-like task endpoint that checks the skjemaoppgave's shape: a due form
arrives as a valid task, once; the registry cancelling or moving a sent form updates the task there; a task
Helsenorge refuses is recorded as not sent, not retried; the citizen's answer is read back by identifier."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import update
from starlette.testclient import TestClient

from fhir_server.norway.identifiers import FNR_SYSTEM
from fhir_server.server import FhirServer
from fhir_server.storage.schema import subscription_state
from fhir_server.subscriptions.delivery import deliver
from tests.registry.test_appointment_workflow import World, oslo
from tests.standins.helseid import HelseIdStandIn, RegisteredClient
from tests.standins.helsenorge import SCOPE, Helsenorge, problems
from workers.registry.activation import activate_due, remind_due
from workers.registry.channels.helsenorge import GUID_SYSTEM, HelsenorgeChannel
from workers.registry.dispatch import dispatch_task, sync_task

SYNC = "registry-dispatch-sync"


def _guid(task: dict[str, Any]) -> str:
    return next(f"{GUID_SYSTEM}|{i['value']}" for i in task["identifier"] if i["system"] == GUID_SYSTEM)


def _sent(world: World, server: FhirServer) -> dict[str, Any]:
    """The NNRR pre-consultation form of a fresh appointment, due and dispatched."""
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    assert task["id"] in activate_due(server, oslo("2026-12-04T09:00"))
    assert deliver(server, "registry-dispatch") == "done"
    return task


def _posts(standin: Helsenorge, task: dict[str, Any]) -> list[Any]:
    return [
        r for r in standin.requests if r.method == "POST" and r.body and r.body.get("identifier") == task["identifier"]
    ]


def _records(client: TestClient, task_id: str) -> list[dict[str, Any]]:
    bundle = client.get("/fhir/Communication", params={"based-on": f"Task/{task_id}"}).json()
    return [e["resource"] for e in bundle.get("entry", [])]


def test_a_due_form_arrives_in_the_skjemaoppgave_shape_once(helsenorge, server: FhirServer, client: TestClient):
    world, standin = helsenorge
    task = _sent(world, server)
    (post,) = _posts(standin, task)
    assert post.status == 201 and problems(post.body) == []
    held = standin.find(_guid(task))
    assert held is not None and held["status"] == "ready"
    assert held["for"]["identifier"]["system"] == FNR_SYSTEM
    assert held["restriction"]["period"]["end"] == task["restriction"]["period"]["end"]
    # sent again (a crash before the record, a redelivery): Helsenorge recognises the GUID and keeps one task
    client.delete(f"/fhir/Communication/{_records(client, task['id'])[0]['id']}")
    assert dispatch_task(server, task["id"]) == {"helsenorge": "sent"}
    assert [p.status for p in _posts(standin, task)] == [201, 200]
    assert [t for t in standin.tasks.values() if t["identifier"] == task["identifier"]] == [held]
    # the citizen answers at Helsenorge: read back by identifier
    channel = HelsenorgeChannel(standin.url)
    assert channel.status(_guid(task)) == "ready"
    standin.complete(_guid(task))
    assert channel.status(_guid(task)) == "completed"
    assert channel.status(f"{GUID_SYSTEM}|urn:uuid:00000000-0000-0000-0000-000000000000") is None


def test_a_cancelled_form_is_cancelled_at_helsenorge(helsenorge, server: FhirServer, client: TestClient):
    """N12: the appointment is cancelled after the form went out; the episode and its form are withdrawn."""
    world, standin = helsenorge
    task = _sent(world, server)
    assert deliver(server, SYNC) in ("done", "busy")
    assert standin.find(_guid(task))["status"] == "ready"  # nothing changed yet: nothing sent
    assert [r.method for r in standin.requests if r.method == "PUT"] == []
    world.push("2026-12-20T10:00", status="cancelled")
    assert client.get(f"/fhir/Task/{task['id']}").json()["status"] == "cancelled"
    assert deliver(server, SYNC) == "done"
    held = standin.find(_guid(task))
    assert held["status"] == "cancelled" and problems(held) == []
    (put,) = [r for r in standin.requests if r.method == "PUT" and r.body["identifier"] == task["identifier"]]
    assert put.status == 200 and put.path == f"/oppgave/v1/Task/{held['id']}"
    update = next(c for c in _records(client, task["id"]) if c["category"][1]["coding"][0]["code"] == "update")
    assert update["payload"][0]["contentString"].startswith("cancelled ")
    assert sync_task(server, task["id"]) is None  # told already: not sent again


def test_a_moved_deadline_updates_the_task_at_helsenorge(helsenorge, server: FhirServer, client: TestClient):
    world, standin = helsenorge
    task = _sent(world, server)
    current = client.get(f"/fhir/Task/{task['id']}").json()
    later = "2026-12-27T10:00:00+01:00"
    moved = {**current, "restriction": {"period": {**current["restriction"]["period"], "end": later}}}
    assert client.put(f"/fhir/Task/{task['id']}", json=moved).status_code == 200
    assert deliver(server, SYNC) == "done"
    held = standin.find(_guid(task))
    assert held["status"] == "ready" and held["restriction"]["period"]["end"] == later
    assert len([r for r in standin.requests if r.method == "PUT"]) == 1
    again = {**client.get(f"/fhir/Task/{task['id']}").json(), "note": [{"text": "read"}]}
    client.put(f"/fhir/Task/{task['id']}", json=again)  # a change Helsenorge does not hold: nothing is sent
    assert deliver(server, SYNC) == "done"
    assert len([r for r in standin.requests if r.method == "PUT"]) == 1
    assert len(_posts(standin, task)) == 1


def _puts(standin: Helsenorge, task: dict[str, Any]) -> list[Any]:
    return [r for r in standin.requests if r.method == "PUT" and r.body["identifier"] == task["identifier"]]


def test_a_reminder_is_the_same_task_put_again_with_priority_asap(helsenorge, server: FhirServer, client):
    """P1: Helsenorge takes a second POST of the GUID as a repeat; the reminder is an update of the task it holds,
    once, keeping where the citizen is with it (opened: still in progress)."""
    world, standin = helsenorge
    world.push("2026-12-20T10:00", registry="opr")
    (task,) = world.tasks(world.episodes()[0])
    assert task["id"] in activate_due(server, oslo("2026-11-01T12:05"))
    assert deliver(server, "registry-dispatch") == "done"
    standin.open(_guid(task))  # the citizen has looked at it, not answered
    assert task["id"] in remind_due(server, oslo("2026-12-13T09:00"))
    assert deliver(server, "registry-dispatch") == "done"
    assert deliver(server, SYNC) in ("done", "busy")  # the raised priority is not a change to tell again
    (put,) = _puts(standin, task)
    assert put.status == 200 and put.body["priority"] == "asap" and put.body["status"] == "in-progress"
    assert len(_posts(standin, task)) == 1  # no second POST
    held = standin.find(_guid(task))
    assert held["priority"] == "asap" and held["status"] == "in-progress" and problems(held) == []
    assert dispatch_task(server, task["id"]) == {}  # reminded once: heard of again, nothing goes out
    assert len(_puts(standin, task)) == 1
    kinds = sorted(c["category"][1]["coding"][0]["code"] for c in _records(client, task["id"]))
    assert kinds == ["form", "reminder"]


def test_no_reminder_for_a_form_answered_at_helsenorge(helsenorge, server: FhirServer, client):
    world, standin = helsenorge
    world.push("2026-12-20T10:00", registry="opr")
    (task,) = world.tasks(world.episodes()[0])
    activate_due(server, oslo("2026-11-01T12:05"))
    assert deliver(server, "registry-dispatch") == "done"
    standin.complete(_guid(task))  # answered there; the registry has not heard yet
    assert task["id"] in remind_due(server, oslo("2026-12-13T09:00"))
    assert deliver(server, "registry-dispatch") == "done"
    assert _puts(standin, task) == [] and len(_posts(standin, task)) == 1
    reminder = next(c for c in _records(client, task["id"]) if c["category"][1]["coding"][0]["code"] == "reminder")
    assert reminder["status"] == "not-done" and "completed" in reminder["statusReason"]["text"]


def test_a_task_helsenorge_refuses_is_a_permanent_failure(helsenorge, server: FhirServer, client: TestClient):
    world, standin = helsenorge
    patient = {"resourceType": "Patient", "id": world.patient, "identifier": [{"system": FNR_SYSTEM, "value": "123"}]}
    assert client.put(f"/fhir/Patient/{world.patient}", json=patient, headers=world.ehr).status_code == 200
    task = _sent(world, server)
    (post,) = _posts(standin, task)
    assert post.status == 400 and standin.find(_guid(task)) is None
    (record,) = _records(client, task["id"])  # recorded as not sent, and why; not retried
    assert record["status"] == "not-done"
    assert "HTTP 400" in record["statusReason"]["text"] and "national identity number" in record["statusReason"]["text"]
    assert deliver(server, "registry-dispatch") == "done"
    assert len(_posts(standin, task)) == 1


def test_a_patient_without_a_national_identity_number_is_not_sent(helsenorge, server: FhirServer, client):
    world, standin = helsenorge
    patient = {"resourceType": "Patient", "id": world.patient}
    assert client.put(f"/fhir/Patient/{world.patient}", json=patient, headers=world.ehr).status_code == 200
    task = _sent(world, server)
    assert _posts(standin, task) == []
    (record,) = _records(client, task["id"])
    assert record["status"] == "not-done" and "national identity number" in record["statusReason"]["text"]


def test_the_standin_names_what_is_wrong():
    standin = Helsenorge()
    try:
        response = httpx.post(standin.url, json={"resourceType": "Task", "intent": "plan", "status": "draft"})
        assert response.status_code == 400
        said = " ".join(i["diagnostics"] for i in response.json()["issue"])
        for part in ("identifier", "focus.identifier", "meta.security", "intent", "status", "for.identifier"):
            assert part in said, part
        assert "description" in said and "deadline" in said and "input" in said
        assert httpx.put(standin.url + "/nope", json={}).status_code == 404
    finally:
        standin.stop()


# -- HelseID: Helsenorge requires a DPoP-bound token for its own audience ------------------------------------------


@pytest.fixture
def secured(
    dispatching: Any,
    server: FhirServer,
    helseid: HelseIdStandIn,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[World, Helsenorge, RegisteredClient]]:
    """Helsenorge requiring HelseID tokens, and Ryggrad configured as a HelseID client allowed its scope."""
    world, _, _ = dispatching
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "ryggrad.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    registered = helseid.register(RegisteredClient(f"ryggrad-{request.node.name}", public, {SCOPE}))
    standin = Helsenorge(issuer=helseid.issuer, jwks_url=helseid.jwks_uri)
    configured = {
        "registry_helsenorge_task_url": standin.url,
        "registry_dispatch_channels": ["helsenorge"],
        "helseid_issuer": helseid.issuer,
        "helseid_client_id": registered.client_id,
        "helseid_key_file": key_file,
        "helseid_scopes": ["nhn:ryggrad/system/Patient.rs"],  # Ryggrad's own API: not what Helsenorge takes
        "registry_helsenorge_scopes": [SCOPE],
    }
    for name, value in configured.items():
        monkeypatch.setattr(server.settings, name, value)
    try:
        yield world, standin, registered
    finally:
        standin.stop()


def _backoff_over(server: FhirServer, subscription_id: str) -> None:
    with server.db.writing() as conn:
        conn.execute(
            update(subscription_state).where(subscription_state.c.id == subscription_id).values(next_attempt_at=None)
        )


def _error(client: TestClient, subscription_id: str) -> str:
    status = client.get(f"/fhir/Subscription/{subscription_id}/$status").json()
    error = next(p for p in status["entry"][0]["resource"]["parameter"] if p["name"] == "error")
    return str(error["valueCodeableConcept"]["text"])


def test_forms_go_to_helsenorge_with_a_dpop_bound_helseid_token(secured, server: FhirServer, client, helseid):
    world, standin, registered = secured
    task = _sent(world, server)
    (post,) = _posts(standin, task)
    assert post.status == 201 and post.client_id == registered.client_id
    world.push("2026-12-20T10:00", status="cancelled")  # N12: the update goes with a token too
    assert deliver(server, SYNC) == "done"
    assert standin.find(_guid(task))["status"] == "cancelled"
    mine = [r for r in standin.requests if r.method in ("GET", "PUT")]
    assert {r.method for r in mine} == {"GET", "PUT"}
    assert all(r.status == 200 and r.client_id == registered.client_id for r in mine)
    assert len(helseid.issued(registered.client_id)) == 1  # one token for every request: cached in the process
    # without a token, Helsenorge refuses
    refused = httpx.get(standin.url, params={"identifier": _guid(task)})
    assert refused.status_code == 401 and refused.json()["issue"][0]["code"] == "login"
    assert "DPoP" in refused.headers["www-authenticate"]


def test_a_client_helseid_refuses_is_retried_with_the_reason(secured, server: FhirServer, client, helseid):
    world, standin, registered = secured
    registered.allowed_scopes.clear()  # HelseID will not give this client Helsenorge's scope
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    assert task["id"] in activate_due(server, oslo("2026-12-04T09:00"))
    assert deliver(server, "registry-dispatch") == "waiting"  # retried after a backoff, not recorded as not sent
    reason = _error(client, "registry-dispatch")
    assert "helsenorge" in reason and "HelseID" in reason and "invalid_scope" in reason
    assert _records(client, task["id"]) == [] and standin.requests == []
    registered.allowed_scopes.add(SCOPE)  # put right at HelseID: the next try goes through
    _backoff_over(server, "registry-dispatch")
    assert deliver(server, "registry-dispatch") == "done"
    (post,) = _posts(standin, task)
    assert post.status == 201 and post.client_id == registered.client_id
    assert [r["status"] for r in _records(client, task["id"])] == ["completed"]


def test_a_token_helsenorge_refuses_is_retried_with_the_reason(secured, server: FhirServer, client, helseid):
    """A token for another API (Ryggrad's own audience): Helsenorge answers 401, and the form is tried again."""
    world, standin, registered = secured
    registered.allowed_scopes.add("nhn:ryggrad/system/Patient.rs")
    server.settings.registry_helsenorge_scopes = []  # falls back to RYGGRAD_HELSEID_SCOPES
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    assert task["id"] in activate_due(server, oslo("2026-12-04T09:00"))
    assert deliver(server, "registry-dispatch") == "waiting"
    reason = _error(client, "registry-dispatch")
    assert "did not accept" in reason and "HTTP 401" in reason and "audience" in reason
    assert [r.status for r in standin.requests] == [401] and _records(client, task["id"]) == []
    server.settings.registry_helsenorge_scopes = [SCOPE]
    _backoff_over(server, "registry-dispatch")
    assert deliver(server, "registry-dispatch") == "done"
    assert [p.status for p in _posts(standin, task)] == [401, 201]
