"""Appointments in, PROM Tasks out: how many appointments per second the registry takes as an EHR pushes them at
the start of a day (transactions of conditional Patient creates and Appointment PUTs), with the worker opening an
episode and a Task for each, and how long from a push's commit to its Task. Not a test.

    .venv/bin/python -m bench.registry_flow [--setup embedded|redis] [--appointments 2000] [--batch 50]

Targets (issue 7): ≥ 200 appointments/s sustained with the embedded set-up (SQLite, filesystem transport, one
worker process), p95 from push to Task < 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.databases import temp_database
from bench.machine import describe
from bench.notifications import Setup, percentile
from fhir_server.norway.identifiers import FNR_SYSTEM, ORGNR_SYSTEM, RESH_SYSTEM
from fhir_server.rest.messages import FhirRequest
from fhir_server.storage.schema import resource
from workers.registry.subscriptions import ensure_subscriptions

ORGNR = "974589095"
REGISTRY = "https://ryggrad.no/fhir/CodeSystem/registry"
POTENTIAL = "https://ryggrad.no/fhir/StructureDefinition/registry-potential"


def _fnr(n: int) -> str:
    return f"{n:011d}"  # bench identities (not valid FNRs: no profile is claimed, so no check digits are judged)


def transaction(first: int, count: int, day: datetime) -> dict[str, Any]:
    entries = []
    for n in range(first, first + count):
        patient_url = f"urn:uuid:{uuid.uuid4()}"
        entries.append(
            {
                "fullUrl": patient_url,
                "resource": {"resourceType": "Patient", "identifier": [{"system": FNR_SYSTEM, "value": _fnr(n)}]},
                "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={FNR_SYSTEM}|{_fnr(n)}"},
            }
        )
        start = day + timedelta(minutes=15 * (n % 32))
        entries.append(
            {
                "resource": {
                    "resourceType": "Appointment",
                    "id": f"bench-{n}",
                    "meta": {"security": [{"system": "https://ryggrad.no/fhir/CodeSystem/owner", "code": ORGNR}]},
                    "extension": [{"url": POTENTIAL, "valueCoding": {"system": REGISTRY, "code": "nnrr"}}],
                    "identifier": [{"system": "urn:bench:appointment", "value": str(n)}],
                    "status": "booked",
                    "start": start.isoformat(),
                    "participant": [{"status": "accepted", "actor": {"reference": patient_url}}],
                },
                "request": {"method": "PUT", "url": f"Appointment/bench-{n}"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def run(kind: str, appointments: int, batch: int, rate: float | None = None) -> dict[str, Any]:
    backend = "postgresql" if kind == "redis" else "sqlite"
    with tempfile.TemporaryDirectory(prefix="ryggrad-bench-flow-") as tmp, temp_database(backend, Path(tmp)) as url:
        setup = Setup(kind, Path(tmp), url)
        try:
            server = setup.server
            ensure_subscriptions(server)
            unit = {
                "resourceType": "Organization",
                "id": "bench-unit",
                "identifier": [{"system": ORGNR_SYSTEM, "value": ORGNR}, {"system": RESH_SYSTEM, "value": "4999"}],
                "name": "Bench clinic",
            }
            server.execute(FhirRequest("PUT", "Organization/bench-unit", body=unit))
            _wait_active(server)
            day = (datetime.now(UTC) + timedelta(days=30)).replace(hour=8, minute=0, second=0, microsecond=0)
            committed: dict[str, float] = {}
            started = last_sent = time.time()
            for first in range(0, appointments, batch):
                if rate:  # paced: this batch goes when the rate allows it
                    time.sleep(max(0.0, started + first / rate - time.time()))
                last_sent, last_first = time.time(), first
                count = min(batch, appointments - first)
                response = server.execute(FhirRequest("POST", "", body=transaction(first, count, day)))
                assert response.status == 200, response.resource
                now = time.time()
                committed.update({f"bench-{n}": now for n in range(first, first + count)})
            pushed = time.time()
            created = _wait_for_tasks(server, appointments, timeout=600)
            finished = max(created.values()) if created else time.time()
            delays = [(created[a] - committed[a]) * 1000 for a in committed if a in created]
            return {
                "setup": kind,
                "machine": describe(),
                "appointments": appointments,
                "batch": batch,
                "rate": rate,
                "tasks": len(created),
                # the rate the pushes went out at: the appointments sent before the last batch over the time
                # until it was sent (a push falling behind its pace sends the last batch late)
                "push_per_s": round(last_first / (last_sent - started), 1) if last_first else None,
                "push_seconds": round(pushed - started, 3),
                "tasks_per_s": round(len(created) / (finished - started), 1),
                "sustained_tasks_per_s": _sustained(list(created.values())),
                "push_to_task_p50_ms": round(statistics.median(delays), 1),
                "push_to_task_p95_ms": round(percentile(delays, 0.95), 1),
                "push_to_task_max_ms": round(max(delays), 1),
            }
        finally:
            setup.close()


def _sustained(times: list[float]) -> float:
    """Tasks per second while the flow runs: over the middle 80 % of the Tasks (between the 10th and the 90th
    percentile of their creation times), without the start (the first batch's wait) and the end (the last push's
    tail), which dominate a whole-run rate at a given pace."""
    ordered = sorted(times)
    low, high = ordered[len(ordered) // 10], ordered[(len(ordered) * 9) // 10]
    inside = sum(1 for t in ordered if low <= t <= high)
    return round(inside / (high - low), 1) if high > low else 0.0


def _wait_active(server: Any) -> None:
    deadline = time.monotonic() + 60
    while True:
        found = server.execute(FhirRequest("GET", "Subscription/registry-appointments")).resource
        if found.get("status") == "active":
            return
        if time.monotonic() > deadline:
            raise SystemExit("the worker did not activate the registry's subscription")
        time.sleep(0.1)


def _wait_for_tasks(server: Any, expected: int, timeout: float) -> dict[str, float]:
    """Appointment id → when its Task was created (the Task's first version time), once all are there."""
    deadline = time.monotonic() + timeout
    while True:
        with server.db.reading() as conn:
            rows = (
                conn.execute(
                    select(resource.c.content).where(resource.c.resource_type == "Task", resource.c.deleted.is_(False))
                )
                .scalars()
                .all()
            )
        if len(rows) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    created = {}
    for task in rows:
        appointment = str(task["basedOn"][0]["reference"]).split("/")[1]
        authored = datetime.fromisoformat(task["authoredOn"].replace("Z", "+00:00"))
        created[appointment] = authored.timestamp()
    return created


def report(result: dict[str, Any]) -> str:
    machine = result["machine"]
    pacing = f" --rate {result['rate']:g}" if result["rate"] else ""
    return "\n".join(
        [
            "# Registry flow: appointments in, PROM Tasks out",
            "",
            f"{machine['date']} · commit {machine['commit']} · {machine['cores']} cores ({machine['cpu']}) · "
            f"Python {machine['python']}",
            "",
            f"`python -m bench.registry_flow --setup {result['setup']} --appointments {result['appointments']} "
            f"--batch {result['batch']}{pacing}` — the API in-process, one worker process (4 threads) with its "
            "scheduler. "
            "Targets: ≥ 200 appointments/s, p95 push → Task < 1 s.",
            "",
            "| setup | appointments | pushed /s | Tasks created /s (from the first push to the last Task) | "
            "sustained Tasks /s (middle 80 % of Tasks) | push → Task p50 | p95 | max |",
            "|---|---|---|---|---|---|---|---|",
            f"| {result['setup']} | {result['appointments']} in transactions of {result['batch']} | "
            f"{result['push_per_s']} | {result['tasks_per_s']} | {result['sustained_tasks_per_s']} | "
            f"{result['push_to_task_p50_ms']} ms | "
            f"{result['push_to_task_p95_ms']} ms | {result['push_to_task_max_ms']} ms |",
            "",
            "```json",
            json.dumps(result, indent=2, default=str),
            "```",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", choices=("embedded", "redis"), default="embedded")
    parser.add_argument("--appointments", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--rate", type=float, default=None, help="push at this many appointments/s (default: at once)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(args.setup, args.appointments, args.batch, args.rate)
    text = report(result)
    print(text)
    if args.output:
        args.output.mkdir(parents=True, exist_ok=True)
        pace = f"-at-{args.rate:g}-per-s" if args.rate else "-burst"
        name = f"{result['machine']['date'][:10]}-registry-flow-{args.setup}{pace}.md"
        (args.output / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
