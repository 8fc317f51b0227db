"""Validated QuestionnaireResponse writes over HTTP: a patient's completed NNRR pre-consultation form (104 items of
the registry's own Questionnaire, the answers a patient gives: ODI, pain scales, work status) POSTed — and PUT
again — to ``ryggrad serve``, which validates it against the R4 rules, the registry profile and the Questionnaire
before storing it. Measured against the API process alone (``--no-worker``: the write path) and, for POST, against
``ryggrad serve`` as ``make run`` starts it (its embedded worker scores each completed response on the same cores).
Beside it, in the same run: ``orjson.loads`` of the same bytes (the parse every server must do) and the bare
Starlette app accepting the same POST/PUT (HTTP + parse, no validation, no storage)."""

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


QR_PATH = "/fhir/QuestionnaireResponse"
#: `ryggrad serve` as `make run` starts it (an embedded worker that scores each completed response on the same
#: cores), and the API process alone (`--no-worker`: the write path itself; production runs workers apart).
SERVER_SETUPS = {"api-only": ("--no-worker",), "embedded-worker": ()}


class Bodies:
    """The request bodies: a new response (POST) and an update of the one stored first (PUT)."""

    def __init__(self, post: bytes, put: bytes, put_path: str) -> None:
        self.post, self.put, self.put_path = post, put, put_path


def _spec(opts: SuiteOptions, root: str, method: str, path: str, payload: bytes, connections: int,
          auth: dict[str, str]) -> LoadSpec:  # fmt: skip
    seconds = opts.latency_duration_s if connections == 1 else opts.duration_s
    return LoadSpec(root, [path], method, payload, {**FHIR, **auth}, seconds, connections)


def _prepare(root: str, auth: dict[str, str]) -> Bodies:
    with httpx.Client(base_url=root, timeout=30, headers=auth) as client:
        patient = _probe(client, "POST", "/fhir/Patient", b'{"resourceType":"Patient"}', 201)
        body = orjson.dumps(patient_response(patient["id"]))
        stored = _probe(client, "POST", QR_PATH, body, 201)
        bodies = Bodies(body, orjson.dumps({**orjson.loads(body), "id": stored["id"]}), f"{QR_PATH}/{stored['id']}")
        _probe(client, "PUT", bodies.put_path, bodies.put, 200)
    return bodies


def _measure(opts: SuiteOptions, root: str, auth: dict[str, str], bodies: Bodies, label: str,
             everything: bool) -> dict[str, LoadResult]:  # fmt: skip
    """POST on one connection; with ``everything``, PUT on one and POST on ``opts.connections`` too."""
    found = {
        "post_1conn": _load(f"POST ({label}, 1 conn.)", _spec(opts, root, "POST", QR_PATH, bodies.post, 1, auth),
                            opts.wrk),
    }  # fmt: skip
    if everything:
        put = _spec(opts, root, "PUT", bodies.put_path, bodies.put, 1, auth)
        found["put_1conn"] = _load(f"PUT ({label}, 1 conn.)", put, opts.wrk)
        many = _spec(opts, root, "POST", QR_PATH, bodies.post, opts.connections, auth)
        found["post"] = _load(f"POST ({label}, {opts.connections} conn.)", many, opts.wrk)
    return found


def run_qr_write(opts: SuiteOptions) -> dict[str, Any]:
    _say(f"[{opts.backend}] validated QuestionnaireResponse write ...")
    ours: dict[str, dict[str, LoadResult]] = {}
    with tempfile.TemporaryDirectory(prefix="ryggrad-bench-qr-") as tmp_name:
        tmp = Path(tmp_name)
        for setup, serve_args in SERVER_SETUPS.items():
            with (
                temp_database(opts.backend, tmp / setup / "db") as url,
                ryggrad_server(url, tmp / setup / "data", serve_args) as server,
            ):
                bodies = _prepare(server.root, server.auth)
                ours[setup] = _measure(opts, server.root, server.auth, bodies, f"Ryggrad {setup}", setup == "api-only")
        (tmp / "no-reads.json").write_text("{}")
        with bare_server(tmp / "no-reads.json", tmp / "bare.log") as bare:
            with httpx.Client(base_url=bare.root, timeout=30) as client:
                _probe(client, "POST", QR_PATH, bodies.post, 201)
            limits = _measure(opts, bare.root, {}, bodies, "bare Starlette", True)
    parse_ms = parse_median_ms(bodies.post, 2000)
    alone, embedded = ours["api-only"], ours["embedded-worker"]["post_1conn"]
    post1, put1, post = alone["post_1conn"], alone["put_1conn"], alone["post"]
    bare1, bare_put1, bare_post = limits["post_1conn"], limits["put_1conn"], limits["post"]
    target = f"< {TARGET_QR_WRITE_P50_MS:g} ms"
    figures = [
        Figure("POST, p50 ms (1 conn.; API process alone)", post1.p50_ms, "ms", bare1.p50_ms, "bare Starlette POST",
               False, target, below(post1.p50_ms, TARGET_QR_WRITE_P50_MS)),
        Figure("POST, p95 ms (1 conn.; API process alone)", post1.p95_ms, "ms", bare1.p95_ms, "bare Starlette POST",
               False),
        Figure("POST, p50 ms, beside the JSON parse alone", post1.p50_ms, "ms", parse_ms,
               "orjson.loads of the same body", False),
        Figure("PUT (update), p50 ms (1 conn.; API process alone)", put1.p50_ms, "ms", bare_put1.p50_ms,
               "bare Starlette PUT", False, target, below(put1.p50_ms, TARGET_QR_WRITE_P50_MS)),
        Figure("PUT (update), p95 ms (1 conn.; API process alone)", put1.p95_ms, "ms", bare_put1.p95_ms,
               "bare Starlette PUT", False),
        Figure(f"POST, requests/s ({opts.connections} conn.; API process alone)", post.requests_per_s, "req/s",
               bare_post.requests_per_s, "bare Starlette POST"),
        Figure(f"POST, p95 ms ({opts.connections} conn.; API process alone)", post.p95_ms, "ms", bare_post.p95_ms,
               "bare Starlette POST", False),
        Figure("POST, p50 ms (1 conn.; with the embedded worker scoring each response)", embedded.p50_ms, "ms",
               bare1.p50_ms, "bare Starlette POST", False, target, below(embedded.p50_ms, TARGET_QR_WRITE_P50_MS)),
        Figure("POST, p95 ms (1 conn.; with the embedded worker)", embedded.p95_ms, "ms", bare1.p95_ms,
               "bare Starlette POST", False),
    ]  # fmt: skip
    return {
        "figures": [f.as_json() for f in figures],
        "details": {
            "questionnaire": FORM,
            "body_bytes": len(bodies.post),
            "json_parse_median_ms": round(parse_ms, 4),
            "ryggrad": {setup: {k: v.as_json() for k, v in runs.items()} for setup, runs in ours.items()},
            "bare": {k: v.as_json() for k, v in limits.items()},
        },
    }
