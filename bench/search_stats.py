"""Latency figures of one query (p50/p95 by nearest rank), its status and whether it meets the targets."""

from __future__ import annotations

import math
from typing import Any

from bench.search_measure import Measured
from bench.search_queries import QueryDef

TARGET_P95_MS = 50.0
TARGET_RATIO = 3.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def figures(values: list[float]) -> dict[str, Any] | None:
    if not values:
        return None
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 0.5), 3),
        "p95_ms": round(percentile(values, 0.95), 3),
        "mean_ms": round(sum(values) / len(values), 3),
        "max_ms": round(max(values), 3),
    }


def _status(m: Measured, missing: list[str]) -> tuple[str, str | None]:
    if m.error:
        return "error", m.error
    reasons = []
    if missing:
        reasons.append("no index rows for " + ", ".join(missing))
    if m.unsupported:
        reasons.append(m.unsupported)
    if reasons:
        return "not yet supported", "; ".join(reasons)
    if m.mismatches:
        return "mismatch", m.mismatches[0]
    return "ok", None


def summary(query: QueryDef, m: Measured, missing: list[str], sql_template: str | None) -> dict[str, Any]:
    status, reason = _status(m, missing)
    http, sql = figures(m.http_ms), figures(m.sql_ms if not missing else [])
    engine = figures(m.server_sql_ms)
    # the 3x target compares SQL with SQL: the server's statements against the hand-written ones for the same page
    ratio_p50 = round(engine["p50_ms"] / sql["p50_ms"], 2) if engine and sql and sql["p50_ms"] else None
    ratio_p95 = round(engine["p95_ms"] / sql["p95_ms"], 2) if engine and sql and sql["p95_ms"] else None
    row: dict[str, Any] = {
        "key": query.key,
        "title": query.title,
        "request": query.shape,
        "status": status,
        "reason": reason,
        "exempt": query.exempt,
        "repetitions": m.repetitions,
        "pages_compared": m.compared,
        "http": http,
        "sql": sql,
        "server_sql": engine,
        "ratio_p50": ratio_p50,
        "ratio_p95": ratio_p95,
        "meets_p95": bool(http) and (query.exempt or http["p95_ms"] < TARGET_P95_MS),
        "meets_ratio": ratio_p50 is not None and ratio_p50 <= TARGET_RATIO,
        "mismatches": m.mismatches[:3],
        "mismatched_repetitions": len(m.mismatches),
        "empty_repetitions": m.empty,
        "sql_template": sql_template,
    }
    if query.pages > 1 and m.walk_ms:
        row["paging"] = {
            "walks": len(m.walk_ms),
            "pages_per_walk": round(sum(m.pages_walked) / len(m.pages_walked), 1),
            "walk": figures(m.walk_ms),
        }
    return row
