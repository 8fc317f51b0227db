"""The registry end to end, as real processes: ``ryggrad serve`` (API, embedded worker and scheduler) takes a
DIPS-like appointment transaction; an episode and a PROM Task follow; the clock travels to the due day; the Task
goes out to a Helsenorge-like task endpoint on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from fhir_server.norway.identifiers import FNR_SYSTEM, ORGNR_SYSTEM, RESH_SYSTEM
from tests.e2e.processes import free_port, served_environment, wait_for
from tests.subscriptions.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ORGNR = "974589095"
FNR = "13097248022"
REGISTRY = "https://ryggrad.no/fhir/CodeSystem/registry"


def test_an_ehr_appointment_becomes_a_form_sent_on_its_day(tmp_path: Path):
    receiver = Receiver()
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    env = served_environment(tmp_path, base, RYGGRAD_REGISTRY_HELSENORGE_TASK_URL=f"{receiver.url}/oppgave/v1/Task")
    ryggrad = [str(BIN / "ryggrad")]
    subprocess.run([*ryggrad, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [*ryggrad, "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: _healthy(port), "the server")

        def token(*args: str) -> dict[str, str]:
            out = subprocess.run(
                [*ryggrad, "token", *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True
            )
            return {"Authorization": f"Bearer {out.stdout.strip()}"}

        admin, ehr = token("--role", "registry-admin"), token("--role", "ehr", "--org", ORGNR)
        unit = {
            "resourceType": "Organization",
            "id": "e2e-unit",
            "name": "E2E clinic",
            "identifier": [{"system": ORGNR_SYSTEM, "value": ORGNR}, {"system": RESH_SYSTEM, "value": "4242"}],
        }
        assert httpx.put(f"{base}/Organization/e2e-unit", json=unit, headers=admin).status_code == 201
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
        patient_url = f"urn:uuid:{uuid.uuid4()}"
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": patient_url,
                    "resource": {
                        "resourceType": "Patient",
                        "identifier": [{"system": FNR_SYSTEM, "value": FNR, "use": "official"}],
                    },
                    "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={FNR_SYSTEM}|{FNR}"},
                },
                {
                    "resource": {
                        "resourceType": "Appointment",
                        "id": "dips-100234",
                        "meta": {
                            "tag": [
                                {"system": "http://dips.no/fhir/appointment/permissions", "code": "NotOnlineBookable"}
                            ]
                        },
                        "extension": [
                            {
                                "url": "https://ryggrad.no/fhir/StructureDefinition/registry-potential",
                                "valueCoding": {"system": REGISTRY, "code": "nnrr"},
                            }
                        ],
                        "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.2.1234.9", "value": "100234"}],
                        "status": "booked",
                        "start": start.isoformat(),
                        "participant": [{"status": "accepted", "actor": {"reference": patient_url}}],
                    },
                    "request": {"method": "PUT", "url": "Appointment/dips-100234"},
                },
            ],
        }
        pushed = httpx.post(base, json=bundle, headers=ehr, timeout=30)
        assert pushed.status_code == 200, pushed.text

        def baseline_task() -> dict[str, Any] | None:
            found = httpx.get(f"{base}/Task", params={"_count": "5"}, headers=admin).json()
            return next((e["resource"] for e in found.get("entry", [])), None)

        task = wait_for(baseline_task, "the PROM Task (the worker reacting to the appointment)")
        assert task["status"] == "requested"
        due = datetime.fromisoformat(task["restriction"]["period"]["start"].replace("Z", "+00:00"))
        oslo = ZoneInfo("Europe/Oslo")
        local_due = due.astimezone(oslo)
        assert (local_due.date(), local_due.hour) == (start.astimezone(oslo).date() - timedelta(days=16), 9)  # N6
        assert receiver.snapshot() == []  # not before its day
        moved = subprocess.run(
            [*ryggrad, "clock", "--travel", "5d"], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        )
        assert moved.stdout.strip() > due.astimezone(UTC).replace(tzinfo=None).isoformat()
        (sent,) = receiver.wait_for(lambda r: len(r) == 1, timeout=60)
        assert sent.path == "/oppgave/v1/Task"
        assert sent.json["identifier"] == task["identifier"]
        assert sent.json["for"]["identifier"] == {"system": FNR_SYSTEM, "value": FNR}
        ready = httpx.get(f"{base}/Task/{task['id']}", headers=admin).json()
        assert ready["status"] == "ready"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        receiver.stop()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
