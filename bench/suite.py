"""One backend's run, in order: start ``ryggrad serve --workers N`` (N API processes, one per core, as deploy/ runs
them; with its embedded worker) on a fresh database; ingest the Synthea bundles over HTTP as a bulk loader does
(the hospital and practitioner batches, then the patient transactions N uploads at once); read back what it stored
(the limit's rows); the patient transactions again one upload at a time; read Patients by id (Ryggrad, then the
bare Starlette limit serving the same bytes with as many processes); create Patients; stop the server and drop its
database; then the limits: the stored rows written straight into a fresh database by N streams, and the plain
resource-row insert of earlier runs."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.databases import temp_database
from bench.direct_insert import run_direct_insert
from bench.http_load import LoadResult, LoadSpec, run_load
from bench.ingest import run_concurrent_ingest, run_ingest
from bench.report import ratio
from bench.servers import bare_server, ryggrad_server, server_overrides
from bench.stored_rows import read_stored, run_stored_insert
from bench.synthea import SyntheaBundle, sample_patient

FHIR_HEADERS = {"Accept": "application/fhir+json"}
COPIED_HEADERS = ("etag", "last-modified")


@dataclass(frozen=True)
class Options:
    duration_s: int  # each throughput run
    latency_duration_s: int  # each 1-connection run
    connections: int


def _say(message: str) -> None:
    print(message, flush=True)


def _capture(root: str, paths: list[str], target: Path, auth: dict[str, str]) -> None:
    """Ryggrad's answers to ``paths``, for the bare app to serve byte for byte."""
    captured: dict[str, Any] = {}
    with httpx.Client(base_url=root, timeout=30, headers={**FHIR_HEADERS, **auth}) as client:
        for path in paths:
            response = client.get(path)
            response.raise_for_status()
            headers = {k: response.headers[k] for k in COPIED_HEADERS if k in response.headers}
            captured[path.removeprefix("/fhir/")] = {"body": response.text, "headers": headers}
    target.write_bytes(orjson.dumps(captured))


def _check_same_bytes(root: str, bare_root: str, path: str, auth: dict[str, str]) -> None:
    ours = httpx.get(root + path, headers={**FHIR_HEADERS, **auth})
    bare = httpx.get(bare_root + path, headers=FHIR_HEADERS)
    if ours.content != bare.content or ours.headers["content-type"] != bare.headers["content-type"]:
        raise RuntimeError(f"the bare app does not answer {path} as Ryggrad does")


def _load(label: str, spec: LoadSpec, wrk: str | None) -> LoadResult:
    _say(f"  {label}: {spec.connections} conn., {spec.duration_s} s ...")
    result = run_load(spec, wrk)
    _say(f"    {result.requests_per_s:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms")
    return result


def _warnings(ingest_failed: int, loads: dict[str, LoadResult]) -> list[str]:
    warnings = [f"{ingest_failed} bundle entries failed during ingest"] if ingest_failed else []
    for name, load in loads.items():
        if load.bad_responses or load.socket_errors:
            warnings.append(f"{name}: {load.bad_responses} non-2xx/3xx answers, {load.socket_errors} socket errors")
        if load.tool != "wrk":
            warnings.append(f"{name}: measured with the Python load generator (wrk missing)")
    return warnings


def _reads(
    root: str, paths: list[str], tmp: Path, opts: Options, wrk: str | None, auth: dict[str, str], processes: int
) -> dict[str, LoadResult]:
    def spec(base: str, connections: int, seconds: int, extra: dict[str, str] | None = None) -> LoadSpec:
        headers = {"Accept": "application/fhir+json", **(extra or {})}
        return LoadSpec(base, paths, headers=headers, duration_s=seconds, connections=connections)

    loads = {
        "read": _load("read by id (Ryggrad)", spec(root, opts.connections, opts.duration_s, auth), wrk),
        "read_1conn": _load("read by id (Ryggrad)", spec(root, 1, opts.latency_duration_s, auth), wrk),
    }
    data = tmp / "bare-responses.json"
    _capture(root, paths, data, auth)
    with bare_server(data, tmp / "bare.log", processes) as bare:
        _check_same_bytes(root, bare.root, paths[0], auth)
        loads["bare"] = _load("read by id (bare Starlette)", spec(bare.root, opts.connections, opts.duration_s), wrk)
        loads["bare_1conn"] = _load("read by id (bare Starlette)", spec(bare.root, 1, opts.latency_duration_s), wrk)
    return loads


def _create(
    root: str, bundles: list[SyntheaBundle], opts: Options, wrk: str | None, auth: dict[str, str]
) -> LoadResult:
    body = orjson.dumps(sample_patient(bundles))
    headers = {**FHIR_HEADERS, "Content-Type": "application/fhir+json", **auth}
    probe = httpx.post(root + "/fhir/Patient", content=body, headers=headers, timeout=30)
    if probe.status_code != 201:
        raise RuntimeError(f"POST /fhir/Patient answered {probe.status_code}: {probe.text[:1000]}")
    spec = LoadSpec(root, ["/fhir/Patient"], "POST", body, headers, opts.duration_s, opts.connections)
    return _load("create (POST /fhir/Patient)", spec, wrk)


