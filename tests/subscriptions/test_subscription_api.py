"""Subscriptions through the REST API (in-process; delivery run directly, without a broker): what may be
subscribed to, what matches, who is notified of what, and the backport's $status and $events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from fhir_server.server import FhirServer
from fhir_server.storage.schema import subscription_event, subscription_state
from fhir_server.subscriptions.delivery import deliver, prune
from tests.conftest import bearer
from tests.subscriptions.conftest import BACKPORT, TOPICS, appointment
from tests.subscriptions.receiver import Receiver

UNIT_A, UNIT_B = "974589095", "983974899"


@pytest.fixture
def subscriptions(client: TestClient, server: FhirServer) -> Iterator[list[str]]:
    """Ids of Subscriptions a test makes; deleted after it, so that no other test's writes match them."""
    made: list[str] = []
    yield made
    for sid in made:
        client.delete(f"/fhir/Subscription/{sid}")


def _subscription(endpoint: str, criteria: str = "Appointment?status=booked", **channel: Any) -> dict[str, Any]:
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "test",
        "criteria": criteria,
        "channel": {"type": "rest-hook", "endpoint": endpoint, **channel},
    }


def _create(client: TestClient, made: list[str], body: dict[str, Any], headers: dict | None = None) -> dict:
    response = client.post("/fhir/Subscription", json=body, headers=headers or {})
    assert response.status_code == 201, response.json()
    made.append(response.json()["id"])
    return response.json()


def _events(server: FhirServer, sid: str) -> list[Any]:
    with server.db.reading() as conn:
        return conn.execute(
            select(subscription_event).where(subscription_event.c.subscription_id == sid).order_by("seq")
        ).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"criteria": "Appointment?no-such-param=1"}, "no-such-param"),
        ({"criteria": "appointment?status=booked"}, "resource type"),
        ({"criteria": TOPICS + "no-such-topic"}, "not known"),
        ({"channel": {"type": "email", "endpoint": "mailto:a@b.no"}}, "not supported"),
        ({"channel": {"type": "rest-hook", "endpoint": "ftp://x"}}, "http(s) endpoint"),
        ({"channel": {"type": "rest-hook", "endpoint": "http://x", "header": ["no colon"]}}, "Name: value"),
        (
            {
                "criteria": TOPICS + "appointment-booked",
                "_criteria": {
                    "extension": [
                        {"url": BACKPORT + "backport-filter-criteria", "valueString": "Appointment?date=2026"}
                    ]
                },
            },
            "filters Appointment by",
        ),
    ],
)
def test_subscriptions_that_could_never_work_are_refused(client: TestClient, change: dict, message: str):
    body = {**_subscription("http://127.0.0.1:9/x"), **change}
    response = client.post("/fhir/Subscription", json=body)
    assert response.status_code == 422, response.json()
    assert message in response.json()["issue"][0]["diagnostics"]


def test_the_server_decides_the_status_and_who_may_subscribe(client: TestClient, server: FhirServer, subscriptions):
    created = _create(client, subscriptions, {**_subscription("http://127.0.0.1:9/x"), "status": "active"})
    assert created["status"] == "requested"  # a client asks; the server activates
    patient = bearer(server, "patient", patient="13097248022")
    assert client.post("/fhir/Subscription", json=_subscription("http://x"), headers=patient).status_code == 403
    ehr = bearer(server, "ehr", org=UNIT_A)
    observations = _subscription("http://x", "Observation?code=1")
    assert client.post("/fhir/Subscription", json=observations, headers=ehr).status_code == 403  # ehr reads none
    task = _subscription("urn:ryggrad:task:ryggrad.test.record")
    task["channel"] = {
        "type": "rest-hook",
        "_type": {"extension": [{"url": BACKPORT + "backport-channel-type", "valueCoding": {
            "system": "https://ryggrad.no/fhir/CodeSystem/subscription-channel-type", "code": "task"}}]},
        "endpoint": "urn:ryggrad:task:ryggrad.test.record",
    }  # fmt: skip
    clinician = bearer(server, "clinician", org=UNIT_A)
    assert client.post("/fhir/Subscription", json=task, headers=clinician).status_code == 403  # the server's own


