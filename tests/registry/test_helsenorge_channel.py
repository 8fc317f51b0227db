"""The Helsenorge channel against a Helsenorge-like task endpoint that checks the skjemaoppgave's shape: a due form
arrives as a valid task, once; the registry cancelling or moving a sent form updates the task there; a task
Helsenorge refuses is recorded as not sent, not retried; the citizen's answer is read back by identifier."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from fhir_server.norway.identifiers import FNR_SYSTEM
from fhir_server.server import FhirServer
from fhir_server.subscriptions.delivery import deliver
from tests.registry.test_appointment_workflow import World, oslo
from tests.standins.helsenorge import Helsenorge, problems
from workers.registry.activation import activate_due
from workers.registry.channels.helsenorge import GUID_SYSTEM, HelsenorgeChannel
from workers.registry.dispatch import dispatch_task, sync_task

SYNC = "registry-dispatch-sync"


@pytest.fixture
def helsenorge(dispatching: Any, server: FhirServer) -> Iterator[tuple[World, Helsenorge]]:
    world, _, _ = dispatching
    standin = Helsenorge()
    settings = server.settings
    saved = settings.registry_helsenorge_task_url, settings.registry_dispatch_channels
    settings.registry_helsenorge_task_url, settings.registry_dispatch_channels = standin.url, ["helsenorge"]
    try:
        yield world, standin
    finally:
        settings.registry_helsenorge_task_url, settings.registry_dispatch_channels = saved
        standin.stop()


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
