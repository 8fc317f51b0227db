"""The periodic readback from Helsenorge against its stand-in: a form the citizen opened there goes in progress
here, one answered there is marked as awaiting its response and not reminded of, the registry completes it only when
the response arrives, nothing goes back to Helsenorge for any of it, and a run that finds nothing new writes
nothing."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from fhir_server.server import FhirServer
from fhir_server.subscriptions.delivery import deliver
from tests.registry.conftest import consent, pre_consultation_answers
from tests.registry.test_appointment_workflow import World, oslo
from tests.standins.helsenorge import Helsenorge
from workers.registry.activation import activate_due, remind_due
from workers.registry.channels.helsenorge import ANSWERED, GUID_SYSTEM
from workers.registry.readback import read_back

SYNC = "registry-dispatch-sync"


@pytest.fixture
def helsenorge(helsenorge: Any, server: FhirServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The shared stand-in fixture, every form in the shared database read back in one run."""
    monkeypatch.setattr(server.settings, "registry_helsenorge_readback_batch", 100_000)
    return helsenorge


def _sent(world: World, server: FhirServer, registry: str, due: str) -> dict[str, Any]:
    world.push("2026-12-20T10:00", registry=registry)
    (task,) = world.tasks(world.episodes()[0])
    assert task["id"] in activate_due(server, oslo(due))
    assert deliver(server, "registry-dispatch") == "done"
    return task


def _guid(task: dict[str, Any]) -> str:
    return next(f"{GUID_SYSTEM}|{i['value']}" for i in task["identifier"] if i["system"] == GUID_SYSTEM)


def _changes(standin: Helsenorge, task: dict[str, Any]) -> list[str]:
    """What the registry changed at Helsenorge for the Task (its POSTs and PUTs)."""
    return [
        r.method
        for r in standin.requests
        if r.method in ("POST", "PUT") and isinstance(r.body, dict) and r.body.get("identifier") == task["identifier"]
    ]


def _versions(client: TestClient, task_id: str) -> tuple[str, int]:
    """The Task's version and how many Communications are based on it (what a run could have written)."""
    version = client.get(f"/fhir/Task/{task_id}").json()["meta"]["versionId"]
    records = client.get("/fhir/Communication", params={"based-on": f"Task/{task_id}", "_summary": "count"}).json()
    return version, records["total"]


def test_opened_and_answered_at_helsenorge_are_read_back(helsenorge, server: FhirServer, client: TestClient):
    world, standin = helsenorge
    task = _sent(world, server, "nnrr", "2026-12-04T09:00")
    assert task["id"] not in read_back(server)  # nothing new there: nothing written
    before = _versions(client, task["id"])
    assert task["id"] not in read_back(server) and _versions(client, task["id"]) == before

    standin.open(_guid(task))  # the citizen opened it
    assert read_back(server)[task["id"]] == "in-progress"
    assert client.get(f"/fhir/Task/{task['id']}").json()["status"] == "in-progress"
    assert deliver(server, SYNC) in ("done", "busy")
    assert _changes(standin, task) == ["POST"]  # Helsenorge holds that already: nothing sent back
    opened = _versions(client, task["id"])
    assert task["id"] not in read_back(server) and _versions(client, task["id"]) == opened  # idempotent

    standin.complete(_guid(task))  # answered there; the response has not reached the registry yet
    assert read_back(server)[task["id"]] == "answered"
    awaiting = client.get(f"/fhir/Task/{task['id']}").json()
    assert awaiting["status"] == "in-progress" and awaiting["businessStatus"]["text"] == ANSWERED
    assert deliver(server, SYNC) in ("done", "busy")
    assert _changes(standin, task) == ["POST"] and standin.find(_guid(task))["status"] == "completed"
    answered = _versions(client, task["id"])
    assert task["id"] not in read_back(server) and _versions(client, task["id"]) == answered

    # the response arrives through the API: now the Task completes, and Helsenorge already holds it completed
    consent(client, f"Patient/{world.patient}")
    response = {
        "resourceType": "QuestionnaireResponse",
        **pre_consultation_answers(),
        "basedOn": [{"reference": f"Task/{task['id']}"}],
        "status": "completed",
        "subject": {"reference": f"Patient/{world.patient}"},
    }
    assert client.post("/fhir/QuestionnaireResponse", json=response).status_code == 201
    assert deliver(server, "registry-responses") == "done"
    done = client.get(f"/fhir/Task/{task['id']}").json()
    assert done["status"] == "completed" and "businessStatus" not in done
    assert deliver(server, SYNC) in ("done", "busy")
    assert _changes(standin, task) == ["POST"]


def test_a_form_answered_at_helsenorge_is_not_reminded_of(helsenorge, server: FhirServer, client: TestClient):
    """P1: OPR's baseline, answered at Helsenorge before its reminder time, gets no reminder anywhere."""
    world, standin = helsenorge
    task = _sent(world, server, "opr", "2026-11-01T12:05")
    standin.complete(_guid(task))
    assert read_back(server)[task["id"]] == "answered"
    ready = client.get(f"/fhir/Task/{task['id']}").json()
    assert ready["status"] == "ready" and ready["businessStatus"]["text"] == ANSWERED
    assert task["id"] not in remind_due(server, oslo("2026-12-13T09:00"))
    assert deliver(server, "registry-dispatch") == "done" and deliver(server, SYNC) in ("done", "busy")
    assert client.get(f"/fhir/Task/{task['id']}").json()["priority"] == "routine"
    assert _changes(standin, task) == ["POST"]


def test_a_form_helsenorge_does_not_hold_changes_nothing(helsenorge, server: FhirServer, client: TestClient):
    world, standin = helsenorge
    task = _sent(world, server, "nnrr", "2026-12-04T09:00")
    standin.tasks.clear()  # gone there (or never kept)
    before = _versions(client, task["id"])
    assert task["id"] not in read_back(server) and _versions(client, task["id"]) == before


def test_each_run_reads_back_a_bounded_batch_and_the_next_goes_on(helsenorge, server, client: TestClient):
    world, standin = helsenorge
    task = _sent(world, server, "nnrr", "2026-12-04T09:00")
    standin.open(_guid(task))
    server.settings.registry_helsenorge_readback_batch = 1  # the fixture puts it back
    for _ in range(10_000):  # every awaited form in the shared database, one per run, until this one
        asked = len([r for r in standin.requests if r.method == "GET"])
        changed = read_back(server)
        assert len([r for r in standin.requests if r.method == "GET"]) - asked <= 1
        if task["id"] in changed:
            break
    assert client.get(f"/fhir/Task/{task['id']}").json()["status"] == "in-progress"
