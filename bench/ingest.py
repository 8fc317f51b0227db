"""Transaction ingest over HTTP: each Synthea bundle POSTed to ``/fhir`` in turn, as a client would send it."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from bench.synthea import SyntheaBundle

REQUEST_TIMEOUT_S = 600.0
PATIENT_LOCATION = re.compile(r"/Patient/([^/]+)/_history/")


@dataclass
class BundleTiming:
    name: str
    kind: str
    resources: int
    seconds: float
    created: int
    failed: int

    @property
    def per_s(self) -> float:
        return self.resources / self.seconds if self.seconds else 0.0


@dataclass
class IngestResult:
    bundles: list[BundleTiming] = field(default_factory=list)
    patient_ids: list[str] = field(default_factory=list)

    @property
    def resources(self) -> int:
        return sum(b.resources for b in self.bundles)

    @property
    def seconds(self) -> float:
        return sum(b.seconds for b in self.bundles)

    @property
    def per_s(self) -> float:
        return self.resources / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return sum(b.failed for b in self.bundles)

    def rate_of(self, kind: str) -> float:
        chosen = [b for b in self.bundles if b.kind == kind]
        seconds = sum(b.seconds for b in chosen)
        return sum(b.resources for b in chosen) / seconds if seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "resources": self.resources,
            "seconds": round(self.seconds, 3),
            "resources_per_s": round(self.per_s, 1),
            "transaction_resources_per_s": round(self.rate_of("transaction"), 1),
            "batch_resources_per_s": round(self.rate_of("batch"), 1),
            "failed_entries": self.failed,
            "bundles": [
                {**b.__dict__, "seconds": round(b.seconds, 4), "resources_per_s": round(b.per_s, 1)}
                for b in self.bundles
            ],
        }


def _statuses(response: httpx.Response) -> list[str]:
    entries = response.json().get("entry", [])
    return [str(e.get("response", {}).get("status", "")).split(" ")[0] for e in entries]


def _patient_ids(response: httpx.Response) -> list[str]:
    ids = []
    for entry in response.json().get("entry", []):
        match = PATIENT_LOCATION.search(str(entry.get("response", {}).get("location", "")))
        if match:
            ids.append(match.group(1))
    return ids


def run_ingest(root: str, bundles: list[SyntheaBundle], auth: dict[str, str]) -> IngestResult:
    """POST every bundle to ``{root}/fhir`` (one at a time) and time each round trip."""
    result = IngestResult()
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json", **auth}
    with httpx.Client(base_url=root, timeout=REQUEST_TIMEOUT_S) as client:
        client.get("/fhir/metadata").raise_for_status()  # a warm connection; the server's imports done
        for bundle in bundles:
            started = time.perf_counter()
            response = client.post("/fhir", content=bundle.body, headers=headers)
            seconds = time.perf_counter() - started
            if response.status_code != 200:
                detail = orjson.dumps(response.json(), option=orjson.OPT_INDENT_2).decode()[:2000]
                raise RuntimeError(f"bundle {bundle.name}: HTTP {response.status_code}\n{detail}")
            statuses = _statuses(response)
            created = sum(1 for s in statuses if s in ("200", "201"))
            result.bundles.append(
                BundleTiming(bundle.name, bundle.kind, bundle.size, seconds, created, len(statuses) - created)
            )
            result.patient_ids.extend(_patient_ids(response))
    return result


def run_concurrent_ingest(
    root: str, bundles: list[SyntheaBundle], uploads: int, auth: dict[str, str]
) -> tuple[int, float]:
    """POST the bundles with ``uploads`` clients at once, as an integration engine with several channels does;
    returns (resources, wall-clock seconds)."""
    from concurrent.futures import ThreadPoolExecutor

    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json", **auth}

    def post(bundle: SyntheaBundle) -> None:
        with httpx.Client(base_url=root, timeout=REQUEST_TIMEOUT_S) as client:
            response = client.post("/fhir", content=bundle.body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"bundle {bundle.name}: HTTP {response.status_code}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=uploads) as pool:
        list(pool.map(post, bundles))
    return sum(b.size for b in bundles), time.perf_counter() - started
