"""The existing benches as sections of one suite run: each runs the bench's own code with sizes fit for the suite
and turns its figures into ``Figure`` rows (value, limit measured in the same run, ratio, target, met)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench import (
    TARGET_FLOW_P95_MS,
    TARGET_FLOW_RATE,
    TARGET_INGEST_PER_S,
    TARGET_INGEST_SHARE,
    TARGET_READ_P50_MS,
    TARGET_READ_PER_S,
    TARGET_SEARCH_P95_MS,
)
from bench.figures import Figure, at_least, below
from bench.hand_off_limits import bare_posts, redis_hand_off
from bench.qr_write import parse_median_ms
from bench.suite import Options, run_backend
from bench.suite_options import SuiteOptions
from bench.synthea import load_bundles


def _say(message: str) -> None:
    print(message, flush=True)


def _rows(figures: list[Figure]) -> list[dict[str, Any]]:
    return [f.as_json() for f in figures]


def run_core(opts: SuiteOptions, machine: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """ingest, read and create: ``bench.suite.run_backend`` (one server of ``api_processes`` processes, one
    database; then the limits)."""
    bundles = load_bundles(opts.quick)
    options = Options(opts.duration_s, opts.latency_duration_s, opts.connections)
    processes = opts.api_processes
    r = run_backend(opts.backend, bundles, options, opts.wrk, opts.quick, machine, processes)
    ing, rd, cr = r["ingest"], r["read"], r["create"]["ryggrad"]
    http, limit, direct = ing["http"], ing["stored_rows"], ing["direct"]
    share = ing["ratio"]
    stored_name = f"the stored rows written straight in, {processes} streams"
    ingest = [
        Figure(f"Ingest over HTTP, resources/s ({http['resources']:,} resources, {http['bundles']} bundles; "
               f"{processes} uploads at once, {processes} API processes)", http["resources_per_s"], "resources/s",
               limit["resources_per_s"], stored_name, True,
               f"≥ {TARGET_INGEST_PER_S:,.0f}/s", at_least(http["resources_per_s"], TARGET_INGEST_PER_S)),
        Figure("… the same, as a share of the limit", share, "share", target=f"≥ {TARGET_INGEST_SHARE:.0%}",
               met=at_least(share, TARGET_INGEST_SHARE)),
        Figure("… hospital/practitioner batches (conditional creates, one upload), resources/s",
               http["batches"]["resources_per_s"], "resources/s"),
        Figure("… patient transactions, one upload at a time, resources/s",
               ing["http_single_upload_transactions"]["resources_per_s"], "resources/s"),
        Figure("… limit of earlier runs: resource and history rows alone (no index rows), one stream, resources/s",
               direct["resources_per_s"], "resources/s"),
    ]  # fmt: skip
    ry, bare, ry1, bare1 = rd["ryggrad"], rd["bare"], rd["ryggrad_1conn"], rd["bare_1conn"]
    c = ry["connections"]
    read = [
        Figure(f"Read by id, requests/s ({c} conn.)", ry["requests_per_s"], "req/s", bare["requests_per_s"],
               "bare Starlette, same bytes", True, f"≥ {TARGET_READ_PER_S:,.0f}/s",
               at_least(ry["requests_per_s"], TARGET_READ_PER_S)),
        Figure(f"Read by id, p50 ms ({c} conn.)", ry["p50_ms"], "ms", bare["p50_ms"], "bare Starlette, same bytes",
               False, f"< {TARGET_READ_P50_MS:g} ms", below(ry["p50_ms"], TARGET_READ_P50_MS)),
        Figure(f"Read by id, p95 ms ({c} conn.)", ry.get("p95_ms"), "ms", bare.get("p95_ms"),
               "bare Starlette, same bytes", False),
        Figure("Read by id, p50 ms (1 conn.)", ry1["p50_ms"], "ms", bare1["p50_ms"], "bare Starlette, same bytes",
               False, f"< {TARGET_READ_P50_MS:g} ms", below(ry1["p50_ms"], TARGET_READ_P50_MS)),
        Figure("Read by id, requests/s (1 conn.)", ry1["requests_per_s"], "req/s", bare1["requests_per_s"],
               "bare Starlette, same bytes"),
    ]  # fmt: skip
    create = [
        Figure(f"Create (POST /fhir/Patient), requests/s ({cr['connections']} conn.)", cr["requests_per_s"], "req/s"),
        Figure("Create, p50 ms", cr["p50_ms"], "ms"),
        Figure("Create, p95 ms", cr.get("p95_ms"), "ms"),
    ]
    details = {k: r[k] for k in ("settings", "warnings")}
    return {
        "ingest": {"figures": _rows(ingest), "details": {**details, **ing}},
        "read": {"figures": _rows(read), "details": rd},
        "create": {"figures": _rows(create), "details": r["create"]},
    }


def run_validation(opts: SuiteOptions) -> dict[str, Any]:
    """``bench.profile_validation``: per resource on one core, beside orjson.loads of the same bytes."""
    from bench.profile_validation import EXAMPLES, measure, questionnaire_and_response

    repeat = opts.extra.get("validation_repeat", 200 if opts.quick else 1000)
    _say(f"[validation] {repeat} runs per input ...")
    rows = measure(repeat)
    _, response = questionnaire_and_response()
    bodies = {
        "Patient": (EXAMPLES / "Patient-example-patient.json").read_bytes(),
        "Appointment": (EXAMPLES / "Appointment-example-appointment.json").read_bytes(),
        "QuestionnaireResponse (60 answers)": orjson.dumps(response),
    }
    figures = []
    for row in rows:
        body = orjson.dumps(orjson.loads(bodies[row["input"]]))  # compact, as a client sends it
        parse_ms = parse_median_ms(body, repeat)
        row["json_parse_us"] = parse_ms * 1000
        figures.append(
            Figure(
                f"Validation with profile, µs: {row['input']}",
                row["with_profile_us"],
                "µs",
                parse_ms * 1000,
                "orjson.loads of the same bytes",
                False,
            )
        )
        figures.append(
            Figure(
                f"… R4 rules only, µs: {row['input']}",
                row["r4_rules_us"],
                "µs",
                row["fhir_resources_parse_us"],
                "fhir.resources R4B model parse (a comparison)",
                False,
            )
        )
    return {"figures": _rows(figures), "details": {"repeat": repeat, "rows": rows}}


def run_search_section(opts: SuiteOptions, machine: dict[str, Any]) -> dict[str, Any]:
    """``bench.search_suite``: the query set over HTTP beside the hand-written SQL for the same page."""
    from bench.population import size_label
    from bench.search_suite import run_search

    result = run_search(opts.backend, opts.size, opts.seed, opts.repetitions, machine, False, opts.database_url)
    at = size_label(opts.size)
    target = f"< {TARGET_SEARCH_P95_MS:g} ms (at 1M{'' if opts.size >= 1_000_000 else f'; here {at}'})"
    figures = []
    for row in result["queries"]:
        http, sql = row["http"] or {}, row["sql"] or {}
        label = f"Search p95 ms: {row['key']}{' (exempt)' if row['exempt'] else ''} — {row['status']}"
        p95 = http.get("p95_ms")
        figures.append(
            Figure(
                label,
                p95,
                "ms",
                sql.get("p95_ms"),
                "hand-written SQL, same page",
                False,
                target,
                below(p95, TARGET_SEARCH_P95_MS),
            )
        )
    details = {k: v for k, v in result.items() if k != "machine"}
    return {"figures": _rows(figures), "details": details}


def _flow_setup(backend: str) -> str:
    return "redis" if backend == "postgresql" else "embedded"


def run_flow(opts: SuiteOptions) -> dict[str, Any]:
    """``bench.registry_flow`` at 200 appointments/s: PostgreSQL + Redis (production), or SQLite + the filesystem
    transport; the limit (Redis set-up) is the broker hand-off alone at the same pace."""
    from bench.registry_flow import run

    appointments = opts.extra.get("flow_appointments", 400 if opts.quick else 2000)
    setup = _flow_setup(opts.backend)
    _say(f"[flow] {appointments} appointments at {TARGET_FLOW_RATE:g}/s, setup {setup} ...")
    result = run(setup, appointments, 20, TARGET_FLOW_RATE)
    limit = redis_hand_off(min(appointments, 1000), TARGET_FLOW_RATE) if setup == "redis" else None
    name = "Redis hand-off, same pace" if limit else ""
    p95, pushed = result["push_to_task_p95_ms"], result["push_per_s"]
    paced = pushed is not None and pushed >= 0.95 * TARGET_FLOW_RATE  # a slower push proves nothing
    figures = [
        Figure(f"Appointments pushed per second ({appointments}, paced at {TARGET_FLOW_RATE:g}/s; the bench's own "
               "in-process transactions)", pushed, "appointments/s", target=f"≥ {TARGET_FLOW_RATE:g}/s",
               met=paced),
        Figure(f"Appointment push → Task, p95 ms ({setup}; at the rate reached)", p95, "ms",
               limit and limit["p95_ms"], name, False,
               f"< {TARGET_FLOW_P95_MS:g} ms at {TARGET_FLOW_RATE:g}/s",
               bool(below(p95, TARGET_FLOW_P95_MS)) and paced),
        Figure("Appointment push → Task, p50 ms", result["push_to_task_p50_ms"], "ms", limit and limit["p50_ms"],
               name, False),
        Figure("Tasks created per second, sustained (middle 80 %)", result["sustained_tasks_per_s"], "Tasks/s"),
    ]  # fmt: skip
    return {
        "figures": _rows(figures),
        "details": {**{k: v for k, v in result.items() if k != "machine"}, "limit": limit},
    }


def run_notifications(opts: SuiteOptions) -> dict[str, Any]:
    """``bench.notifications``: latency (one change every 50 ms), a burst, and (not --quick) reliability with
    failures injected; the limit is a bare POST to the same receiver."""
    from bench import notifications as n
    from bench.databases import temp_database
    from tests.subscriptions.receiver import Receiver

    setup_kind = _flow_setup(opts.backend)
    count = opts.extra.get("notification_changes", 60 if opts.quick else 200)
    burst = 200 if opts.quick else 1000
    reliability = 0 if opts.quick else 1000
    _say(f"[notifications] setup {setup_kind}: {count} changes for latency, burst {burst} ...")
    with (
        tempfile.TemporaryDirectory(prefix="ryggrad-bench-notify-") as tmp,
        temp_database(opts.backend, Path(tmp)) as url,
    ):
        setup = n.Setup(setup_kind, Path(tmp), url)
        receiver = Receiver()
        try:
            latency = n.latency(setup, receiver, count)
            limit = bare_posts(receiver, count)
            throughput = n.throughput(setup, receiver, burst)
            reliable = n.reliability(setup, receiver, reliability) if reliability else None
        finally:
            receiver.stop()
            setup.close()
    figures = [
        Figure(f"Notification latency, commit → arrival, p95 ms ({setup_kind})", latency["p95_ms"], "ms",
               limit["p95_ms"], "bare POST to the same receiver", False, "< 500 ms (issue 7)",
               below(latency["p95_ms"], 500.0)),
        Figure("Notification latency, p50 ms", latency["p50_ms"], "ms", limit["p50_ms"],
               "bare POST to the same receiver", False),
        Figure(f"Notifications per second, burst of {burst}", throughput["notifications_per_s"], "notifications/s"),
    ]  # fmt: skip
    if reliable:
        lost = reliable["criteria_based"]["lost"] + reliable["topic_based_bundles"]["lost"]
        twice = reliable["criteria_based"]["duplicated"] + reliable["topic_based_bundles"]["duplicated"]
        figures.append(
            Figure(
                f"Reliability: lost + duplicated of {reliability} changes x 2 subscriptions (5 % failures, 3 s outage)",
                lost + twice,
                "notifications",
                target="0",
                met=lost + twice == 0,
            )
        )
    details = {"latency": latency, "limit": limit, "throughput": throughput, "reliability": reliable}
    return {"figures": _rows(figures), "details": details}


def run_indicators(opts: SuiteOptions) -> dict[str, Any]:
    """``bench.indicators``: every NNRR Measure over a synthetic registry (no limit is measured)."""
    from bench.indicators import TARGET_S
    from bench.indicators import run_backend as indicators_backend

    episodes = opts.extra.get("episodes", 2_000 if opts.quick else 20_000)
    _say(f"[indicators] {episodes:,} episodes ...")
    with tempfile.TemporaryDirectory(prefix="ryggrad-bench-indicators-") as tmp:
        r = indicators_backend(opts.backend, episodes, 40, 1000 if not opts.quick else 100, Path(tmp))
    best = min(r["evaluate_seconds"], r["evaluate_again_seconds"])
    target = f"< {TARGET_S:g} s at 100k episodes" + ("" if episodes >= 100_000 else f" (here {episodes:,})")
    figures = [
        Figure(f"Indicators: evaluate every NNRR Measure, s ({episodes:,} episodes, {r['resources']:,} resources)",
               best, "s", target=target, met=below(best, TARGET_S)),
        Figure("Indicators: first full materialization of their views, s", r["full_materialization_seconds"], "s"),
        Figure(f"Indicators: evaluate again after {r['changes']:,} changes, s", r["incremental_evaluate_seconds"], "s"),
    ]  # fmt: skip
    return {"figures": _rows(figures), "details": r}


def run_views(opts: SuiteOptions) -> dict[str, Any]:
    """``bench.views_runner`` (in memory) and ``bench.views_materialize`` (on the backend)."""
    from bench.views_materialize import run_backend as materialize
    from bench.views_runner import PER_ANSWER_VIEW, PER_RESPONSE_VIEW, measure, synthetic_responses

    responses = synthetic_responses(2_000 if opts.quick else 10_000, 12)
    runner = [measure(view, responses, 2) for view in (PER_RESPONSE_VIEW, PER_ANSWER_VIEW)]
    resources = 2_000 if opts.quick else 20_000
    _say(f"[views] runner over {len(responses):,} responses; materialize {resources:,} episodes ...")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ryggrad-bench-views-") as tmp:
        m = materialize(opts.backend, resources, 200 if opts.quick else 1000, Path(tmp))
    figures = [Figure(f"View runner '{r['view']}', rows/s (in memory)", r["rows_per_s"], "rows/s") for r in runner] + [
        Figure(f"View materialize, full, rows/s ({resources:,} episodes)", m["full"]["rows_per_s"], "rows/s"),
        Figure(f"View materialize, incremental after {m['updates']:,} updates, s", m["incremental"]["seconds"], "s"),
    ]
    details = {"runner": runner, "materialize": m, "seconds": round(time.perf_counter() - started, 1)}
    return {"figures": _rows(figures), "details": details}
