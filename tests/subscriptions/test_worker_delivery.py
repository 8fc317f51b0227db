"""Notifications through real worker processes and a real broker: delivered, in order, retried, resumed."""

from __future__ import annotations

import time

from fhir_server.subscriptions.channels.rest_hook import verify
from tests.subscriptions.conftest import BACKPORT, TOPICS, Deployment, appointment
from tests.subscriptions.receiver import Receiver

SECRET = "s3cret-for-signing-hooks"
SECRET_EXTENSION = "https://ryggrad.no/fhir/StructureDefinition/subscription-signing-secret"


def test_rest_hook_gets_each_change_signed_with_its_headers(deployment: Deployment, receiver: Receiver):
    deployment.start_worker(beat=True)
    sid = deployment.subscribe(
        receiver.url + "/hook",
        payload="application/fhir+json",
        header=["Authorization: Bearer abc"],
        extension=[{"url": SECRET_EXTENSION, "valueString": SECRET}],
    )
    assert "extension" not in deployment.subscription(sid)["channel"]  # the secret is not kept in the resource
    deployment.wait_status(sid, "active")
    deployment.execute("PUT", "Appointment/a1", appointment("a1"))
    deployment.execute("PUT", "Appointment/a2", appointment("a2", status="proposed"))  # does not match
    deployment.execute("PUT", "Appointment/a1", appointment("a1", comment="moved"))
    got = receiver.wait_for(lambda r: len(r) >= 2)
    time.sleep(0.5)
    got = receiver.snapshot()
    assert [(r.method, r.path) for r in got] == [("PUT", "/hook/Appointment/a1")] * 2
    assert [r.json["meta"]["versionId"] for r in got] == ["1", "2"]
    for item in got:
        assert item.headers["authorization"] == "Bearer abc"
        assert item.headers["x-ryggrad-subscription"] == sid
        assert verify(SECRET, item.body, item.headers["x-ryggrad-signature"])
        assert not verify("another-secret-entirely", item.body, item.headers["x-ryggrad-signature"])
    assert len({r.event_ids[0] for r in got}) == 2


def test_failures_are_retried_in_order_and_error_status_clears_on_recovery(deployment: Deployment, receiver: Receiver):
    deployment.start_worker(beat=True)
    sid = deployment.subscribe(
        receiver.url,
        criteria=TOPICS + "appointment-booked",
        payload="application/fhir+json",
        _payload={"extension": [{"url": BACKPORT + "backport-payload-content", "valueCode": "id-only"}]},
    )
    deployment.wait_status(sid, "active")  # after the handshake
    receiver.fail_next = 3
    for i in range(5):
        deployment.execute("PUT", f"Appointment/f{i}", appointment(f"f{i}"))
    receiver.wait_for(lambda r: sum(len(x.event_numbers()) for x in r if x.kind() == "event-notification") >= 5)
    receiver.stop()  # the endpoint goes away ...
    for i in range(5, 10):
        deployment.execute("PUT", f"Appointment/f{i}", appointment(f"f{i}"))
    failed = deployment.wait_status(sid, "error", timeout=30)
    assert "could not be reached" in failed["error"]
    receiver.start()  # ... and comes back: everything since is delivered, and the Subscription is active again
    got = receiver.wait_for(lambda r: sum(len(x.event_numbers()) for x in r if x.kind() == "event-notification") >= 10)
    deployment.wait_status(sid, "active", timeout=30)
    numbers = [n for x in got if x.kind() == "event-notification" for n in x.event_numbers()]
    assert numbers == list(range(1, 11))  # in order, none lost, none twice
    focus = [
        e["fullUrl"].rsplit("/", 1)[-1] for x in got if x.kind() == "event-notification" for e in x.json["entry"][1:]
    ]
    assert focus == [f"f{i}" for i in range(10)]


def test_topic_subscriptions_get_a_handshake_and_heartbeats_when_idle(deployment: Deployment, receiver: Receiver):
    deployment.start_worker(beat=True)
    sid = deployment.subscribe(
        receiver.url,
        criteria=TOPICS + "episode-finished",
        payload="application/fhir+json",
        extension=[{"url": BACKPORT + "backport-heartbeat-period", "valueUnsignedInt": 1}],
    )
    deployment.wait_status(sid, "active")
    got = receiver.wait_for(lambda r: [x.kind() for x in r].count("heartbeat") >= 2, timeout=30)
    assert got[0].kind() == "handshake"
    episode = {"resourceType": "EpisodeOfCare", "id": "hb-1", "status": "finished", "patient": {"display": "x"}}
    deployment.execute("PUT", "EpisodeOfCare/hb-1", episode)
    got = receiver.wait_for(lambda r: any(x.kind() == "event-notification" for x in r), timeout=30)
    notification = next(x for x in got if x.kind() == "event-notification")
    assert notification.event_numbers() == [1]
    assert notification.json["entry"][1]["fullUrl"].endswith("/EpisodeOfCare/hb-1")  # id-only by default
    assert "resource" not in notification.json["entry"][1]
