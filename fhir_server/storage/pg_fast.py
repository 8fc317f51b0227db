"""PostgreSQL's fast paths, on the driver connection under a SQLAlchemy transaction (or in autocommit).

Writes take a fixed number of round trips whatever their size: new resources get their ``rid`` values from the
sequence in one statement; then the current rows, the history rows and the index rows go by COPY where a table
gets many rows (a transaction's worth), and as INSERTs all sent in one pipeline where it gets few (a single
write, an audit flush: COPY's own round trips would dominate). Each content is serialised to JSON once, for both
the current row and the history. Reads by id are one prepared statement without SQLAlchemy's per-execution work.

psycopg's errors are raised as SQLAlchemy's (``IntegrityError`` for a key violation), as the Core path raises them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

from fhir_server.storage.schema import INDEX_TABLES, resource, resource_history

_ALLOCATE_RIDS = "SELECT nextval(pg_get_serial_sequence('resource', 'rid')) FROM generate_series(1, %s)"
COPY_FROM = 64  # rows of one table in one write from which COPY beats INSERT
RESOURCE_COLUMNS = ("rid", "resource_type", "id", "version_id", "last_updated", "deleted", "content")
HISTORY_COLUMNS = ("resource_type", "id", "version_id", "last_updated", "method", "deleted", "content")


def _driver(conn: Connection) -> psycopg.Connection[Any]:
    dbapi = conn.connection.dbapi_connection
    assert isinstance(dbapi, psycopg.Connection)
    return dbapi


@contextmanager
def _as_sqlalchemy_errors(statement: str, conn: Connection) -> Iterator[None]:
    try:
        yield
    except psycopg.Error as exc:
        if isinstance(exc, psycopg.OperationalError):
            conn.invalidate()  # as SQLAlchemy does on a lost connection: it is not handed out again
        raise DBAPIError.instance(statement, None, exc, psycopg.Error, hide_parameters=True) from exc


_CURRENT = (
    "SELECT rid, resource_type, id, version_id, last_updated, deleted, content FROM resource"
    " WHERE resource_type = %s AND id = %s"
)


def current_row(conn: Connection, resource_type: str, resource_id: str) -> tuple[Any, ...] | None:
    """The current row of a resource (``store.CURRENT_COLUMNS``): the most frequent statement, sent prepared
    without SQLAlchemy's per-execution work."""
    with _as_sqlalchemy_errors(_CURRENT, conn), _driver(conn).cursor() as cursor:
        cursor.execute(_CURRENT, (resource_type, resource_id), prepare=True)
        return cursor.fetchone()


def allocate_rids(conn: Connection, count: int) -> list[int]:
    """``count`` new ``resource.rid`` values, ascending (the order of creation)."""
    with _as_sqlalchemy_errors(_ALLOCATE_RIDS, conn), _driver(conn).cursor() as cursor:
        cursor.execute(_ALLOCATE_RIDS, (count,))
        return sorted(row[0] for row in cursor.fetchall())


#: (table, its columns in the rows' order, rows); JSON columns hold the JSON text
Batch = tuple[Table, Sequence[str], Sequence[Sequence[Any]]]


def json_text(content: Any) -> str | None:
    return None if content is None else orjson.dumps(content).decode()


def resource_batch(rids: Sequence[int], rows: Sequence[dict[str, Any]], texts: Sequence[str | None]) -> Batch:
    """New current rows (``store._row`` dicts with their rids and JSON texts)."""
    values = [
        (rid, row["resource_type"], row["id"], row["version_id"], row["last_updated"], row["deleted"], text)
        for rid, row, text in zip(rids, rows, texts, strict=True)
    ]
    return resource, RESOURCE_COLUMNS, values


def history_batch(rows: Sequence[dict[str, Any]], methods: Sequence[str], texts: Sequence[str | None]) -> Batch:
    """History rows of versions ``rows`` (``store._row`` dicts, with their JSON texts)."""
    values = [
        (row["resource_type"], row["id"], row["version_id"], row["last_updated"], method, row["deleted"], text)
        for row, method, text in zip(rows, methods, texts, strict=True)
    ]
    return resource_history, HISTORY_COLUMNS, values


def write(conn: Connection, batches: Sequence[Batch], delete_rids: Sequence[int] = ()) -> None:
    """Write ``batches`` (current rows first: the index rows refer to them), after deleting the index rows of
    ``delete_rids`` (a new version's old rows). Batches of ``COPY_FROM`` rows or more go by COPY, the others as
    INSERTs in one pipeline with the deletes; the order keeps every reference valid and deletes before inserts."""
    big = [b for b in batches if len(b[2]) >= COPY_FROM]
    for batch in big:
        if batch[0] in (resource, resource_history):
            copy_batch(conn, batch)
    _pipeline(conn, [b for b in batches if 0 < len(b[2]) < COPY_FROM], delete_rids)
    for batch in big:
        if batch[0] not in (resource, resource_history):
            copy_batch(conn, batch)


def copy_batch(conn: Connection, batch: Batch) -> None:
    """The batch's rows by COPY."""
    table, columns, rows = batch
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with _as_sqlalchemy_errors(statement, conn), _driver(conn).cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _pipeline(conn: Connection, batches: Sequence[Batch], delete_rids: Sequence[int]) -> None:
    if not batches and not delete_rids:
        return
    driver = _driver(conn)
    with _as_sqlalchemy_errors("pipelined INSERT", conn), driver.pipeline(), driver.cursor() as cursor:
        if delete_rids:
            for table in INDEX_TABLES.values():
                cursor.execute(f"DELETE FROM {table.name} WHERE rid = ANY(%s)", (list(delete_rids),))
        for table, columns, rows in batches:
            sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
            cursor.executemany(sql, rows)
