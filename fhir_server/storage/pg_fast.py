"""PostgreSQL's fast paths, on the driver connection under a SQLAlchemy transaction (or in autocommit).

A transaction's new resources are written in a fixed number of round trips whatever their number: their ``rid``
values are taken from the sequence in one statement, then the current rows, the history rows and the index rows go
by COPY (each content serialised to JSON once, for both tables). Small sets of index rows, where COPY's own two
round trips per table would dominate, are sent as INSERTs in one pipeline: one round trip for every table.

psycopg's errors are raised as SQLAlchemy's (``IntegrityError`` for a key violation), as the Core path raises them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

from fhir_server.storage.schema import INDEX_TABLES, resource, resource_history

_ALLOCATE_RIDS = "SELECT nextval(pg_get_serial_sequence('resource', 'rid')) FROM generate_series(1, %s)"
RESOURCE_COLUMNS = ("rid", "resource_type", "id", "version_id", "last_updated", "deleted", "content")
HISTORY_COLUMNS = ("resource_type", "id", "version_id", "last_updated", "method", "deleted", "content")


def _driver(conn: Connection) -> psycopg.Connection[Any]:
    dbapi = conn.connection.dbapi_connection
    assert isinstance(dbapi, psycopg.Connection)
    return dbapi


@contextmanager
def _as_sqlalchemy_errors(statement: str, conn: Connection | None = None) -> Iterator[None]:
    try:
        yield
    except psycopg.Error as exc:
        if conn is not None and isinstance(exc, psycopg.OperationalError):
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
    with _as_sqlalchemy_errors(_ALLOCATE_RIDS), _driver(conn).cursor() as cursor:
        cursor.execute(_ALLOCATE_RIDS, (count,))
        return sorted(row[0] for row in cursor.fetchall())


def copy_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with _as_sqlalchemy_errors(statement), _driver(conn).cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


#: (table, its columns in the rows' order, rows)
Batch = tuple[Table, Sequence[str], Sequence[Sequence[Any]]]


def insert_pipelined(conn: Connection, batches: Sequence[Batch], delete_rids: Sequence[int] = ()) -> None:
    """Each batch's rows as INSERTs, after deleting the index rows of ``delete_rids`` (a new version's old
    rows), all sent in one pipeline (one round trip)."""
    if not batches and not delete_rids:
        return
    driver = _driver(conn)
    statement = "pipelined INSERT"
    with _as_sqlalchemy_errors(statement), driver.pipeline(), driver.cursor() as cursor:
        if delete_rids:
            for table in INDEX_TABLES.values():
                cursor.execute(f"DELETE FROM {table.name} WHERE rid = ANY(%s)", (list(delete_rids),))
        for table, columns, rows in batches:
            sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
            cursor.executemany(sql, rows)


def _json_text(content: Any) -> str:
    return orjson.dumps(content).decode()


def history_batch(row: dict[str, Any], method: str) -> Batch:
    """The history row of version ``row`` (a ``store._row`` dict), for ``insert_pipelined``."""
    content = None if row["content"] is None else Jsonb(row["content"], dumps=_json_text)
    values = (row["resource_type"], row["id"], row["version_id"], row["last_updated"], method, row["deleted"], content)
    return resource_history, HISTORY_COLUMNS, [values]


def write_new_versions(conn: Connection, rows: Sequence[dict[str, Any]], methods: Sequence[str]) -> list[int]:
    """Version 1 of each of ``rows`` (``store._row`` dicts): their rids, in order."""
    rids = allocate_rids(conn, len(rows))
    texts = [None if row["content"] is None else _json_text(row["content"]) for row in rows]
    copy_rows(
        conn,
        resource,
        RESOURCE_COLUMNS,
        (
            (rid, row["resource_type"], row["id"], row["version_id"], row["last_updated"], row["deleted"], text)
            for rid, row, text in zip(rids, rows, texts, strict=True)
        ),
    )
    copy_rows(
        conn,
        resource_history,
        HISTORY_COLUMNS,
        (
            (row["resource_type"], row["id"], row["version_id"], row["last_updated"], method, row["deleted"], text)
            for row, method, text in zip(rows, methods, texts, strict=True)
        ),
    )
    return rids
