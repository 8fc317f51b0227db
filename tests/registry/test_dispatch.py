"""Due forms go out: the scheduler makes them ready, the dispatch subscriber sends each once per channel — to a
Helsenorge-like task endpoint and by e-mail without health data — records it, and retries what failed."""

from __future__ import annotations

import email
import email.header
from typing import Any

from starlette.testclient import TestClient

import workers.registry.dispatch  # noqa: F401 - registers the subscriber in this process
from fhir_server.norway.identifiers import FNR_SYSTEM
from fhir_server.server import FhirServer
from fhir_server.subscriptions.delivery import deliver
from tests.conftest import bearer
from tests.registry.conftest import FNR, Mailbox, consent, pre_consultation_answers
from tests.registry.test_appointment_workflow import OTHER_UNIT, UNIT, World, as_oslo, oslo
from tests.standins.helsenorge import Helsenorge
from tests.subscriptions.receiver import Receiver
from workers.registry.activation import activate_due, expire_due, remind_due


def _sent_for(helsenorge: Receiver, task: dict[str, Any]) -> list[Any]:
    """What reached the Helsenorge stand-in for this Task (other tests' forms may fall due in the shared database)."""
    return [r for r in helsenorge.snapshot() if r.json.get("identifier") == task["identifier"]]


def _changes_at(helsenorge: Helsenorge, task: dict[str, Any]) -> list[Any]:
    """The POSTs and PUTs of this Task that reached the Helsenorge task endpoint stand-in."""
    return [
        r
        for r in helsenorge.requests
        if r.method in ("POST", "PUT") and isinstance(r.body, dict) and r.body.get("identifier") == task["identifier"]
    ]


def _mail_for(box: Mailbox, world: World) -> list[Any]:
    return [m for m in box.messages if m.rcpt_tos == [f"{world.patient}@example.no"]]


def _communications(client: TestClient, task_id: str) -> list[dict[str, Any]]:
    bundle = client.get("/fhir/Communication", params={"based-on": f"Task/{task_id}"}).json()
    return [e["resource"] for e in bundle.get("entry", [])]


def test_due_forms_are_sent_once_through_each_channel(dispatching, server: FhirServer, client: TestClient):
    world, helsenorge, box = dispatching
    world.push("2026-12-20T10:00")
    (episode,) = world.episodes()
    (task,) = world.tasks(episode)
    assert task["id"] not in activate_due(server, oslo("2026-12-04T08:59"))  # not yet
    assert deliver(server, "registry-dispatch") == "done"
    assert _sent_for(helsenorge, task) == [] and _mail_for(box, world) == []
    assert task["id"] in activate_due(server, oslo("2026-12-04T09:00"))  # N6: due at 09:00
    assert deliver(server, "registry-dispatch") == "done"
    (sent,) = _sent_for(helsenorge, task)
    assert sent.method == "POST" and sent.path == "/oppgave/v1/Task"
    body = sent.json
    assert body["identifier"] == task["identifier"]  # the GUID Helsenorge recognises a repeat by
    assert body["for"]["identifier"] == {"system": FNR_SYSTEM, "value": FNR}
    assert body["focus"]["identifier"]["value"] == "nnrr-pre-consultation"
    assert body["meta"]["security"][0]["system"] == "urn:oid:2.16.578.1.12.4.1.1.7618"
    (mail,) = _mail_for(box, world)
    assert mail.rcpt_tos == [f"{world.patient}@example.no"]
    text = mail.content.decode()
    for health_data in ("Nordmann", "Kari", FNR, "nakke", "rygg", "NNRR", "konsultasjon", "Workflow clinic", "2026"):
        assert health_data not in text, health_data
    assert "http://127.0.0.1:8080/portal" in text
    channels = sorted(c["category"][0]["coding"][0]["code"] for c in _communications(client, task["id"]))
    assert channels == ["email", "helsenorge"]
    # heard of again (another version while ready): nothing goes out twice
    current = client.get(f"/fhir/Task/{task['id']}").json()
    client.put(f"/fhir/Task/{task['id']}", json={**current, "note": [{"text": "read"}]})
    assert deliver(server, "registry-dispatch") == "done"
    assert len(_sent_for(helsenorge, task)) == 1 and len(_mail_for(box, world)) == 1


