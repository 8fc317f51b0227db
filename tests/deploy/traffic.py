"""A day's appointments as an EHR pushes them (one transaction each: the patient by FNR, the appointment by its
id), and the clients that push them through a pool of API processes, as a load balancer would route them."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from fhir_server.norway.identifiers import FNR_SYSTEM, synthetic_fnr

REGISTRY = "https://ryggrad.no/fhir/CodeSystem/registry"
POTENTIAL = "https://ryggrad.no/fhir/StructureDefinition/registry-potential"
RETRIED = frozenset({409, 412, 429, 500, 502, 503})  # a race lost or a process going away: send it again


def day_of_appointments(count: int, day: date, seed: int) -> list[dict[str, Any]]:
    """``count`` NNRR first consultations on ``day`` between 08:00 and 16:00 UTC, each of another patient; each as
    the transaction Bundle the EHR sends (pushing it again changes nothing)."""
    rng = random.Random(seed)
    fnrs: list[str] = []
    while len(fnrs) < count:
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 60))
        fnr = synthetic_fnr(birth, rng)
        if fnr not in fnrs:
            fnrs.append(fnr)
    opening = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    return [
        _bundle(f"dips-{seed}-{n}", fnr, opening + timedelta(minutes=(n * 480) // count)) for n, fnr in enumerate(fnrs)
    ]


def _bundle(appointment_id: str, fnr: str, start: datetime) -> dict[str, Any]:
    patient = f"urn:uuid:00000000-0000-4000-8000-{int(fnr):012d}"
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient,
                "resource": {"resourceType": "Patient", "identifier": [{"system": FNR_SYSTEM, "value": fnr}]},
                "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={FNR_SYSTEM}|{fnr}"},
            },
            {
                "resource": {
                    "resourceType": "Appointment",
                    "id": appointment_id,
                    "extension": [{"url": POTENTIAL, "valueCoding": {"system": REGISTRY, "code": "nnrr"}}],
                    "status": "booked",
                    "start": start.isoformat(),
                    "end": (start + timedelta(minutes=30)).isoformat(),
                    "participant": [{"status": "accepted", "actor": {"reference": patient}}],
                },
                "request": {"method": "PUT", "url": f"Appointment/{appointment_id}"},
            },
        ],
    }


def appointment_id(bundle: dict[str, Any]) -> str:
    return bundle["entry"][1]["resource"]["id"]


class Balancer:
    """The API processes a client may use: round robin over the live ones; one that cannot be reached (refused,
    reset, no answer) is taken out, and the request goes to the next — as nginx's ``proxy_next_upstream error``."""

    def __init__(self, urls: list[str], headers: dict[str, str]) -> None:
        self.live = list(urls)
        self.headers = headers
        self.failovers = 0
        self._turn = 0
        self._lock = threading.Lock()

    def _next(self, preferred: str | None) -> str:
        with self._lock:
            assert self.live, "no API process left"
            if preferred in self.live:
                return preferred
            self._turn += 1
            return self.live[self._turn % len(self.live)]

    def _drop(self, url: str) -> None:
        with self._lock:
            if url in self.live:
                self.live.remove(url)
            self.failovers += 1

    def push(self, client: httpx.Client, bundle: dict[str, Any], preferred: str | None = None) -> int:
        """Send the transaction until an API process has taken it; that answer's status."""
        for attempt in range(30):
            url = self._next(preferred)
            try:
                answer = client.post(f"{url}/fhir", json=bundle, headers=self.headers, timeout=60)
            except httpx.TransportError:
                self._drop(url)  # its answer, if it committed at all, is lost: the repeat must change nothing
                continue
            if answer.status_code not in RETRIED:
                return answer.status_code
            time.sleep(0.05 * (attempt + 1))
        raise AssertionError(f"{appointment_id(bundle)} was never taken: {answer.status_code} {answer.text[:500]}")
