"""Many machines on one: two API processes (``ryggrad serve --no-worker``), two workers and the scheduler
(``ryggrad beat``) against one PostgreSQL and one Redis. Two EHR clients push a day's NNRR first consultations
through both APIs at once (a third of them through both). The worker sending a notification is killed (SIGKILL)
before the answer reaches it, and an API process while requests are in flight; the clients go on through the API
left, as a load balancer would route them. Nothing is restarted: the surviving worker takes the dead one's leases
over once they expire.

Then, once quiet: every appointment, patient, episode and PROM Task exists exactly once; the rest-hook subscriber
got each Task's creation under exactly one event id — the notification the killed worker sent arrives again under
the same id (delivery is at least once, the id is the idempotency key), so the effect, de-duplicated by it, is
exactly once; and after the clock moves to the forms' day, Helsenorge got each form exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from fhir_server.norway.identifiers import FNR_SYSTEM, ORGNR_SYSTEM, RESH_SYSTEM
from tests.deploy.cluster import Cluster, Service
from tests.deploy.hook import Hook, socket_owner
from tests.deploy.traffic import Balancer, appointment_id, day_of_appointments
from tests.e2e.processes import wait_for
from tests.standins.helsenorge import Helsenorge

ORGNR = "974589095"
APPOINTMENTS = 300
OPENED_BY = "https://ryggrad.no/fhir/sid/opening-appointment"
GUID_SYSTEM = "urn:ietf:rfc:3986"


@pytest.fixture
def hook() -> Any:
    receiver = Hook()
    yield receiver
    receiver.stop()


@pytest.fixture
def helsenorge() -> Any:
    standin = Helsenorge()
    yield standin
    standin.stop()


def test_a_day_through_two_apis_and_two_workers_survives_losing_one_of_each(
    cluster: Cluster, hook: Hook, helsenorge: Helsenorge
) -> None:
    started = time.monotonic()
    cluster.env["RYGGRAD_REGISTRY_HELSENORGE_TASK_URL"] = helsenorge.url
    cluster.run("migrate")  # the one-shot step every other process waits for
    apis = [cluster.start_api("api-1"), cluster.start_api("api-2")]
    workers = [cluster.start(f"worker-{n}", "worker", "--concurrency", "2") for n in (1, 2)]
    cluster.start("beat", "beat")
    admin = _bearer(cluster.run("token", "--role", "registry-admin"))
    ehr = _bearer(cluster.run("token", "--role", "ehr", "--org", ORGNR))
    for api in apis:
        cluster.wait_healthy(api)
    base = f"{apis[0].url}/fhir"
    unit = {
        "resourceType": "Organization",
        "id": "deploy-unit",
        "name": "Deploy test clinic",
        "identifier": [{"system": ORGNR_SYSTEM, "value": ORGNR}, {"system": RESH_SYSTEM, "value": "4243"}],
    }
    assert httpx.put(f"{base}/Organization/deploy-unit", json=unit, headers=admin).status_code == 201
    subscription = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "new PROM Tasks, to a receiver that de-duplicates by X-Ryggrad-Event-Id",
        "criteria": "Task?status=requested",
        "channel": {"type": "rest-hook", "endpoint": hook.url, "payload": "application/fhir+json"},
    }
    made = httpx.post(f"{base}/Subscription", json=subscription, headers=admin)
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    wait_for(lambda: _get(base, f"Subscription/{sid}", admin)["status"] == "active", "the Subscription active")

    bundles = day_of_appointments(APPOINTMENTS, date.today() + timedelta(days=20), seed=int(time.time()))
    balancer = Balancer([api.url for api in apis], ehr)
    pushed = Counter()  # per client
    errors: list[BaseException] = []

    def client(name: str, preferred: str, share: list[dict[str, Any]]) -> None:
        try:
            with httpx.Client() as http:
                for bundle in share:
                    status = balancer.push(http, bundle, preferred)
                    assert status == 200, f"{appointment_id(bundle)}: {status}"
                    pushed[name] += 1
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    # each client has half the day, and a third of the appointments are pushed by both, at about the same time
    first = [b for n, b in enumerate(bundles) if n % 2 == 0 or n % 6 == 1]
    second = [b for n, b in enumerate(bundles) if n % 2 == 1 or n % 6 == 0]
    clients = [
        threading.Thread(target=client, args=("a", apis[0].url, first)),
        threading.Thread(target=client, args=("b", apis[1].url, second)),
    ]
    for thread in clients:
        thread.start()
    total = len(first) + len(second)
    wait_for(lambda: sum(pushed.values()) >= total // 4 or errors, "a quarter of the pushes", 60)
    killed_worker, held = _kill_the_sender(cluster, workers, hook)
    wait_for(lambda: sum(pushed.values()) >= total // 2 or errors, "half of the pushes", 60)
    cluster.kill(apis[0])  # with requests of both clients in flight, most likely
    for thread in clients:
        thread.join(timeout=120)
    assert not errors, errors[0]
    assert balancer.live == [apis[1].url], "the killed API was never noticed"
    assert not any(t.is_alive() for t in clients)
    base = f"{apis[1].url}/fhir"
    with httpx.Client() as http:  # the EHR sends the morning's list again: nothing may change
        for bundle in bundles[:30]:
            assert balancer.push(http, bundle) == 200

    expected = {appointment_id(b) for b in bundles}
    wait_for(lambda: len(_tasks(base, admin)) >= APPOINTMENTS, "a Task for every appointment", 90)
    wait_for(lambda: _quiet(cluster), "every event delivered", 60)
    time.sleep(2)  # anything late (a duplicate) would arrive now
    assert _quiet(cluster)

    # every appointment, patient, episode and Task exactly once
    appointments = _search(base, "Appointment", admin)
    assert sorted(a["id"] for a in appointments) == sorted(expected)
    fnrs = Counter(
        i["value"] for p in _search(base, "Patient", admin) for i in p["identifier"] if i["system"] == FNR_SYSTEM
    )
    assert len(fnrs) == APPOINTMENTS and set(fnrs.values()) == {1}, fnrs.most_common(3)
    episodes = Counter(
        i["value"] for e in _search(base, "EpisodeOfCare", admin) for i in e["identifier"] if i["system"] == OPENED_BY
    )
    assert episodes == Counter({f"Appointment/{a}": 1 for a in expected}), episodes.most_common(3)
    tasks = _tasks(base, admin)
    per_appointment = Counter(_based_on(task) for task in tasks)
    assert per_appointment == Counter({a: 1 for a in expected}), per_appointment.most_common(3)
    assert {t["status"] for t in tasks} == {"requested"}

    # each Task's creation notified under one event id; the one the killed worker sent came again, under its id
    deliveries = hook.snapshot()
    events_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    for delivery in deliveries:
        events_of[(delivery.resource_id, delivery.version_id)].update(delivery.event_ids)
    created = {task_id: events_of.get((task_id, "1"), set()) for task_id in (t["id"] for t in tasks)}
    missing = [t for t, ids in created.items() if not ids]
    twice = {t: ids for t, ids in created.items() if len(ids) > 1}
    assert not missing, f"{len(missing)} Task creations never notified"
    assert not twice, f"{len(twice)} Task creations notified under several event ids: {list(twice.items())[:3]}"
    assert {task_id for task_id, _ in events_of} <= set(created), "a notification of a Task that does not exist"
    assert sum(d.event_ids == held.event_ids for d in deliveries) >= 2, "the killed worker's notification not resent"
    redelivered = len(deliveries) - len({e for d in deliveries for e in d.event_ids})

    # the forms' day: each goes to Helsenorge exactly once
    cluster.run("clock", "--travel", "5d")
    wait_for(lambda: len(helsenorge.tasks) >= APPOINTMENTS, "every form at Helsenorge", 90)
    wait_for(lambda: _quiet(cluster), "every event delivered", 60)
    time.sleep(1)
    posted = Counter(_guid(r.body) for r in helsenorge.requests if r.method == "POST")
    guids = {_guid(t) for t in _tasks(base, admin)}
    assert set(posted) == guids and set(posted.values()) == {1}, posted.most_common(3)
    assert len(helsenorge.tasks) == APPOINTMENTS
    print(
        f"\n{total} pushes (+30 repeated) through 2 APIs, {balancer.failovers} failed over; killed {killed_worker} and "
        f"api-1; {len(deliveries)} rest-hook deliveries, {redelivered} redelivered; {len(posted)} forms at "
        f"Helsenorge; {time.monotonic() - started:.0f} s"
    )


def _kill_the_sender(cluster: Cluster, workers: list[Service], hook: Hook) -> tuple[str, Any]:
    """SIGKILL the worker that sent the next notification, while it waits for the answer; (its name, what it sent)."""
    held = hook.hold_next()
    try:
        pids = {pid: worker for worker in workers for pid in worker.group_pids()}
        sender = socket_owner(hook.held_port, hook.port, set(pids))
        assert sender is not None, "the notification came from no worker"
        cluster.kill(pids[sender])
    finally:
        hook.release()
    return pids[sender].name, held


def _quiet(cluster: Cluster) -> bool:
    """No event waits to be delivered, to any Subscription."""
    engine = create_engine(cluster.database_url)
    try:
        with engine.connect() as conn:
            pending = conn.execute(
                text(
                    "SELECT count(*) FROM subscription_event e JOIN subscription_state s ON s.id = e.subscription_id "
                    "WHERE s.status <> 'off' AND (e.number IS NULL OR e.number > s.delivered_through)"
                )
            ).scalar()
    finally:
        engine.dispose()
    return pending == 0


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.strip()}"}


def _get(base: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    answer = httpx.get(f"{base}/{path}", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _search(base: str, resource_type: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    found = _get(base, f"{resource_type}?_count=1000", headers)
    assert not any(link["relation"] == "next" for link in found.get("link", [])), "more than a page"
    return [entry["resource"] for entry in found.get("entry", [])]


def _tasks(base: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    return _search(base, "Task", headers)


def _based_on(task: dict[str, Any]) -> str:
    (reference,) = [r["reference"] for r in task.get("basedOn", []) if r["reference"].startswith("Appointment/")]
    return reference.split("/")[1]


def _guid(task: dict[str, Any]) -> str:
    return next(i["value"] for i in task["identifier"] if i["system"] == GUID_SYSTEM)