def test_criteria_are_any_search_evaluated_on_the_changed_resource(
    client: TestClient, server: FhirServer, receiver: Receiver, subscriptions
):
    client.put("/fhir/Location/sub-loc", json={"resourceType": "Location", "id": "sub-loc", "name": "Sub clinic"})
    criteria = "Appointment?status=booked&location.name=Sub clinic"
    sid = _create(client, subscriptions, _subscription(receiver.url, criteria))["id"]
    at_clinic = [{"status": "accepted", "actor": {"reference": "Location/sub-loc"}}]
    client.put("/fhir/Appointment/sub-1", json=appointment("sub-1", participant=at_clinic))  # matches
    client.put("/fhir/Appointment/sub-2", json=appointment("sub-2"))  # elsewhere
    client.put("/fhir/Appointment/sub-1", json=appointment("sub-1", participant=at_clinic))  # unchanged: nothing
    client.put("/fhir/Appointment/sub-1", json=appointment("sub-1", participant=at_clinic, status="cancelled"))
    client.delete("/fhir/Appointment/sub-1")  # it no longer matched
    assert [(e.resource_id, e.version_id, e.action) for e in _events(server, sid)] == [("sub-1", 1, "create")]
    assert deliver(server, sid) == "done"
    got = receiver.wait_for(lambda r: len(r) == 1)
    assert got[0].method == "POST" and got[0].body == b""  # no payload: "go and look"
    client.put("/fhir/Appointment/sub-3", json=appointment("sub-3", participant=at_clinic))
    client.delete("/fhir/Appointment/sub-3")  # it matched until deleted
    assert [(e.resource_id, e.action) for e in _events(server, sid)][1:] == [("sub-3", "create"), ("sub-3", "delete")]


def test_topics_fire_on_transitions_and_filters_narrow_them(
    client: TestClient, server: FhirServer, receiver: Receiver, subscriptions
):
    def topic(name: str, *filters: str) -> str:
        body = _subscription(receiver.url, TOPICS + name, payload="application/fhir+json")
        if filters:
            extension = [{"url": BACKPORT + "backport-filter-criteria", "valueString": f} for f in filters]
            body["_criteria"] = {"extension": extension}
        return _create(client, subscriptions, body)["id"]

    booked, cancelled, changed = (
        topic("appointment-booked"),
        topic("appointment-cancelled"),
        topic("appointment-changed"),
    )
    client.put("/fhir/Patient/top-p", json={"resourceType": "Patient", "id": "top-p"})
    mine = topic("appointment-booked", "Appointment?patient=Patient/top-p")
    client.put("/fhir/Appointment/top-1", json=appointment("top-1", status="proposed"))
    client.put("/fhir/Appointment/top-1", json=appointment("top-1"))  # → booked
    client.put("/fhir/Appointment/top-1", json=appointment("top-1", start="2026-12-02T09:00:00Z"))  # moved
    client.put("/fhir/Appointment/top-1", json=appointment("top-1", start="2026-12-02T09:00:00Z", comment="x"))
    client.put("/fhir/Appointment/top-1", json=appointment("top-1", status="cancelled"))
    with_patient = [{"status": "accepted", "actor": {"reference": "Patient/top-p"}}]
    client.put("/fhir/Appointment/top-2", json=appointment("top-2", participant=with_patient))
    client.delete("/fhir/Appointment/top-2")
    assert [(e.resource_id, e.version_id) for e in _events(server, booked)] == [("top-1", 2), ("top-2", 1)]
    assert [(e.resource_id, e.version_id) for e in _events(server, changed)] == [("top-1", 3)]
    assert [(e.resource_id, e.action) for e in _events(server, cancelled)] == [("top-1", "update"), ("top-2", "delete")]
    assert [e.resource_id for e in _events(server, mine)] == ["top-2"]
    # the handshake first, then the events, numbered, with the versions of the events (not the current ones)
    assert deliver(server, booked) == "done"
    got = receiver.wait_for(lambda r: len(r) == 3)
    assert [x.kind() for x in got] == ["handshake", "event-notification", "event-notification"]
    assert [x.event_numbers() for x in got[1:]] == [[1], [2]]
    assert got[1].json["entry"][1]["fullUrl"].endswith("/Appointment/top-1")