def test_a_channel_that_is_down_is_retried_without_repeating_the_others(dispatching, server, client):
    world, helsenorge, box = dispatching
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    activate_due(server, oslo("2026-12-05T09:00"))
    helsenorge.fail_next = 1
    server.settings.registry_dispatch_channels = ["email", "helsenorge"]  # e-mail goes first, then Helsenorge fails
    try:
        assert deliver(server, "registry-dispatch") == "waiting"  # retried after a backoff, visible in $status
    finally:
        server.settings.registry_dispatch_channels = ["helsenorge", "email"]
    status = client.get("/fhir/Subscription/registry-dispatch/$status").json()
    error = next(p for p in status["entry"][0]["resource"]["parameter"] if p["name"] == "error")
    assert "helsenorge" in error["valueCodeableConcept"]["text"]
    assert len(_mail_for(box, world)) == 1 and _sent_for(helsenorge, task) == []
    server.settings.subscription_retry_base_s = 0.0
    try:
        from sqlalchemy import update

        from fhir_server.storage.schema import subscription_state

        with server.db.writing() as conn:  # the backoff is over
            conn.execute(
                update(subscription_state)
                .where(subscription_state.c.id == "registry-dispatch")
                .values(next_attempt_at=None)
            )
        assert deliver(server, "registry-dispatch") == "done"
    finally:
        server.settings.subscription_retry_base_s = 1.0
    assert len(_sent_for(helsenorge, task)) == 1 and len(_mail_for(box, world)) == 1
    assert len(_communications(client, task["id"])) == 2


def test_a_patient_who_cannot_be_reached_is_recorded_not_retried(dispatching, server, client):
    world, helsenorge, box = dispatching
    client.put(
        f"/fhir/Patient/{world.patient}", json={"resourceType": "Patient", "id": world.patient}, headers=world.ehr
    )
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    activate_due(server, oslo("2026-12-05T09:00"))
    assert deliver(server, "registry-dispatch") == "done"
    (record,) = _communications(client, task["id"])  # no FNR for Helsenorge; no address, so no e-mail either
    assert record["status"] == "not-done" and "national identity number" in record["statusReason"]["text"]
    assert _sent_for(helsenorge, task) == [] and _mail_for(box, world) == []


def test_staff_send_a_form_now(dispatching, server: FhirServer, client: TestClient):
    """N7: the appointment is tomorrow; staff send the form at once."""
    world, helsenorge, _ = dispatching
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    clinician = bearer(server, "clinician", org=UNIT)
    url = f"/fhir/Task/{task['id']}/$dispatch-now"
    assert client.post(url, headers=bearer(server, "ehr", org=UNIT)).status_code == 403  # ehr only reads Tasks
    assert client.post(url, headers=bearer(server, "clinician", org=OTHER_UNIT)).status_code == 404
    response = client.post(f"/fhir/Task/{task['id']}/$dispatch-now", headers=clinician)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ready"
    assert deliver(server, "registry-dispatch") == "done"
    assert [r.json["identifier"] for r in _sent_for(helsenorge, task)] == [task["identifier"]]
    again = client.post(f"/fhir/Task/{task['id']}/$dispatch-now", headers=clinician)
    assert again.status_code == 409 and "ready" in again.json()["issue"][0]["diagnostics"]