def _bulk_ingest(root: str, bundles: list[SyntheaBundle], uploads: int, auth: dict[str, str]) -> dict[str, Any]:
    """The batches in order (the transactions refer to their practitioners), then the transactions ``uploads``
    at once: wall-clock time from the first request to the last answer."""
    batches = run_ingest(root, [b for b in bundles if b.kind == "batch"], auth)
    transactions = [b for b in bundles if b.kind == "transaction"]
    resources, seconds = run_concurrent_ingest(root, transactions, uploads, auth)
    total = batches.resources + resources
    elapsed = batches.seconds + seconds
    return {
        "uploads": uploads,
        "resources": total,
        "bundles": len(bundles),
        "seconds": round(elapsed, 3),
        "resources_per_s": round(total / elapsed, 1),
        "batches": batches.as_json(),
        "transactions": {
            "resources": resources,
            "seconds": round(seconds, 3),
            "resources_per_s": round(resources / seconds, 1),
        },
    }


def run_backend(
    backend: str,
    bundles: list[SyntheaBundle],
    opts: Options,
    wrk: str | None,
    quick: bool,
    machine: dict[str, Any],
    processes: int = 1,
) -> dict[str, Any]:
    load_before = [round(x, 2) for x in os.getloadavg()]
    serve_args = ("--workers", str(processes))
    with tempfile.TemporaryDirectory(prefix=f"ryggrad-bench-{backend}-") as tmp_name:
        tmp = Path(tmp_name)
        with temp_database(backend, tmp / "db") as url, ryggrad_server(url, tmp / "data", serve_args) as server:
            _say(f"[{backend}] ryggrad serve --workers {processes} at {server.root} (pid {server.pid})")
            _say(f"  ingest: {sum(b.size for b in bundles):,} resources in {len(bundles)} bundles, {processes} at once")
            bulk = _bulk_ingest(server.root, bundles, processes, server.auth)
            _say(f"    {bulk['resources_per_s']:,.0f} resources/s ({bulk['seconds']:.2f} s)")
            stored = read_stored(url)
            # the patient transactions once more, one upload at a time: the single-stream rate
            transactions = [b for b in bundles if b.kind == "transaction"]
            single = run_ingest(server.root, transactions, server.auth)
            _say(f"    patient transactions again, one upload at a time: {single.per_s:,.0f} resources/s")
            if not single.patient_ids:
                raise RuntimeError("no Patient was created by the ingest")
            paths = [f"/fhir/Patient/{pid}" for pid in single.patient_ids]
            loads = _reads(server.root, paths, tmp, opts, wrk, server.auth, processes)
            loads["create"] = _create(server.root, bundles, opts, wrk, server.auth)
        _say(f"  the limit: the stored rows written straight into a fresh {backend} database, {processes} streams ...")
        with temp_database(backend, tmp / "stored") as url:
            limit = run_stored_insert(url, stored, [b.size for b in bundles], streams=processes)
        _say(f"    {limit.per_s:,.0f} resources/s ({limit.seconds:.2f} s; {stored.index_rows:,} index rows)")
        with temp_database(backend, tmp / "direct") as url:
            direct = run_direct_insert(url, bundles)
        _say(f"    resource rows alone (earlier runs' limit): {direct.per_s:,.0f} resources/s")
    read, bare = loads["read"], loads["bare"]
    result: dict[str, Any] = {
        "backend": backend,
        "quick": quick,
        "machine": machine,
        "settings": {
            "duration_s": opts.duration_s,
            "latency_duration_s": opts.latency_duration_s,
            "connections": opts.connections,
            "bundles": len(bundles),
            "read_ids": len(paths),
            "api_processes": processes,
            "load_average_before": load_before,
            "server_settings_from_env": server_overrides(),
        },
        "ingest": {
            "http": bulk,
            "http_single_upload_transactions": single.as_json(),
            "stored_rows": {**limit.as_json(), "streams": processes, "index_rows": stored.index_rows},
            "direct": direct.as_json(),
            "ratio": ratio(bulk["resources_per_s"], limit.per_s),
        },
        "read": {
            "ryggrad": read.as_json(),
            "bare": bare.as_json(),
            "ryggrad_1conn": loads["read_1conn"].as_json(),
            "bare_1conn": loads["bare_1conn"].as_json(),
            "ratio_rps": ratio(read.requests_per_s, bare.requests_per_s),
            "ratio_p50": ratio(read.p50_ms, bare.p50_ms),
            "ratio_p99": ratio(read.p99_ms, bare.p99_ms),
        },
        "create": {"ryggrad": loads["create"].as_json()},
        "warnings": _warnings(bulk["batches"]["failed_entries"] + single.failed, loads),
    }
    return result