def test_a_unit_is_never_notified_of_another_units_changes(client: TestClient, server: FhirServer, subscriptions):
    """Subscription notifications respect access control: a subscriber only gets what its owner may read."""
    ehr_a, ehr_b = bearer(server, "ehr", org=UNIT_A), bearer(server, "ehr", org=UNIT_B)
    criteria = _subscription("http://127.0.0.1:9/a", payload="application/fhir+json")
    sid = _create(client, subscriptions, criteria, ehr_a)["id"]
    topic = _subscription("http://127.0.0.1:9/a", TOPICS + "appointment-booked")
    tid = _create(client, subscriptions, topic, ehr_a)["id"]
    admin_sid = _create(client, subscriptions, _subscription("http://127.0.0.1:9/admin"))["id"]
    assert client.put("/fhir/Appointment/unit-b1", json=appointment("unit-b1"), headers=ehr_b).status_code == 201
    assert client.put("/fhir/Appointment/unit-a1", json=appointment("unit-a1"), headers=ehr_a).status_code == 201
    assert [e.resource_id for e in _events(server, sid)] == ["unit-a1"]
    assert [e.resource_id for e in _events(server, tid)] == ["unit-a1"]
    assert [e.resource_id for e in _events(server, admin_sid)] == ["unit-b1", "unit-a1"]  # the registry sees all
    # and another unit cannot read, replay or bind to unit A's Subscription
    assert client.get(f"/fhir/Subscription/{sid}/$events", headers=ehr_b).status_code == 404
    assert client.get(f"/fhir/Subscription/{sid}/$status", headers=ehr_b).status_code == 404


def test_status_and_events_replay(client: TestClient, server: FhirServer, receiver: Receiver, subscriptions):
    body = _subscription(receiver.url, TOPICS + "appointment-booked", payload="application/fhir+json")
    sid = _create(client, subscriptions, body)["id"]
    for i in range(4):
        client.put(f"/fhir/Appointment/rep-{i}", json=appointment(f"rep-{i}"))
    deliver(server, sid)
    status = client.get(f"/fhir/Subscription/{sid}/$status").json()
    assert status["type"] == "searchset"
    parameters = {p["name"]: p for p in status["entry"][0]["resource"]["parameter"]}
    assert parameters["status"]["valueCode"] == "active"
    assert parameters["events-since-subscription-start"]["valueString"] == "4"
    assert parameters["topic"]["valueCanonical"] == TOPICS + "appointment-booked"
    replay = client.get(
        f"/fhir/Subscription/{sid}/$events",
        params={"eventsSinceNumber": 2, "eventsUntilNumber": 3, "content": "full-resource"},
    ).json()
    first = replay["entry"][0]["resource"]
    assert {p["name"]: p.get("valueCode") for p in first["parameter"]}["type"] == "query-event"
    assert [e["resource"]["id"] for e in replay["entry"][1:]] == ["rep-1", "rep-2"]
    assert client.get(f"/fhir/Subscription/{sid}/$events", params={"eventsSinceNumber": "x"}).status_code == 400
    assert client.get(f"/fhir/Subscription/{sid}/$events", params={"bogus": "1"}).status_code == 400
    # delivered events are kept for the retention time, then pruned
    server.settings.subscription_event_retention_days = 0
    try:
        assert prune(server) >= 4
    finally:
        server.settings.subscription_event_retention_days = 30
    replay = client.get(f"/fhir/Subscription/{sid}/$events").json()
    assert len(replay["entry"]) == 1


def test_deleting_a_subscription_drops_its_state_and_events(client: TestClient, server: FhirServer, subscriptions):
    sid = _create(client, subscriptions, _subscription("http://127.0.0.1:9/gone"))["id"]
    client.put("/fhir/Appointment/gone-1", json=appointment("gone-1"))
    assert len(_events(server, sid)) == 1
    assert client.delete(f"/fhir/Subscription/{sid}").status_code == 204
    with server.db.reading() as conn:
        state = conn.execute(select(func.count()).where(subscription_state.c.id == sid)).scalar()
    assert state == 0 and _events(server, sid) == []
    assert client.get(f"/fhir/Subscription/{sid}/$status").status_code in (404, 410)


def test_capability_statement_names_topics_operations_and_the_websocket(client: TestClient):
    statement = client.get("/fhir/metadata").json()
    rest = statement["rest"][0]
    assert rest["extension"][0]["valueUri"] == "ws://testserver/fhir/websocket"
    entry = next(r for r in rest["resource"] if r["type"] == "Subscription")
    topics = {e["valueCanonical"] for e in entry["extension"]}
    assert TOPICS + "questionnaire-response-completed" in topics and len(topics) == 5
    assert {o["name"] for o in entry["operation"]} >= {"status", "events"}
