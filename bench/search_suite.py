"""The search benchmark on one backend, in order: a fresh database; the synthetic population loaded in-process
(``FhirServer.execute``: validation, references, indexing) and analysed; parameter values drawn from it; then
``ryggrad serve`` on that database and each query measured over HTTP beside its hand-written SQL; the slow ones
profiled in-process. The server is stopped and the database dropped at the end, whatever happens."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, text

from bench import postgres_state
from bench.databases import temp_database
from bench.machine import git_commit
from bench.population import Population, size_label
from bench.population_load import LoadReport, analyze, bench_server, database_bytes, load_population
from bench.search_draws import content_sql, draw_sample, empty_kinds
from bench.search_measure import WARM_UP, FhirClient, Measured, explain, measure
from bench.search_profile import mask, profile, server_sql_ms
from bench.search_queries import QUERIES, QueryDef
from bench.search_stats import summary
from bench.servers import ryggrad_server, server_overrides

QUERY_BUDGET_S = 120.0  # per query; the repetitions stop early beyond it
HTTP_TIMEOUT_S = 60.0
STATEMENT_TIMEOUT_MS = 60_000


def _say(message: str) -> None:
    print(message, flush=True)


@contextmanager
def _lower_bound_connection(url: str) -> Iterator[Connection]:
    """A plain connection for the hand-written SQL (autocommit on PostgreSQL, as the server reads)."""
    if url.startswith("postgresql"):
        engine = create_engine(
            url, isolation_level="AUTOCOMMIT", connect_args={"options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"}
        )
    else:
        engine = create_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _missing_index_rows(conn: Connection, query: QueryDef) -> list[str]:
    missing = []
    for table, resource_type, param in query.needs:
        sql = text(f"SELECT 1 FROM {table} WHERE resource_type = :t AND param = :p LIMIT 1")
        if conn.execute(sql, {"t": resource_type, "p": param}).first() is None:
            missing.append(f"{resource_type}.{param} ({table})")
    return missing


def _needs_profile(row: dict[str, Any]) -> bool:
    if row["status"] not in ("ok", "mismatch"):
        return False
    return row["exempt"] or not row["meets_p95"] or not row["meets_ratio"]


@contextmanager
def _database(backend: str, folder: Path, existing_url: str | None) -> Iterator[str]:
    if existing_url:
        yield existing_url  # loaded before, kept afterwards
        return
    with temp_database(backend, folder) as url:
        yield url


def run_search(
    backend: str,
    size: int,
    seed: int,
    repetitions: int,
    machine: dict[str, Any],
    load_only: bool = False,
    existing_url: str | None = None,
    warm: bool = False,
) -> dict[str, Any]:
    """``existing_url``: a database kept afterwards: loaded with this population (size, seed) before, or with
    ``load_only``, an empty one to load into. ``warm``: PostgreSQL's buffer cache is prewarmed before the
    queries (``postgres_state.prewarm``)."""
    result: dict[str, Any] = {
        "backend": backend,
        "size": size,
        "size_label": size_label(size),
        "seed": seed,
        "machine": machine,
        "settings": {
            "repetitions": repetitions,
            "warm_up": WARM_UP,
            "query_budget_s": QUERY_BUDGET_S,
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
            "server_settings_from_env": server_overrides(),
            "existing_database": bool(existing_url),
        },
        "load": None,
    }
    with tempfile.TemporaryDirectory(prefix=f"ryggrad-bench-search-{backend}-") as tmp_name:
        tmp = Path(tmp_name)
        with _database(backend, tmp / "db", existing_url) as url:
            server = bench_server(url, tmp / "data")
            try:
                if not existing_url or load_only:
                    result["load"] = _load(server, Population(size, seed), backend).as_json()
                if url.startswith("postgresql"):
                    with _lower_bound_connection(url) as conn:
                        result["settings"]["postgresql"] = postgres_state.settings(conn)
                        if warm and not load_only:
                            _say("[postgresql] prewarming the buffer cache ...")
                            result["settings"]["prewarmed"] = postgres_state.prewarm(conn)
                if not load_only:
                    result["settings"]["server_commit"] = git_commit()  # the code `ryggrad serve` runs
                    result["queries"] = _measure_all(url, server, seed, repetitions, tmp)
            finally:
                server.close()
    return result


def _load(server: Any, population: Population, backend: str) -> LoadReport:
    _say(f"[{backend}] loading {population.size:,} resources in-process (seed {population.seed}) ...")
    load = load_population(server, population, label=f"loading {size_label(population.size)}")
    _say(f"    {load.per_s:,.0f} resources/s in FhirServer.execute ({load.execute_s:.1f} s); analysing ...")
    load.analyze_s = analyze(server.db)
    load.database_bytes = database_bytes(server.db)
    return load


def _measure_all(url: str, server: Any, seed: int, repetitions: int, tmp: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with _lower_bound_connection(url) as conn:
        sample = draw_sample(conn, seed, repetitions + WARM_UP)
        if empty_kinds(sample):
            _say(f"    no values drawn for: {', '.join(empty_kinds(sample))}")
        with ryggrad_server(url, tmp / "serve") as http_server:
            _say(f"    ryggrad serve at {http_server.root} (pid {http_server.pid}), commit {git_commit()}")
            client = FhirClient(http_server.root, HTTP_TIMEOUT_S, http_server.auth)
            try:
                status, _ = client.send("GET", "/fhir/metadata")  # the server's imports and caches warm
                if status != 200:
                    raise RuntimeError(f"GET /fhir/metadata answered {status}")
                for query in QUERIES:
                    missing = _missing_index_rows(conn, query)
                    measured = measure(query, sample, client, conn, repetitions, QUERY_BUDGET_S)
                    measured.server_sql_ms = _server_sql(server, query, sample, measured.repetitions)
                    row = summary(query, measured, missing, _sql_template(query, sample, conn.dialect.name))
                    _say(_line(row))
                    rows.append(row)
            finally:
                client.close()
        for query, row in zip(QUERIES, rows, strict=True):
            if _needs_profile(row):
                row["profile"] = _profile(server, conn, query, sample)
    return rows


def _server_sql(server: Any, query: QueryDef, sample: Any, repetitions: int) -> list[float]:
    """The server's statements for the same repetitions, timed in-process (nothing when they cannot run)."""
    times: list[float] = []
    try:
        for i in range(WARM_UP, WARM_UP + repetitions):
            times.append(server_sql_ms(server, query.make(sample, i), query.pages))
    except Exception:  # a failing query is reported by the HTTP measurement
        return []
    return times


