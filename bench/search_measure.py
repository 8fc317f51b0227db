"""One query measured: the FHIR request over HTTP against ``ryggrad serve`` (following next links for paging), and
its hand-written SQL on the same database, repetition by repetition with varied values; the answers compared.

Each request asks for ``Prefer: handling=strict``, so a parameter the server does not support yet answers 400
instead of being ignored: such a query is reported "not yet supported", as is one whose index rows the load did not
write. The SQL is timed from sending it to having every row (ids and content as text) on the client.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.exc import DBAPIError

from bench.search_draws import Sample, content_sql
from bench.search_queries import Case, QueryDef, Sql

HEADERS = {"Accept": "application/fhir+json", "Prefer": "handling=strict"}
FORM = "application/x-www-form-urlencoded"
WARM_UP = 1  # repetitions run first and not counted


@dataclass
class Answer:
    matches: list[str]  # Type/id in order
    included: set[str] = field(default_factory=set)
    total: int | None = None
    has_next: bool = False


class NotSupported(Exception):
    """The server answered 400 (strict handling): a parameter it does not support yet."""


@dataclass
class Measured:
    http_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    server_sql_ms: list[float] = field(default_factory=list)  # the server's own statements, in-process
    repetitions: int = 0
    compared: int = 0  # pages compared
    mismatches: list[str] = field(default_factory=list)
    empty: int = 0  # repetitions whose SQL page 1 was empty
    unsupported: str | None = None
    error: str | None = None
    walk_ms: list[float] = field(default_factory=list)  # whole paging walks
    pages_walked: list[int] = field(default_factory=list)


# -- HTTP --------------------------------------------------------------------------------------------------------


class FhirClient:
    """One keep-alive connection (``http.client``: about 0.4 ms less per request than httpx, so the figures are
    more the server's and less the client's)."""

    def __init__(self, root: str, timeout_s: float, auth: dict[str, str] | None = None) -> None:
        self.auth = auth or {}
        parts = urlsplit(root)
        self.host, self.port, self.timeout_s = parts.hostname or "127.0.0.1", parts.port or 80, timeout_s
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout_s)

    def send(
        self, method: str, target: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, target, body=body, headers={**HEADERS, **self.auth, **(headers or {})})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def _diagnostics(body: bytes) -> str:
    try:
        issues = orjson.loads(body).get("issue", [])
        return "; ".join(str(i.get("diagnostics", i.get("code", ""))) for i in issues)[:500]
    except (orjson.JSONDecodeError, AttributeError):
        return body[:500].decode(errors="replace")


def _answer(bundle: dict[str, Any]) -> Answer:
    if bundle.get("resourceType") != "Bundle":  # a read
        return Answer([f"{bundle.get('resourceType')}/{bundle.get('id')}"])
    answer = Answer([], total=bundle.get("total"))
    for entry in bundle.get("entry", []):
        resource, mode = entry.get("resource", {}), entry.get("search", {}).get("mode")
        key = f"{resource.get('resourceType')}/{resource.get('id')}"
        if mode == "match":
            answer.matches.append(key)
        elif mode == "include":
            answer.included.add(key)
    answer.has_next = any(link.get("relation") == "next" for link in bundle.get("link", []))
    return answer


def _next_target(bundle: dict[str, Any]) -> str | None:
    url = next((link["url"] for link in bundle.get("link", []) if link.get("relation") == "next"), None)
    if url is None:
        return None
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def http_pages(client: FhirClient, case: Case, pages: int) -> tuple[list[float], list[Answer]]:
    """Page 1, then up to ``pages - 1`` next links; the time of each round trip (body read) in ms."""
    request = case.request
    times: list[float] = []
    answers: list[Answer] = []
    target: str | None = None
    for n in range(pages):
        started = time.perf_counter()
        if n == 0 and request.method == "POST":
            body = urlencode(request.params).encode()
            status, data = client.send("POST", f"/fhir/{request.path}/_search", body, {"Content-Type": FORM})
        elif n == 0:
            query = f"?{urlencode(request.params)}" if request.params else ""
            status, data = client.send("GET", f"/fhir/{request.path}{query}")
        else:
            assert target is not None
            status, data = client.send("GET", target)
        elapsed = (time.perf_counter() - started) * 1000
        if status == 400:
            raise NotSupported(_diagnostics(data))
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {_diagnostics(data)}")
        bundle = orjson.loads(data)
        times.append(elapsed)
        answers.append(_answer(bundle))
        target = _next_target(bundle)
        if target is None:
            break
    return times, answers


# -- SQL ---------------------------------------------------------------------------------------------------------


def _bound(value: Any, dialect: str) -> Any:
    """SQLite stores DateTime as text in SQLAlchemy's format and has no Decimal."""
    if dialect == "sqlite":
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, Decimal):
            return float(value)
    return value


