"""Validated QuestionnaireResponse writes over HTTP: a patient's completed NNRR pre-consultation form (104 items of
the registry's own Questionnaire, the answers a patient gives: ODI, pain scales, work status) POSTed — and PUT
again — to ``ryggrad serve``, which validates it against the R4 rules, the registry profile and the Questionnaire
before storing it. Beside it, in the same run: ``orjson.loads`` of the same bytes (the parse every server must do)
and the bare Starlette app accepting the same POST/PUT (HTTP + parse, no validation, no storage)."""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import TARGET_QR_WRITE_P50_MS
from bench.databases import temp_database
from bench.figures import Figure, below
from bench.http_load import LoadResult, LoadSpec, run_load
from bench.servers import bare_server, ryggrad_server
from bench.suite_options import SuiteOptions
from tests.indicators.cohort import _patient_answers, form, response

FORM = "nnrr-pre-consultation"
FHIR = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}


def patient_response(patient_id: str, seed: int = 7) -> dict[str, Any]:
    """A completed pre-consultation form as the portal sends it for ``patient_id``, with realistic answers."""
    rng = random.Random(seed)
    work = {"sick-leave", rng.choice(["working", "aap", "unemployed"])}  # sick leave: its percentage asked
    answers = _patient_answers(2 * rng.randint(5, 35), rng.randint(0, 10), rng.randint(0, 10), work, 50)
    written = response(form(FORM), answers)
    return {
        **written,
        "subject": {"reference": f"Patient/{patient_id}"},
        "author": {"reference": f"Patient/{patient_id}"},
        "authored": "2026-11-30T18:30:00+01:00",
    }


def parse_median_ms(body: bytes, repeat: int) -> float:
    for _ in range(min(50, repeat)):
        orjson.loads(body)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        orjson.loads(body)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _say(message: str) -> None:
    print(message, flush=True)


def _load(label: str, spec: LoadSpec, wrk: str | None) -> LoadResult:
    result = run_load(spec, wrk)
    _say(f"    {label}: {result.requests_per_s:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p95 {result.p95_ms} ms")
    if result.bad_responses or result.socket_errors:
        raise RuntimeError(f"{label}: {result.bad_responses} bad answers, {result.socket_errors} socket errors")
    return result


def _probe(client: httpx.Client, method: str, path: str, body: bytes, expected: int) -> dict[str, Any]:
    answer = client.request(method, path, content=body, headers=FHIR)
    if answer.status_code != expected:
        raise RuntimeError(f"{method} {path} answered {answer.status_code}: {answer.text[:1500]}")
    return dict(answer.json())


def run_qr_write(opts: SuiteOptions) -> dict[str, Any]:
    _say(f"[{opts.backend}] validated QuestionnaireResponse write ...")
    with tempfile.TemporaryDirectory(prefix="ryggrad-bench-qr-") as tmp_name:
        tmp = Path(tmp_name)
        with temp_database(opts.backend, tmp / "db") as url, ryggrad_server(url, tmp / "data") as server:
            with httpx.Client(base_url=server.root, timeout=30, headers=server.auth) as client:
                patient = _probe(client, "POST", "/fhir/Patient", b'{"resourceType":"Patient"}', 201)
                body = orjson.dumps(patient_response(patient["id"]))
                stored = _probe(client, "POST", "/fhir/QuestionnaireResponse", body, 201)
                put_body = orjson.dumps({**orjson.loads(body), "id": stored["id"]})
                put_path = f"/fhir/QuestionnaireResponse/{stored['id']}"
                _probe(client, "PUT", put_path, put_body, 200)

            def spec(root: str, method: str, path: str, payload: bytes, connections: int, auth: bool) -> LoadSpec:
                headers = {**FHIR, **(server.auth if auth else {})}
                seconds = opts.latency_duration_s if connections == 1 else opts.duration_s
                return LoadSpec(root, [path], method, payload, headers, seconds, connections)

            ours = {
                "post_1conn": _load(
                    "POST (Ryggrad, 1 conn.)",
                    spec(server.root, "POST", "/fhir/QuestionnaireResponse", body, 1, True),
                    opts.wrk,
                ),
                "put_1conn": _load(
                    "PUT (Ryggrad, 1 conn.)", spec(server.root, "PUT", put_path, put_body, 1, True), opts.wrk
                ),
                "post": _load(
                    f"POST (Ryggrad, {opts.connections} conn.)",
                    spec(server.root, "POST", "/fhir/QuestionnaireResponse", body, opts.connections, True),
                    opts.wrk,
                ),
            }
        (tmp / "no-reads.json").write_text("{}")
        with bare_server(tmp / "no-reads.json", tmp / "bare.log") as bare:
            with httpx.Client(base_url=bare.root, timeout=30) as client:
                _probe(client, "POST", "/fhir/QuestionnaireResponse", body, 201)
            limits = {
                "post_1conn": _load(
                    "POST (bare Starlette, 1 conn.)",
                    spec(bare.root, "POST", "/fhir/QuestionnaireResponse", body, 1, False),
                    opts.wrk,
                ),
                "put_1conn": _load(
                    "PUT (bare Starlette, 1 conn.)", spec(bare.root, "PUT", put_path, put_body, 1, False), opts.wrk
                ),
                "post": _load(
                    f"POST (bare Starlette, {opts.connections} conn.)",
                    spec(bare.root, "POST", "/fhir/QuestionnaireResponse", body, opts.connections, False),
                    opts.wrk,
                ),
            }
    parse_ms = parse_median_ms(body, 2000)
    post1, put1, post = ours["post_1conn"], ours["put_1conn"], ours["post"]
    bare1, bare_put1, bare_post = limits["post_1conn"], limits["put_1conn"], limits["post"]
    figures = [
        Figure("POST, p50 ms (1 conn.)", post1.p50_ms, "ms", bare1.p50_ms, "bare Starlette POST", False,
               f"< {TARGET_QR_WRITE_P50_MS:g} ms", below(post1.p50_ms, TARGET_QR_WRITE_P50_MS)),
        Figure("POST, p95 ms (1 conn.)", post1.p95_ms, "ms", bare1.p95_ms, "bare Starlette POST", False),
        Figure("POST, p50 ms, beside the JSON parse alone", post1.p50_ms, "ms", parse_ms,
               "orjson.loads of the same body", False),
        Figure("PUT (update), p50 ms (1 conn.)", put1.p50_ms, "ms", bare_put1.p50_ms, "bare Starlette PUT", False,
               f"< {TARGET_QR_WRITE_P50_MS:g} ms", below(put1.p50_ms, TARGET_QR_WRITE_P50_MS)),
        Figure("PUT (update), p95 ms (1 conn.)", put1.p95_ms, "ms", bare_put1.p95_ms, "bare Starlette PUT", False),
        Figure(f"POST, requests/s ({opts.connections} conn.)", post.requests_per_s, "req/s",
               bare_post.requests_per_s, "bare Starlette POST"),
        Figure(f"POST, p95 ms ({opts.connections} conn.)", post.p95_ms, "ms", bare_post.p95_ms,
               "bare Starlette POST", False),
    ]  # fmt: skip
    return {
        "figures": [f.as_json() for f in figures],
        "details": {
            "questionnaire": FORM,
            "body_bytes": len(body),
            "json_parse_median_ms": round(parse_ms, 4),
            "ryggrad": {k: v.as_json() for k, v in ours.items()},
            "bare": {k: v.as_json() for k, v in limits.items()},
        },
    }