def _profile(server: Any, conn: Connection, query: QueryDef, sample: Any) -> dict[str, Any]:
    """The server's statements in-process, and the plan of the hand-written SQL for the same values."""
    case = query.make(sample, WARM_UP)
    try:
        found = profile(server, case, query.pages)
        found["hand_written_plan"] = mask(explain(conn, case.page(None)))
        return found
    except Exception as exc:  # a profile is an aid; it never fails the run
        return {"error": str(exc)[:500]}


def _sql_template(query: QueryDef, sample: Any, dialect: str) -> str | None:
    """The SQL of the first repetition, as sent (parameters as ``:name``)."""
    try:
        case = query.make(sample, 0)
    except LookupError:
        return None
    parts = [case.page(None).text]
    if case.total is not None:
        parts.append(case.total.text)
    if case.includes is not None:
        parts.append(case.includes([]).text)
    return ";\n".join(parts).replace("{content}", content_sql(dialect))


def _line(row: dict[str, Any]) -> str:
    http, sql = row["http"], row["sql"]
    figures = f"p50 {http['p50_ms']:.1f} ms, p95 {http['p95_ms']:.1f} ms" if http else "HTTP n/a"
    lower = f"SQL p50 {sql['p50_ms']:.2f} ms" if sql else "SQL n/a"
    return f"  {row['key']:15} {row['status']:18} {figures}; {lower}"


__all__ = ["Measured", "run_search"]
