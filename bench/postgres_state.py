"""What a PostgreSQL server brings to a measurement: its memory and planner settings (recorded in the report, so
figures are read beside the configuration that gave them) and, optionally, a warm buffer cache (``pg_prewarm``:
the state of a server that has been answering queries for a while, instead of one whose every first read goes to
disk)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, text

RECORDED_SETTINGS = (
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "random_page_cost",
    "jit",
)


def settings(conn: Connection) -> dict[str, str]:
    return {name: str(conn.execute(text(f"SHOW {name}")).scalar_one()) for name in RECORDED_SETTINGS}


def prewarm(conn: Connection) -> dict[str, Any]:
    """Read the database's indexes, then its tables, into shared buffers (``pg_prewarm``), as far as they fit:
    indexes first (every query walks them), the resource table last (only its pages of a result are read)."""
    conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
    buffers = int(
        conn.execute(text("SELECT setting::bigint FROM pg_settings WHERE name = 'shared_buffers'")).scalar_one()
    )
    relations = conn.execute(
        text(
            "SELECT c.oid, c.relname, c.relkind, c.relpages FROM pg_class c "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i') AND c.relpages > 0 "
            "ORDER BY c.relkind = 'r', c.relname = 'resource', c.relpages"
        )
    ).all()
    started, loaded, budget = time.perf_counter(), 0, int(buffers * 0.9)
    for oid, _name, _kind, pages in relations:
        if loaded + pages > budget:
            continue
        loaded += int(conn.execute(text("SELECT pg_prewarm(:oid)"), {"oid": oid}).scalar_one())
    return {"pages": loaded, "mib": round(loaded * 8 / 1024), "seconds": round(time.perf_counter() - started, 1)}
