"""Versioned resource storage on one connection (one database transaction).

Writers never both win: a new version is written with ``UPDATE … WHERE version_id = <expected>`` and a unique
(type, id, version) key in the history, so a lost race shows up as zero rows or a key violation — detected by the
database, not by a read-then-write check.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, DateTime, Numeric, and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from fhir_server.search.index.rows import IndexRows
from fhir_server.storage import pg_fast
from fhir_server.storage.schema import INDEX_TABLES, resource, resource_history

# Statements built once: SQLAlchemy then reuses their compiled form, which matters on the ingest path.
_INSERT_CURRENT = insert(resource).returning(resource.c.rid)
_INSERT_CURRENT_ORDERED = insert(resource).returning(resource.c.rid, sort_by_parameter_order=True)
_INSERT_HISTORY = insert(resource_history)
_UPDATE_CURRENT = (
    update(resource)
    .where(and_(resource.c.rid == bindparam("b_rid"), resource.c.version_id == bindparam("b_version")))
    .values(
        version_id=bindparam("version_id"),
        last_updated=bindparam("last_updated"),
        deleted=bindparam("deleted"),
        content=bindparam("content"),
    )
)
# SQLite: index rows go to the driver's executemany as plain tuples (SQLAlchemy's per-row parameter processing
# cost more than the insert itself), with values in the forms SQLAlchemy stores: its DATETIME text, floats.
_SQLITE_INSERT = {
    kind: f"INSERT INTO {table.name} ({', '.join(table.c.keys())}) VALUES ({', '.join('?' * len(table.c))})"
    for kind, table in INDEX_TABLES.items()
}


#: The positions of the columns whose values need that conversion (dates and numbers), by index table: the rows of
#: the others (tokens, strings, references, uris: most rows) go as they are.
_SQLITE_CONVERTED = {
    kind: tuple(i for i, column in enumerate(table.c) if isinstance(column.type, DateTime | Numeric))
    for kind, table in INDEX_TABLES.items()
}


def _sqlite_row(row: tuple[Any, ...], positions: tuple[int, ...]) -> tuple[Any, ...]:
    values = list(row)
    for i in positions:
        values[i] = _sqlite_value(values[i])
    return tuple(values)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):  # SQLAlchemy's SQLite DATETIME storage format, microseconds always written
        return (
            f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
        )
    if isinstance(value, Decimal):
        return float(value)
    return value


_DELETE_INDEX = {
    kind: delete(table).where(table.c.rid.in_(bindparam("b_rids", expanding=True)))
    for kind, table in INDEX_TABLES.items()
}


class VersionConflict(Exception):
    """Somebody else wrote the resource first."""


class IdTaken(Exception):
    """A resource of this type and id already exists."""


@dataclass(frozen=True, slots=True)
class StoredVersion:
    resource_type: str
    id: str
    version_id: int
    last_updated: datetime
    deleted: bool
    content: dict[str, Any] | None
    rid: int | None = None
    method: str | None = None
    seq: int | None = None


CURRENT_COLUMNS = (
    resource.c.rid,
    resource.c.resource_type,
    resource.c.id,
    resource.c.version_id,
    resource.c.last_updated,
    resource.c.deleted,
    resource.c.content,
)


def current_version(row: Any) -> StoredVersion:
    """A row of ``resource`` (CURRENT_COLUMNS) as a StoredVersion."""
    return StoredVersion(
        row.resource_type, row.id, row.version_id, row.last_updated, row.deleted, row.content, rid=row.rid
    )


def history_version(row: Any) -> StoredVersion:
    """A row of ``resource_history`` as a StoredVersion."""
    return StoredVersion(
        row.resource_type,
        row.id,
        row.version_id,
        row.last_updated,
        row.deleted,
        row.content,
        method=row.method,
        seq=row.seq,
    )


_SELECT_CURRENT = select(*CURRENT_COLUMNS).where(
    resource.c.resource_type == bindparam("b_type"), resource.c.id == bindparam("b_id")
)
_SELECT_VERSION = select(resource_history).where(
    resource_history.c.resource_type == bindparam("b_type"),
    resource_history.c.id == bindparam("b_id"),
    resource_history.c.version_id == bindparam("b_version"),
)


class ResourceStore:
    """Reads and writes of one transaction. Creates queued with ``queue_new`` are written by ``flush``: before
    every write here (so rids follow the order of creation) and before a read of a queued resource; a caller
    reading through the connection itself (a search) flushes first."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._queued: list[tuple[dict[str, Any], str, IndexRows]] = []
        self._queued_keys: set[tuple[str, str]] = set()  # (type, id) of the queued creates
        self._flushed_rids: dict[tuple[str, str], int] = {}  # (type, id) → rid of the queued creates written

    # -- reads -------------------------------------------------------------------------------------------------
    def current(self, resource_type: str, resource_id: str) -> StoredVersion | None:
        self._flush_if_queued(resource_type, resource_id)
        if self.conn.dialect.name == "postgresql":
            found = pg_fast.current_row(self.conn, resource_type, resource_id)
            return StoredVersion(*found[1:], rid=found[0]) if found else None
        row = self.conn.execute(_SELECT_CURRENT, {"b_type": resource_type, "b_id": resource_id}).first()
        return current_version(row) if row else None

    def version(self, resource_type: str, resource_id: str, version_id: int) -> StoredVersion | None:
        self._flush_if_queued(resource_type, resource_id)
        params = {"b_type": resource_type, "b_id": resource_id, "b_version": version_id}
        row = self.conn.execute(_SELECT_VERSION, params).first()
        return history_version(row) if row else None

    def latest_content(self, resource_type: str, resource_id: str) -> tuple[bool, dict[str, Any] | None]:
        """(whether the resource exists, its content — the last one written before a deletion, if deleted)."""
        current = self.current(resource_type, resource_id)
        if current is None:
            return False, None
        if not current.deleted:
            return True, current.content
        h = resource_history.c
        last = self.conn.execute(
            select(h.content)
            .where(h.resource_type == resource_type, h.id == resource_id, h.deleted.is_(False))
            .order_by(h.version_id.desc())
            .limit(1)
        ).scalar()
        return True, last

    # -- writes ------------------------------------------------------------------------------------------------
    def insert_new(
        self,
        resource_type: str,
        resource_id: str,
        content: dict[str, Any],
        now: datetime,
        method: str,
        index: IndexRows | None = None,
        *,
        may_exist: bool = True,
    ) -> StoredVersion:
        """Version 1 of a new resource; ``IdTaken`` if the type and id exist (also when a racer just made it).

        ``may_exist=False`` (server-assigned UUIDs) skips the savepoint that lets the caller recover from a clash.
        """
        self.flush()
        row = _row(resource_type, resource_id, 1, now, content)
        if may_exist:
            # a clash must leave the transaction usable: PostgreSQL needs a savepoint for that, SQLite undoes the
            # failed statement alone
            savepoint = self.conn.begin_nested() if self.conn.dialect.name == "postgresql" else nullcontext()
            try:
                with savepoint:
                    rid = self.conn.execute(_INSERT_CURRENT, row).scalar_one()
            except IntegrityError as exc:
                raise IdTaken(f"{resource_type}/{resource_id}") from exc
        else:
            rid = self.conn.execute(_INSERT_CURRENT, row).scalar_one()
        if self.conn.dialect.name == "postgresql":  # the history row and the index rows in one round trip
            history = pg_fast.history_batch([row], [method], [pg_fast.json_text(content)])
            self.insert_index([(rid, resource_type, index)], [history])
        else:
            self.conn.execute(_INSERT_HISTORY, {**row, "method": method})
            self.insert_index([(rid, resource_type, index)])
        return StoredVersion(resource_type, resource_id, 1, now, False, content, rid=rid, method=method)

    def queue_new(
        self,
        resource_type: str,
        resource_id: str,
        content: dict[str, Any],
        now: datetime,
        method: str,
        index: IndexRows | None = None,
    ) -> StoredVersion:
        """Like ``insert_new`` for a fresh server-assigned id, but written by ``flush`` together with the others:
        a transaction of hundreds of creates costs a few round trips instead of three per resource."""
        self._queued.append((_row(resource_type, resource_id, 1, now, content), method, index or IndexRows()))
        self._queued_keys.add((resource_type, resource_id))
        return StoredVersion(resource_type, resource_id, 1, now, False, content, method=method)

    def flush(self) -> None:
        if not self._queued:
            return
        queued, self._queued = self._queued, []
        self._queued_keys.clear()
        rows = [row for row, _, _ in queued]
        if self.conn.dialect.name == "postgresql":  # two round trips, or a few COPYs: JSON serialised once
            rids = pg_fast.allocate_rids(self.conn, len(rows))
            texts = [pg_fast.json_text(row["content"]) for row in rows]
            first = [
                pg_fast.resource_batch(rids, rows, texts),
                pg_fast.history_batch(rows, [method for _, method, _ in queued], texts),
            ]
        else:
            rids = self.conn.execute(_INSERT_CURRENT_ORDERED, rows).scalars().all()
            self.conn.execute(_INSERT_HISTORY, [{**row, "method": method} for row, method, _ in queued])
            first = []
        self._flushed_rids.update(((row["resource_type"], row["id"]), rid) for row, rid in zip(rows, rids, strict=True))
        self.insert_index(
            [(rid, row["resource_type"], index) for rid, (row, _, index) in zip(rids, queued, strict=True)], first
        )

    def _flush_if_queued(self, resource_type: str, resource_id: str) -> None:
        if (resource_type, resource_id) in self._queued_keys:
            self.flush()

    def write_version(
        self,
        current: StoredVersion,
        content: dict[str, Any] | None,
        now: datetime,
        method: str,
        index: IndexRows | None = None,
    ) -> StoredVersion:
        """The next version after ``current`` (``content`` None = deleted); ``VersionConflict`` if not current."""
        self.flush()
        rid = current.rid if current.rid is not None else self._flushed_rids.get((current.resource_type, current.id))
        new_version = current.version_id + 1
        deleted = content is None
        values = {"version_id": new_version, "last_updated": now, "deleted": deleted, "content": content}
        result = self.conn.execute(_UPDATE_CURRENT, {**values, "b_rid": rid, "b_version": current.version_id})
        if result.rowcount != 1:
            raise VersionConflict(f"{current.resource_type}/{current.id}")
        # The row lock taken by the update makes a clash on the history key impossible.
        history = {**values, "resource_type": current.resource_type, "id": current.id}
        assert rid is not None
        if self.conn.dialect.name == "postgresql":  # history, old index rows out, new in: one round trip
            batch = pg_fast.history_batch([history], [method], [pg_fast.json_text(content)])
            self.insert_index([(rid, current.resource_type, index)], [batch], replace=True)
        else:
            self.conn.execute(_INSERT_HISTORY, {**history, "method": method})
            self.delete_index([rid])
            self.insert_index([(rid, current.resource_type, index)])
        return StoredVersion(
            current.resource_type, current.id, new_version, now, deleted, content, rid=rid, method=method
        )

    def insert_index(
        self,
        items: Sequence[tuple[int, str, IndexRows | None]],
        also: Sequence[pg_fast.Batch] = (),
        *,
        replace: bool = False,
    ) -> None:
        """Index rows of several resources. SQLite: one executemany per index table. PostgreSQL: with ``also``
        (the rows they index, their history) in a fixed number of round trips (``pg_fast.write``), after deleting
        the index rows the items' rids had if ``replace``."""
        postgres = self.conn.dialect.name == "postgresql"
        batches: list[pg_fast.Batch] = list(also)
        for kind, table in INDEX_TABLES.items():
            rows = [
                (rid, resource_type, *row)
                for rid, resource_type, index in items
                if index is not None
                for row in getattr(index, kind)
            ]
            if not rows:
                continue
            if postgres:
                batches.append((table, table.c.keys(), rows))
            else:
                positions = _SQLITE_CONVERTED[kind]
                params = [_sqlite_row(r, positions) for r in rows] if positions else rows
                self.conn.exec_driver_sql(_SQLITE_INSERT[kind], params)
        if postgres:
            pg_fast.write(self.conn, batches, [rid for rid, _, _ in items] if replace else ())

    def delete_index(self, rids: Sequence[int]) -> None:
        for statement in _DELETE_INDEX.values():
            self.conn.execute(statement, {"b_rids": list(rids)})


def _row(resource_type: str, resource_id: str, version_id: int, now: datetime, content: Any) -> dict[str, Any]:
    return {
        "resource_type": resource_type,
        "id": resource_id,
        "version_id": version_id,
        "last_updated": now,
        "deleted": content is None,
        "content": content,
    }
