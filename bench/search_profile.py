"""Where the time of a slow query goes: the same request run in-process (``FhirServer.execute``, no HTTP) with every
SQL statement timed by SQLAlchemy events; the slowest statements shown with their PostgreSQL plan
(``EXPLAIN (ANALYZE, BUFFERS)``) or SQLite's ``EXPLAIN QUERY PLAN``."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import event

from bench.search_queries import Case
from fhir_server.rest.messages import FhirRequest
from fhir_server.server import FhirServer

SLOWEST = 2
_PERSON_NUMBER = re.compile(r"\b\d{11}\b")  # synthetic FNRs in plans: kept out of reports all the same
PLAN_LINES = 25
SQL_CHARS = 1500


@dataclass
class Statement:
    ms: float
    sql: str
    parameters: Any


@dataclass
class _Recorder:
    statements: list[Statement] = field(default_factory=list)
    started: dict[int, float] = field(default_factory=dict)

    def before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        self.started[id(cursor)] = time.perf_counter()

    def after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        began = self.started.pop(id(cursor), None)
        if began is not None:
            self.statements.append(Statement((time.perf_counter() - began) * 1000, statement, parameters))


def _requests(server: FhirServer, case: Case, pages: int) -> list[float]:
    """Run the case's pages in-process; the time of each in ms."""
    path, query = case.request.path, list(case.request.params)
    times: list[float] = []
    for _ in range(pages):
        started = time.perf_counter()
        response = server.execute(FhirRequest("GET", path, query, {"prefer": "handling=strict"}))
        times.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"in-process search answered {response.status}")
        links = (response.resource or {}).get("link", [])
        next_url = next((link["url"] for link in links if link.get("relation") == "next"), None)
        if next_url is None:
            break
        query = parse_qsl(urlsplit(next_url).query)
    return times


def _plan(server: FhirServer, statement: Statement) -> list[str]:
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if server.db.is_postgres else "EXPLAIN QUERY PLAN "
    raw = server.db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(prefix + statement.sql, statement.parameters)
        rows = cursor.fetchall()
        cursor.close()
    finally:
        raw.close()
    lines = [str(row[0]) if server.db.is_postgres else " | ".join(str(v) for v in row) for row in rows]
    return mask(lines[:PLAN_LINES])


def mask(lines: list[str]) -> list[str]:
    """Plan lines with 11-digit numbers (person numbers) replaced by ``<fnr>``."""
    return [_PERSON_NUMBER.sub("<fnr>", line) for line in lines]


def _recorded(server: FhirServer, case: Case, pages: int) -> tuple[list[float], _Recorder]:
    """The case's pages run in-process with every statement timed."""
    recorder = _Recorder()
    engine = server.db.engine
    event.listen(engine, "before_cursor_execute", recorder.before)
    event.listen(engine, "after_cursor_execute", recorder.after)
    try:
        return _requests(server, case, pages), recorder
    finally:
        event.remove(engine, "before_cursor_execute", recorder.before)
        event.remove(engine, "after_cursor_execute", recorder.after)


def server_sql_ms(server: FhirServer, case: Case, pages: int) -> float:
    """The time the server's own statements take for one request (per page: the average over ``pages``), run
    in-process: the search engine's SQL, to compare with the hand-written SQL for the same answer."""
    times, recorder = _recorded(server, case, pages)
    return sum(s.ms for s in recorder.statements) / max(1, len(times))


def profile(server: FhirServer, case: Case, pages: int) -> dict[str, Any]:
    """In-process time, time in SQL, statement count and the slowest statements with their plans."""
    server.execute(FhirRequest("GET", case.request.path, list(case.request.params), {"prefer": "handling=strict"}))
    times, recorder = _recorded(server, case, pages)
    sql_ms = sum(s.ms for s in recorder.statements)
    slowest = sorted(recorder.statements, key=lambda s: -s.ms)[:SLOWEST]
    return {
        "requests": len(times),
        "in_process_ms": round(sum(times), 2),
        "sql_ms": round(sql_ms, 2),
        "python_ms": round(sum(times) - sql_ms, 2),
        "statements": len(recorder.statements),
        "slowest": [
            {"ms": round(s.ms, 2), "sql": " ".join(s.sql.split())[:SQL_CHARS], "plan": _plan(server, s)}
            for s in slowest
        ],
    }
