"""Never a lost notification: workers killed mid-delivery, a broker restart, two workers on one queue, writes
racing each other — with real worker processes, a real broker and a real receiver."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from fhir_server.definitions.registry import Definitions
from fhir_server.search.values import escape
from fhir_server.storage.schema import subscription_state
from tests.conftest import _PG_SKIP
from tests.subscriptions.conftest import BACKPORT, TOPICS, Deployment, appointment
from tests.subscriptions.receiver import Receiver
from tests.subscriptions.recording_subscriber import NAME, SYSTEM

TASK_TYPE = {
    "extension": [
        {
            "url": BACKPORT + "backport-channel-type",
            "valueCoding": {"system": "https://ryggrad.no/fhir/CodeSystem/subscription-channel-type", "code": "task"},
        }
    ]
}


def _numbers(received) -> list[int]:
    return [n for x in received if x.kind() == "event-notification" for n in x.event_numbers()]


def _topic_subscription(deployment: Deployment, receiver: Receiver, **extra) -> str:
    return deployment.subscribe(
        receiver.url,
        criteria=TOPICS + "appointment-booked",
        payload="application/fhir+json",
        _payload={"extension": [{"url": BACKPORT + "backport-payload-content", "valueCode": "id-only"}]},
        **extra,
    )


def test_a_worker_killed_mid_delivery_leaves_nothing_undelivered(deployment: Deployment, receiver: Receiver):
    first = deployment.start_worker(beat=True)
    sid = _topic_subscription(deployment, receiver)
    deployment.wait_status(sid, "active")
    in_flight = threading.Event()

    def hold(item) -> None:  # the third event's request hangs until the worker delivering it is dead
        if 3 in item.event_numbers():
            in_flight.set()
            time.sleep(4)

    receiver.on_request = hold
    for i in range(6):
        deployment.execute("PUT", f"Appointment/k{i}", appointment(f"k{i}"))
    assert in_flight.wait(30), deployment.logs()
    os.killpg(first.pid, signal.SIGKILL)  # the worker and everything it started, mid-request
    first.wait()
    receiver.on_request = None
    deployment.start_worker(beat=True)  # takes over once the dead worker's lease runs out
    got = receiver.wait_for(lambda r: set(_numbers(r)) >= set(range(1, 7)), timeout=60)
    numbers = _numbers(got)
    assert sorted(set(numbers)) == list(range(1, 7))
    duplicated = {n for n, count in Counter(numbers).items() if count > 1}
    assert duplicated <= {3}  # only the one in flight when the worker died comes twice (same event id)
    ids = [i for x in got if x.kind() == "event-notification" for i in x.event_ids]
    assert len(set(ids)) == 6
    first_seen = list(dict.fromkeys(numbers))
    assert first_seen == list(range(1, 7))


def test_an_internal_subscriber_acts_exactly_once_though_its_worker_dies(deployment: Deployment):
    slow = {"RYGGRAD_TEST_SUBSCRIBER_DELAY_S": "1.0"}
    first = deployment.start_worker(beat=True, extra_env=slow)
    response = deployment.execute(
        "POST",
        "Subscription",
        {
            "resourceType": "Subscription",
            "status": "requested",
            "reason": "the registry's own reaction",
            "criteria": "Appointment?status=booked",
            "channel": {"type": "rest-hook", "_type": TASK_TYPE, "endpoint": f"urn:ryggrad:task:{NAME}"},
        },
    )
    assert response.status == 201, response.resource
    sid = response.resource["id"]
    deployment.wait_status(sid, "active")
    for i in range(5):
        deployment.execute("PUT", f"Appointment/t{i}", appointment(f"t{i}"))

    def recorded() -> list[str]:
        found = deployment.execute("GET", "Basic", query=[("identifier", f"{escape(SYSTEM)}|"), ("_count", "100")])
        return [e["resource"]["identifier"][0]["value"] for e in found.resource.get("entry", [])]

    deadline = time.monotonic() + 30
    while len(recorded()) < 2:  # part-way
        assert time.monotonic() < deadline, deployment.logs()
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    deployment.start_worker(beat=True)
    deadline = time.monotonic() + 60
    while len(recorded()) < 5:
        assert time.monotonic() < deadline, deployment.logs()
        time.sleep(0.2)
    time.sleep(1.0)  # anything handled twice would show by now
    assert len(recorded()) == 5 and len(set(recorded())) == 5


def test_two_workers_share_one_queue_and_keep_commit_order_under_concurrent_writes(
    deployment: Deployment, receiver: Receiver
):
    deployment.start_worker()
    deployment.start_worker()
    deployment.start_beat()
    sid = _topic_subscription(deployment, receiver)
    deployment.wait_status(sid, "active")
    writers, per_writer = 4, 15
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            for i in range(per_writer):
                # each writer books its own appointments and re-books a shared one (cancel, book) in turn
                deployment.execute("PUT", f"Appointment/c{w}-{i}", appointment(f"c{w}-{i}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    total = writers * per_writer
    got = receiver.wait_for(lambda r: len(set(_numbers(r))) >= total, timeout=60)
    time.sleep(1.0)
    got = receiver.snapshot()
    numbers = _numbers(got)
    assert numbers == list(range(1, total + 1))  # each exactly once, in number order
    focus = [
        e["fullUrl"].rsplit("/", 1)[-1] for x in got if x.kind() == "event-notification" for e in x.json["entry"][1:]
    ]
    for w in range(writers):  # each writer's commits arrive in the order it made them
        mine = [f for f in focus if f.startswith(f"c{w}-")]
        assert mine == [f"c{w}-{i}" for i in range(per_writer)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A Redis of the test's own (the machine's stays untouched), restartable on the same port."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([*command, "--dir", str(self.folder)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
@pytest.mark.skipif(bool(_PG_SKIP), reason=_PG_SKIP or "")
def test_a_broker_restart_loses_no_event(tmp_path: Path, definitions: Definitions, receiver: Receiver):
    broker = RedisServer(tmp_path)
    broker.start()
    deployment = Deployment("postgresql-redis", tmp_path, definitions, broker_url=broker.url)
    try:
        deployment.start_worker(beat=True)
        sid = _topic_subscription(deployment, receiver)
        deployment.wait_status(sid, "active")
        for i in range(3):
            deployment.execute("PUT", f"Appointment/r{i}", appointment(f"r{i}"))
        receiver.wait_for(lambda r: len(set(_numbers(r))) >= 3)
        broker.stop()  # the broker dies with whatever it held; writes go on (the outbox is in the database)
        for i in range(3, 8):
            assert deployment.execute("PUT", f"Appointment/r{i}", appointment(f"r{i}")).status == 201
        time.sleep(1.0)
        broker.start()  # empty: every wake-up message is gone
        got = receiver.wait_for(lambda r: len(set(_numbers(r))) >= 8, timeout=90)
        assert sorted(set(_numbers(got))) == list(range(1, 9))
    finally:
        deployment.close()
        broker.stop()


def test_websocket_clients_are_pinged_for_each_event(deployment: Deployment):
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from fhir_server.http.app import create_app
    from tests.conftest import bearer

    deployment.start_worker(beat=True)
    response = deployment.execute(
        "POST",
        "Subscription",
        {
            "resourceType": "Subscription",
            "status": "requested",
            "reason": "a viewer",
            "criteria": "Appointment?status=booked",
            "channel": {"type": "websocket"},
        },
    )
    sid = response.resource["id"]
    deployment.wait_status(sid, "active")
    app = create_app(server=deployment.server)
    with TestClient(app) as client:
        with pytest.raises(WebSocketDisconnect), client.websocket_connect("/fhir/websocket") as refused:
            refused.receive_text()  # no token, no socket
        with client.websocket_connect("/fhir/websocket", headers=bearer(deployment.server)) as socket_:
            socket_.send_text("bind no-such-subscription")
            assert socket_.receive_text().startswith("error ")
            socket_.send_text(f"bind {sid}")
            assert socket_.receive_text() == f"bound {sid}"
            deployment.execute("PUT", "Appointment/w1", appointment("w1"))
            deployment.execute("PUT", "Appointment/w2", appointment("w2"))
            assert socket_.receive_text() == f"ping {sid}"
            assert socket_.receive_text() == f"ping {sid}"
    deadline = time.monotonic() + 30
    while True:  # the worker numbered both events (hence the pings) and marks them sent
        with deployment.server.db.reading() as conn:
            state = conn.execute(select(subscription_state).where(subscription_state.c.id == sid)).first()
        if state.delivered_through == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert state.events_since_start == 2 and state.delivered_through == 2


def test_subscription_end_switches_it_off(deployment: Deployment, receiver: Receiver):
    deployment.start_worker(beat=True)
    sid = deployment.subscribe(receiver.url, end="2020-01-01T00:00:00Z")
    deployment.wait_status(sid, "off")
    deployment.execute("PUT", "Appointment/e1", appointment("e1"))
    time.sleep(1.0)
    assert receiver.snapshot() == []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc (Linux)")
def test_a_worker_that_dies_is_started_again(deployment: Deployment, receiver: Receiver):
    """``ryggrad worker`` supervises the Celery worker: Celery can die of a broker outage ("Unrecoverable error"),
    and an installation must not stay without a worker until somebody notices."""
    supervisor = deployment.start_worker(beat=True)
    sid = deployment.subscribe(receiver.url)
    deployment.wait_status(sid, "active")
    children = Path(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children").read_text().split()
    assert len(children) == 1
    os.kill(int(children[0]), signal.SIGKILL)  # the Celery worker dies; its supervisor lives on
    deployment.execute("PUT", "Appointment/again", appointment("again"))
    receiver.wait_for(lambda r: len(r) == 1, timeout=60)
    assert supervisor.poll() is None
