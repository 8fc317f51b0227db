"""The limit for ingest, row for row: what the server stored for the ingested bundles — the current rows, the
history rows and every search-index row — read back from its database, then written straight into a fresh
database of the same kind with the same schema (``ryggrad migrate``'s), in the server's order and in one database
transaction per bundle, the fastest way each database takes rows: COPY on PostgreSQL, ``executemany`` on SQLite.

So the limit is the database's own cost of storing exactly what Ryggrad stores; what Ryggrad adds (HTTP,
parsing, validation, reference resolution, working out the index rows, its SQL) is what the ratio measures.
The AuditEvents of the ingest requests are left out (a direct writer would not audit)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, insert, select

from bench.direct_insert import DirectResult
from fhir_server.storage import pg_fast
from fhir_server.storage.engine import Database
from fhir_server.storage.migrate import upgrade
from fhir_server.storage.schema import INDEX_TABLES, resource, resource_history

SKIPPED_TYPES = ("AuditEvent",)


@dataclass
class StoredRows:
    """Rows of ``resource`` in rid order, with their history and index rows by rid."""

    current: list[dict[str, Any]] = field(default_factory=list)
    history: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    index: dict[str, dict[int, list[dict[str, Any]]]] = field(default_factory=dict)

    @property
    def index_rows(self) -> int:
        return sum(len(rows) for by_rid in self.index.values() for rows in by_rid.values())


def read_stored(database_url: str) -> StoredRows:
    """Every resource the server holds (AuditEvents aside) with its history and index rows."""
    db = Database(database_url)
    stored = StoredRows()
    try:
        with db.reading() as conn:
            wanted = resource.c.resource_type.not_in(SKIPPED_TYPES)
            stored.current = [dict(r._mapping) for r in conn.execute(select(resource).where(wanted).order_by("rid"))]
            rids = {row["rid"] for row in stored.current}
            history: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
            h = resource_history.c
            for r in conn.execute(select(resource_history).where(h.resource_type.not_in(SKIPPED_TYPES))):
                row = dict(r._mapping)
                row.pop("seq")
                history[(row["resource_type"], row["id"])].append(row)
            stored.history = dict(history)
            for kind, table in INDEX_TABLES.items():
                by_rid: dict[int, list[dict[str, Any]]] = defaultdict(list)
                for r in conn.execute(select(table)):
                    if r.rid in rids:
                        by_rid[r.rid].append(dict(r._mapping))
                stored.index[kind] = dict(by_rid)
    finally:
        db.dispose()
    return stored


def _write(conn: Connection, table: Table, rows: list[dict[str, Any]], postgres: bool) -> None:
    if not rows:
        return
    if not postgres:
        conn.execute(insert(table), rows)
        return
    columns = list(rows[0])
    values = [[pg_fast.json_text(row[c]) if c == "content" else row[c] for c in columns] for row in rows]
    pg_fast.copy_batch(conn, (table, columns, values))


def _chunks(stored: StoredRows, chunk_sizes: Sequence[int]) -> list[list[dict[str, Any]]]:
    """The current rows in transactions of ``chunk_sizes`` (the bundles' sizes, in the order they were sent); the
    rows beyond them form one more."""
    chunks, start = [], 0
    for size in [*chunk_sizes, max(0, len(stored.current) - sum(chunk_sizes))]:
        chunk = stored.current[start : start + size]
        start += size
        if chunk:
            chunks.append(chunk)
    return chunks


def _write_chunk(db: Database, stored: StoredRows, chunk: list[dict[str, Any]]) -> None:
    history = [row for c in chunk for row in stored.history.get((c["resource_type"], c["id"]), [])]
    with db.writing() as conn:
        _write(conn, resource, chunk, db.is_postgres)
        _write(conn, resource_history, history, db.is_postgres)
        for kind, table in INDEX_TABLES.items():
            by_rid = stored.index.get(kind, {})
            _write(conn, table, [row for c in chunk for row in by_rid.get(c["rid"], [])], db.is_postgres)


def run_stored_insert(
    database_url: str, stored: StoredRows, chunk_sizes: Sequence[int], streams: int = 1
) -> DirectResult:
    """Migrate the (empty) database, then time writing ``stored``, one transaction per bundle, by ``streams``
    writers at once (each its own connection; the bundles dealt out in turn). SQLite has one writer at a time:
    its streams queue on the database's write lock, as the server's do."""
    db = Database(database_url)
    try:
        upgrade(db)
        with db.writing() as conn:  # what the migration put there (the registry's own Subscriptions) makes way
            for table in (*INDEX_TABLES.values(), resource_history, resource):
                conn.execute(table.delete())
        chunks = _chunks(stored, chunk_sizes)
        began = time.perf_counter()
        if streams == 1:
            for chunk in chunks:
                _write_chunk(db, stored, chunk)
        else:
            with ThreadPoolExecutor(streams) as pool:
                for future in [pool.submit(_write_chunk, db, stored, chunk) for chunk in chunks]:
                    future.result()
        return DirectResult(len(stored.current), time.perf_counter() - began)
    finally:
        db.dispose()