def test_a_completed_form_completes_its_task_with_start_and_submit_times(dispatching, server: FhirServer, client):
    world, _, _ = dispatching
    world.push("2026-12-20T10:00")
    (task,) = world.tasks(world.episodes()[0])
    activate_due(server, oslo("2026-12-04T09:00"))
    response = {
        "resourceType": "QuestionnaireResponse",
        **pre_consultation_answers(),
        "basedOn": [{"reference": f"Task/{task['id']}"}],
        "status": "in-progress",
        "subject": {"reference": f"Patient/{world.patient}"},
    }
    draft = client.post("/fhir/QuestionnaireResponse", json=response).json()
    consent(client, f"Patient/{world.patient}")  # N2: before the form is sent
    assert deliver(server, "registry-responses") in ("done", "busy")
    assert client.get(f"/fhir/Task/{task['id']}").json()["status"] == "ready"  # a draft completes nothing
    submitted = {**draft, "status": "completed", "authored": "2026-12-05T10:15:30+01:00"}
    assert client.put(f"/fhir/QuestionnaireResponse/{draft['id']}", json=submitted).status_code == 200
    assert deliver(server, "registry-responses") == "done"
    done = client.get(f"/fhir/Task/{task['id']}").json()
    assert done["status"] == "completed"
    assert done["output"][0]["valueReference"] == {"reference": f"QuestionnaireResponse/{draft['id']}"}
    assert done["executionPeriod"] == {"start": draft["meta"]["lastUpdated"], "end": "2026-12-05T10:15:30+01:00"}


def test_unanswered_baseline_forms_are_reminded_once_then_expire(dispatching, server: FhirServer, client):
    """P1: OPR's baseline goes out at booking; unanswered 7 days before the consultation, one reminder; unanswered
    when its period ends, it expires (due and unanswered, as response rates count it). At Helsenorge the reminder is
    the same task again, PUT with priority asap; by e-mail, a second message."""
    world, _, box = dispatching
    helsenorge = Helsenorge()  # the reminder finds the task it sent there
    server.settings.registry_helsenorge_task_url = helsenorge.url  # the fixture puts the setting back
    try:
        world.push("2026-12-20T10:00", registry="opr")
        (task,) = world.tasks(world.episodes()[0])
        reminder = next(e["valueDateTime"] for e in task["extension"] if e["url"].endswith("/reminder-at"))
        assert as_oslo(reminder) == "2026-12-13T09:00"
        assert task["id"] in activate_due(server, oslo("2026-11-01T12:05"))
        deliver(server, "registry-dispatch")
        assert len(_changes_at(helsenorge, task)) == 1 and len(_mail_for(box, world)) == 1
        assert task["id"] not in remind_due(server, oslo("2026-12-13T08:59"))
        assert task["id"] in remind_due(server, oslo("2026-12-13T09:00"))
        assert task["id"] not in remind_due(server, oslo("2026-12-14T09:00"))  # once
        assert deliver(server, "registry-dispatch") == "done"
        post, put = _changes_at(helsenorge, task)
        assert (post.method, post.body["priority"]) == ("POST", "routine")
        assert (put.method, put.body["priority"], put.status) == ("PUT", "asap", 200)
    finally:
        helsenorge.stop()
    assert len(_mail_for(box, world)) == 2
    subject = email.message_from_bytes(_mail_for(box, world)[1].content)["Subject"]
    assert "Påminnelse" in str(email.header.make_header(email.header.decode_header(subject)))
    kinds = sorted(
        (c["category"][0]["coding"][0]["code"], c["category"][1]["coding"][0]["code"])
        for c in _communications(client, task["id"])
    )
    assert kinds == [("email", "form"), ("email", "reminder"), ("helsenorge", "form"), ("helsenorge", "reminder")]
    assert task["id"] not in expire_due(server, oslo("2026-12-20T09:59"))  # open until the consultation
    assert task["id"] in expire_due(server, oslo("2026-12-20T10:00"))
    expired = client.get(f"/fhir/Task/{task['id']}").json()
    assert expired["status"] == "failed" and expired["businessStatus"]["text"] == "expired"