def _execute(conn: Connection, sql: Sql) -> Sequence[Any]:
    dialect = conn.dialect.name
    statement = text(sql.text.replace("{content}", content_sql(dialect)))
    if sql.expanding:
        statement = statement.bindparams(*(bindparam(name, expanding=True) for name in sql.expanding))
    params = {k: _bound(v, dialect) for k, v in sql.params.items()}
    return conn.execute(statement, params).all()


def explain(conn: Connection, sql: Sql, lines: int = 25) -> list[str]:
    """The plan of ``sql`` as run: ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite."""
    dialect = conn.dialect.name
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    rows = _execute(conn, Sql(prefix + sql.text, sql.params, sql.expanding))
    return [str(row[0]) if dialect == "postgresql" else " | ".join(str(v) for v in row) for row in rows][:lines]


def sql_pages(conn: Connection, case: Case, pages: int) -> tuple[list[float], list[Answer]]:
    times: list[float] = []
    answers: list[Answer] = []
    after = None
    for _ in range(pages):
        started = time.perf_counter()
        rows = _execute(conn, case.page(after))
        page = rows[: case.count]
        included = _execute(conn, case.includes(page)) if case.includes and page else []
        total = _execute(conn, case.total)[0][0] if case.total is not None and not answers else None
        times.append((time.perf_counter() - started) * 1000)
        keys = [f"{row.resource_type}/{row.id}" for row in page]
        answers.append(Answer(keys, {f"{r.resource_type}/{r.id}" for r in included}, total, len(rows) > case.count))
        if len(rows) <= case.count:
            break
        after = page[-1]
    return times, answers


# -- comparison --------------------------------------------------------------------------------------------------


def _difference(page: int, ours: Answer, hand: Answer) -> str | None:
    if ours.matches != hand.matches:
        missing = [k for k in hand.matches if k not in ours.matches]
        extra = [k for k in ours.matches if k not in hand.matches]
        order = " (same ids, other order)" if not missing and not extra else ""
        return (
            f"page {page}: {len(ours.matches)} matches over HTTP, {len(hand.matches)} by SQL{order}; "
            f"{len(missing)} missing over HTTP (e.g. {missing[:2]}), {len(extra)} extra (e.g. {extra[:2]})"
        )
    if ours.included != hand.included:
        return (
            f"page {page}: {len(ours.included)} included over HTTP, {len(hand.included)} by SQL; "
            f"missing {sorted(hand.included - ours.included)[:2]}, extra {sorted(ours.included - hand.included)[:2]}"
        )
    if page == 1 and hand.total is not None and ours.total != hand.total:
        return f"total {ours.total} over HTTP, {hand.total} by SQL"
    if ours.has_next != hand.has_next:
        shown = "a next link" if ours.has_next else "no next link"
        return f"page {page}: {shown} over HTTP; SQL has more rows: {hand.has_next}"
    return None


def compare(ours: list[Answer], hand: list[Answer], result: Measured) -> None:
    if len(ours) != len(hand):
        result.mismatches.append(f"{len(ours)} pages over HTTP, {len(hand)} by SQL")
    for n, (a, b) in enumerate(zip(ours, hand, strict=False), start=1):
        result.compared += 1
        difference = _difference(n, a, b)
        if difference:
            result.mismatches.append(difference)
            return


# -- one query ---------------------------------------------------------------------------------------------------


def measure(
    query: QueryDef, sample: Sample, client: FhirClient, conn: Connection, repetitions: int, budget_s: float
) -> Measured:
    """Warm-up, then ``repetitions`` rounds of (HTTP, SQL) with value i; stops early after ``budget_s``."""
    result = Measured()
    started = time.monotonic()
    for i in range(repetitions + WARM_UP):
        try:
            case = query.make(sample, i)
        except LookupError as exc:
            result.error = f"no parameter values: {exc}"
            return result
        http_answers: list[Answer] | None = None
        pages = query.pages if i >= WARM_UP else min(query.pages, 2)  # a warm-up walks two pages at most
        if result.unsupported is None:
            try:
                http_started = time.perf_counter()
                http_times, http_answers = http_pages(client, case, pages)
                walk = (time.perf_counter() - http_started) * 1000
            except NotSupported as exc:
                result.unsupported = f"the server answers 400: {exc}"
            except (RuntimeError, OSError, http.client.HTTPException) as exc:
                result.error = str(exc)[:500]
                return result
        try:
            sql_times, sql_answers = sql_pages(conn, case, pages)
        except DBAPIError as exc:  # e.g. the statement timeout
            result.error = f"hand-written SQL failed: {str(exc.orig)[:300]}"
            return result
        if i < WARM_UP:
            continue
        result.repetitions += 1
        result.sql_ms += sql_times
        if not sql_answers[0].matches:
            result.empty += 1
        if http_answers is not None:
            result.http_ms += http_times
            result.walk_ms.append(walk)
            result.pages_walked.append(len(http_times))
            compare(http_answers, sql_answers, result)
        if time.monotonic() - started > budget_s:
            break
    return result
