"""Notification latency, throughput and reliability, with a real worker process, a real broker and a real HTTP
receiver on loopback. Not a test.

    .venv/bin/python -m bench.notifications [--setup embedded|redis] [--changes 10000] [--output bench/results]

- ``embedded``: SQLite and Celery's filesystem transport (what ``make run`` starts); ``redis``: PostgreSQL and
  Redis (production), each with its own database and key prefix, removed afterwards.
- Latency: from an Appointment PUT's return (committed) to the rest-hook request arriving, one change every
  50 ms; target p95 < 500 ms.
- Throughput: a burst of changes written as fast as two writers can; notifications per second until the last one
  arrived.
- Reliability: ``--changes`` changes while the receiver fails 5 % of requests at random and goes away for 3 s;
  two Subscriptions (R4 criteria-based, one request per change; topic-based, bundles of up to 50) must each get
  every change exactly once: zero lost, zero duplicated.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from bench import REPO_ROOT
from bench.databases import temp_database
from bench.machine import describe
from fhir_server.rest.messages import FhirRequest
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from fhir_server.storage.engine import Database
from fhir_server.storage.migrate import upgrade
from tests.subscriptions.receiver import Receiver  # the tests' receiver: records, fails on request, goes away

BASE_URL = "http://127.0.0.1:8080/fhir"
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
TOPIC = "https://ryggrad.no/fhir/SubscriptionTopic/appointment-booked"
REDIS_URL = os.environ.get("RYGGRAD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def appointment(aid: str, n: int = 0) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": aid,
        "status": "booked",
        "start": f"2026-12-01T{9 + n % 8:02d}:00:00Z",
        "participant": [{"status": "accepted", "actor": {"display": "Bench"}}],
    }


class Setup:
    def __init__(self, kind: str, tmp: Path, database_url: str) -> None:
        self.kind = kind
        self.prefix = f"ryggrad-bench-{uuid.uuid4().hex[:8]}:"
        self.values = {
            "data_dir": str(tmp),
            "database_url": database_url,
            "base_url": BASE_URL,
            "broker_url": REDIS_URL if kind == "redis" else None,
            "broker_key_prefix": self.prefix,
            "subscription_retry_base_s": 0.2,
            "subscription_retry_max_s": 2.0,
            "sweep_interval_s": 1.0,
        }
        self.settings = Settings(**{k: v for k, v in self.values.items() if v is not None})
        db = Database(database_url)
        upgrade(db, base_url=BASE_URL)
        self.server = FhirServer(self.settings, db=db)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RYGGRAD_")}
        env.update({f"RYGGRAD_{k.upper()}": str(v) for k, v in self.values.items() if v is not None})
        env["PYTHONPATH"] = str(REPO_ROOT)
        self.log = open(tmp / "worker.log", "wb")  # noqa: SIM115 - closed in close()
        command = [sys.executable, "-m", "fhir_server.cli", "worker", "--beat", "--loglevel", "WARNING"]
        self.worker = subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def put(self, aid: str, n: int = 0) -> None:
        response = self.server.execute(FhirRequest("PUT", f"Appointment/{aid}", body=appointment(aid, n)))
        assert response.status in (200, 201), response.resource

    def subscribe(self, body: dict[str, Any]) -> str:
        response = self.server.execute(FhirRequest("POST", "Subscription", body=body))
        assert response.status == 201, response.resource
        sid = response.resource["id"]
        deadline = time.monotonic() + 60
        while self.server.execute(FhirRequest("GET", f"Subscription/{sid}")).resource["status"] != "active":
            if time.monotonic() > deadline:
                raise SystemExit("the worker did not activate the Subscription")
            time.sleep(0.1)
        return sid

    def set_off(self, sid: str) -> None:
        current = self.server.execute(FhirRequest("GET", f"Subscription/{sid}")).resource
        self.server.execute(FhirRequest("PUT", f"Subscription/{sid}", body={**current, "status": "off"}))

    def close(self) -> None:
        self.worker.send_signal(signal.SIGTERM)
        try:
            self.worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.worker.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.worker.pid, signal.SIGKILL)
        self.server.close()
        self.log.close()
        if self.kind == "redis":
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=f"{self.prefix}*"))
            if keys:
                client.delete(*keys)


def criteria_subscription(endpoint: str) -> dict[str, Any]:
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "bench",
        "criteria": "Appointment?status=booked",
        "channel": {"type": "rest-hook", "endpoint": endpoint, "payload": "application/fhir+json"},
    }


def topic_subscription(endpoint: str, max_count: int) -> dict[str, Any]:
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "bench",
        "criteria": TOPIC,
        "channel": {
            "extension": [{"url": BACKPORT + "backport-max-count", "valuePositiveInt": max_count}],
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": "application/fhir+json",
            "_payload": {"extension": [{"url": BACKPORT + "backport-payload-content", "valueCode": "id-only"}]},
        },
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency(setup: Setup, receiver: Receiver, count: int) -> dict[str, Any]:
    sid = setup.subscribe(criteria_subscription(receiver.url + "/latency"))
    committed: dict[str, float] = {}
    for i in range(count):
        aid = f"lat-{i}"
        setup.put(aid, i)
        committed[aid] = time.monotonic()
        time.sleep(0.05)
    deadline = time.monotonic() + 60
    while True:
        arrived = {r.path.rsplit("/", 1)[-1]: r.at for r in receiver.snapshot() if "/latency/" in r.path}
        if len(arrived) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    setup.set_off(sid)
    delays = [(arrived[a] - committed[a]) * 1000 for a in committed if a in arrived]
    return {
        "changes": count,
        "arrived": len(delays),
        "p50_ms": round(statistics.median(delays), 1),
        "p95_ms": round(percentile(delays, 0.95), 1),
        "max_ms": round(max(delays), 1),
    }


def _write_all(setup: Setup, prefix: str, count: int, writers: int = 2) -> float:
    def write(w: int) -> None:
        for i in range(w, count, writers):
            setup.put(f"{prefix}-{i}", i)

    started = time.monotonic()
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return started


def throughput(setup: Setup, receiver: Receiver, count: int) -> dict[str, Any]:
    sid = setup.subscribe(criteria_subscription(receiver.url + "/burst"))
    started = _write_all(setup, "burst", count)
    written = time.monotonic()
    deadline = time.monotonic() + 600
    while True:
        got = [r.at for r in receiver.snapshot() if "/burst/" in r.path]
        if len(got) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    setup.set_off(sid)
    last = max(got)
    return {
        "changes": count,
        "arrived": len(got),
        "writes_per_s": round(count / (written - started), 1),
        "notifications_per_s": round(len(got) / (last - started), 1),
        "drain_after_writes_s": round(max(0.0, last - written), 2),
    }


def _events_of_bundle(body: bytes) -> list[str]:
    bundle = orjson.loads(body)
    status = bundle["entry"][0]["resource"]
    if next(p["valueCode"] for p in status["parameter"] if p["name"] == "type") != "event-notification":
        return []
    return [e["fullUrl"].rsplit("/", 1)[-1] for e in bundle["entry"][1:]]


def reliability(setup: Setup, receiver: Receiver, count: int) -> dict[str, Any]:
    criteria = setup.subscribe(criteria_subscription(receiver.url + "/each"))
    topic = setup.subscribe(topic_subscription(receiver.url + "/bundles", 50))
    receiver.failure_rate = 0.05

    def outage() -> None:
        time.sleep(5)
        receiver.stop()
        time.sleep(3)
        receiver.start()

    threading.Thread(target=outage, daemon=True).start()
    started = _write_all(setup, "rel", count)
    written = time.monotonic()
    deadline = time.monotonic() + 900

    def tallies() -> tuple[Counter, Counter]:
        each: Counter = Counter()
        bundled: Counter = Counter()
        for item in receiver.snapshot():
            if item.path.startswith("/each/"):
                each[item.path.rsplit("/", 1)[-1]] += 1
            elif item.path == "/bundles":
                bundled.update(_events_of_bundle(item.body))
        return each, bundled

    while True:
        each, bundled = tallies()
        if (len(each) >= count and len(bundled) >= count) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    time.sleep(2.0)  # anything sent twice would have arrived by now
    each, bundled = tallies()
    receiver.failure_rate = 0.0
    setup.set_off(criteria)
    setup.set_off(topic)
    expected = {f"rel-{i}" for i in range(count)}
    return {
        "changes": count,
        "failures_injected": "5 % of requests answered 503, and a 3 s outage",
        "writes_per_s": round(count / (written - started), 1),
        "criteria_based": {
            "lost": len(expected - set(each)),
            "duplicated": sum(c - 1 for c in each.values()),
        },
        "topic_based_bundles": {
            "lost": len(expected - set(bundled)),
            "duplicated": sum(c - 1 for c in bundled.values()),
        },
        "all_delivered_s_after_writes": round(time.monotonic() - 2.0 - written, 1),
    }


def run(kind: str, changes: int, latency_count: int, burst: int) -> dict[str, Any]:
    backend = "postgresql" if kind == "redis" else "sqlite"
    with tempfile.TemporaryDirectory(prefix="ryggrad-bench-notify-") as tmp, temp_database(backend, Path(tmp)) as url:
        setup = Setup(kind, Path(tmp), url)
        receiver = Receiver()
        try:
            result = {
                "setup": kind,
                "machine": describe(),
                "latency": latency(setup, receiver, latency_count),
                "throughput": throughput(setup, receiver, burst),
                "reliability": reliability(setup, receiver, changes),
            }
        finally:
            receiver.stop()
            setup.close()
    return result


def report(results: list[dict[str, Any]]) -> str:
    machine = results[0]["machine"]
    lines = [
        "# Notifications: latency, throughput, reliability",
        "",
        f"{machine['date']} · commit {machine['commit']} · {machine['cores']} cores ({machine['cpu']}) · "
        f"Python {machine['python']} · PostgreSQL {machine['postgresql']}",
        "",
        "`python -m bench.notifications` — one worker process (4 threads) with its scheduler, the API in-process, "
        "a receiver on loopback. Target: p95 < 500 ms from commit to arrival; zero lost or duplicated.",
        "",
        "| setup | latency p50 | p95 | max | burst: writes/s | notifications/s | reliability: changes | lost "
        "(R4 / bundles) | duplicated (R4 / bundles) | all delivered, s after the last write |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lat, thr, rel = r["latency"], r["throughput"], r["reliability"]
        lines.append(
            f"| {r['setup']} | {lat['p50_ms']} ms | {lat['p95_ms']} ms | {lat['max_ms']} ms | {thr['writes_per_s']} | "
            f"{thr['notifications_per_s']} | {rel['changes']} | {rel['criteria_based']['lost']} / "
            f"{rel['topic_based_bundles']['lost']} | {rel['criteria_based']['duplicated']} / "
            f"{rel['topic_based_bundles']['duplicated']} | {rel['all_delivered_s_after_writes']} |"
        )
    lines += ["", "Raw figures:", "", "```json", json.dumps(results, indent=2, default=str), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", choices=("embedded", "redis", "both"), default="both")
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--latency-changes", type=int, default=300)
    parser.add_argument("--burst", type=int, default=2_000)
    parser.add_argument("--output", type=Path, default=None, help="write the report (markdown) into this folder")
    args = parser.parse_args(argv)
    kinds = ("embedded", "redis") if args.setup == "both" else (args.setup,)
    results = [run(kind, args.changes, args.latency_changes, args.burst) for kind in kinds]
    text = report(results)
    print(text)
    if args.output:
        args.output.mkdir(parents=True, exist_ok=True)
        day = results[0]["machine"]["date"][:10]
        (args.output / f"{day}-notifications.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
