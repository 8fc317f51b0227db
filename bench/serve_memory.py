"""The serving process's memory: the resident set (``VmRSS`` in ``/proc/<pid>/status``) of one ``ryggrad serve
--no-worker`` process after a warm-up that loads every definition a write needs (the Synthea transactions of the
quick set ingested, a registry QuestionnaireResponse validated against its Questionnaire, a search of each kind),
then again after read and search load with wrk; and the peak (``VmHWM``). No limit is measured: the target is
absolute (< 300 MB)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import TARGET_SERVE_RSS_MB
from bench.databases import temp_database
from bench.figures import Figure, below
from bench.http_load import LoadSpec, run_load
from bench.ingest import run_ingest
from bench.qr_write import patient_response
from bench.servers import ryggrad_server
from bench.suite_options import SuiteOptions
from bench.synthea import load_bundles

FHIR = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}
SEARCHES = (
    "/fhir/Patient?gender=female&_count=20",
    "/fhir/Observation?code=http://loinc.org|8302-2&_count=20",
    "/fhir/Encounter?date=ge2015-01-01&_count=20",
    "/fhir/Condition?_count=20",
)


def _say(message: str) -> None:
    print(message, flush=True)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MB (10^6 bytes), from /proc."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024 / 1e6
    return {"rss_mb": round(found["VmRSS"], 1), "peak_mb": round(found["VmHWM"], 1)}


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _warm_up(root: str, auth: dict[str, str], patient_ids: list[str]) -> None:
    with httpx.Client(base_url=root, timeout=60, headers={**FHIR, **auth}) as client:
        for path in ("/fhir/metadata", f"/fhir/Patient/{patient_ids[0]}", *SEARCHES):
            client.get(path).raise_for_status()
        answer = client.post("/fhir/QuestionnaireResponse", content=orjson.dumps(patient_response(patient_ids[0])))
        if answer.status_code != 201:
            raise RuntimeError(f"the warm-up's QuestionnaireResponse answered {answer.status_code}: {answer.text}")


def run_memory(opts: SuiteOptions) -> dict[str, Any]:
    _say(f"[{opts.backend}] serving-process memory (ryggrad serve --no-worker) ...")
    bundles = load_bundles(quick=True)
    seconds = opts.latency_duration_s
    with tempfile.TemporaryDirectory(prefix="ryggrad-bench-memory-") as tmp_name:
        tmp = Path(tmp_name)
        with (
            temp_database(opts.backend, tmp / "db") as url,
            ryggrad_server(url, tmp / "data", serve_args=("--no-worker",)) as server,
        ):
            started = memory_mb(server.pid)
            ingest = run_ingest(server.root, bundles, server.auth)
            _warm_up(server.root, server.auth, ingest.patient_ids)
            warm = memory_mb(server.pid)
            _say(f"    after warm-up: {warm['rss_mb']:.0f} MB")
            headers = {"Accept": "application/fhir+json", **server.auth}
            reads = [f"/fhir/Patient/{pid}" for pid in ingest.patient_ids]
            loads = {
                name: run_load(LoadSpec(server.root, paths, headers=headers, duration_s=seconds), opts.wrk).as_json()
                for name, paths in (("reads", reads), ("searches", list(SEARCHES)))
            }
            loaded = memory_mb(server.pid)
            children = _children(server.pid)
            _say(f"    after read and search load: {loaded['rss_mb']:.0f} MB (peak {loaded['peak_mb']:.0f} MB)")
    target = f"< {TARGET_SERVE_RSS_MB:g} MB"
    figures = [
        Figure("Serving process RSS after warm-up, MB", warm["rss_mb"], "MB", target=target,
               met=below(warm["rss_mb"], TARGET_SERVE_RSS_MB)),
        Figure("Serving process RSS after read + search load, MB", loaded["rss_mb"], "MB", target=target,
               met=below(loaded["rss_mb"], TARGET_SERVE_RSS_MB)),
        Figure("Serving process peak RSS (VmHWM), MB", loaded["peak_mb"], "MB", target=target,
               met=below(loaded["peak_mb"], TARGET_SERVE_RSS_MB)),
    ]  # fmt: skip
    return {
        "figures": [f.as_json() for f in figures],
        "details": {
            "at_start": started,
            "after_warm_up": warm,
            "after_load": loaded,
            "resources_ingested": ingest.resources,
            "load_seconds_each": seconds,
            "child_processes": len(children),
            "loads": loads,
        },
    }
