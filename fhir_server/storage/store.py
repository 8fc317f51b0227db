"""Versioned resource storage on one connection (one database transaction).

Writers never both win: a new version is written with ``UPDATE … WHERE version_id = <expected>`` and a unique
(type, id, version) key in the history, so a lost race shows up as zero rows or a key violation — detected by the
database, not by a read-then-write check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from fhir_server.storage.schema import resource, resource_history, search_token


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


TokenRow = tuple[str, str | None, str]  # (param, system, code)

_current_columns = (
    resource.c.rid,
    resource.c.resource_type,
    resource.c.id,
    resource.c.version_id,
    resource.c.last_updated,
    resource.c.deleted,
    resource.c.content,
)


def _current(row: Any) -> StoredVersion:
    return StoredVersion(
        resource_type=row.resource_type,
        id=row.id,
        version_id=row.version_id,
        last_updated=row.last_updated,
        deleted=row.deleted,
        content=row.content,
        rid=row.rid,
    )


def history_version(row: Any) -> StoredVersion:
    return StoredVersion(
        resource_type=row.resource_type,
        id=row.id,
        version_id=row.version_id,
        last_updated=row.last_updated,
        deleted=row.deleted,
        content=row.content,
        method=row.method,
        seq=row.seq,
    )


class ResourceStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- reads -------------------------------------------------------------------------------------------------
    def current(self, resource_type: str, resource_id: str) -> StoredVersion | None:
        row = self.conn.execute(
            select(*_current_columns).where(resource.c.resource_type == resource_type, resource.c.id == resource_id)
        ).first()
        return _current(row) if row else None

    def current_by_rids(self, rids: Sequence[int]) -> list[StoredVersion]:
        if not rids:
            return []
        rows = self.conn.execute(select(*_current_columns).where(resource.c.rid.in_(rids))).all()
        by_rid = {row.rid: _current(row) for row in rows}
        return [by_rid[r] for r in rids if r in by_rid]

    def version(self, resource_type: str, resource_id: str, version_id: int) -> StoredVersion | None:
        row = self.conn.execute(
            select(resource_history).where(
                resource_history.c.resource_type == resource_type,
                resource_history.c.id == resource_id,
                resource_history.c.version_id == version_id,
            )
        ).first()
        return history_version(row) if row else None

    # -- writes ------------------------------------------------------------------------------------------------
    def insert_new(
        self,
        resource_type: str,
        resource_id: str,
        content: dict[str, Any],
        now: datetime,
        method: str,
        *,
        may_exist: bool = True,
    ) -> StoredVersion:
        """Version 1 of a new resource; ``IdTaken`` if the type and id exist (also when a racer just made it).

        ``may_exist=False`` (server-assigned UUIDs) skips the savepoint that lets the caller recover from a clash.
        """
        statement = (
            insert(resource)
            .values(
                resource_type=resource_type,
                id=resource_id,
                version_id=1,
                last_updated=now,
                deleted=False,
                content=content,
            )
            .returning(resource.c.rid)
        )
        if may_exist:
            try:
                with self.conn.begin_nested():
                    rid = self.conn.execute(statement).scalar_one()
            except IntegrityError as exc:
                raise IdTaken(f"{resource_type}/{resource_id}") from exc
        else:
            rid = self.conn.execute(statement).scalar_one()
        self._append_history(resource_type, resource_id, 1, now, method, content)
        return StoredVersion(resource_type, resource_id, 1, now, False, content, rid=rid, method=method)

    def write_version(
        self,
        current: StoredVersion,
        content: dict[str, Any] | None,
        now: datetime,
        method: str,
    ) -> StoredVersion:
        """The next version after ``current`` (``content`` None = deleted); ``VersionConflict`` if not current."""
        new_version = current.version_id + 1
        deleted = content is None
        result = self.conn.execute(
            update(resource)
            .where(and_(resource.c.rid == current.rid, resource.c.version_id == current.version_id))
            .values(version_id=new_version, last_updated=now, deleted=deleted, content=content)
        )
        if result.rowcount != 1:
            raise VersionConflict(f"{current.resource_type}/{current.id}")
        self._append_history(current.resource_type, current.id, new_version, now, method, content)
        return StoredVersion(
            current.resource_type,
            current.id,
            new_version,
            now,
            deleted,
            content,
            rid=current.rid,
            method=method,
        )

    def _append_history(
        self,
        resource_type: str,
        resource_id: str,
        version_id: int,
        now: datetime,
        method: str,
        content: dict[str, Any] | None,
    ) -> None:
        # The row lock taken by the insert/update of ``resource`` makes a clash here impossible.
        self.conn.execute(
            insert(resource_history).values(
                resource_type=resource_type,
                id=resource_id,
                version_id=version_id,
                last_updated=now,
                method=method,
                deleted=content is None,
                content=content,
            )
        )

    # -- index -------------------------------------------------------------------------------------------------
    def replace_tokens(self, rid: int, resource_type: str, rows: Sequence[TokenRow]) -> None:
        self.conn.execute(delete(search_token).where(search_token.c.rid == rid))
        if rows:
            self.conn.execute(
                insert(search_token),
                [{"rid": rid, "resource_type": resource_type, "param": p, "system": s, "code": c} for p, s, c in rows],
            )
