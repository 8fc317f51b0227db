"""Erasing resources for good (patients' right to erasure, R3): their current rows, every version in the history,
their search index rows and any one-time codes of their Tasks. Nothing of their content is left. (A FHIR delete, by
contrast, keeps the history.) What the outbox recorded of them — type, id and version number — stays, so the
Subscriptions' event numbers keep their order; the erased content can no longer be sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, or_, select, tuple_

from fhir_server.storage.schema import INDEX_TABLES, access_code, resource, resource_history

CHUNK = 500


def erase(conn: Any, keys: list[tuple[str, str]]) -> int:
    """Erase the resources ``keys`` (``(type, id)``); how many there were."""
    erased = 0
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        by_key = or_(*(and_(resource.c.resource_type == t, resource.c.id == i) for t, i in chunk))
        rids = [row.rid for row in conn.execute(select(resource.c.rid).where(by_key))]
        for table in INDEX_TABLES.values():
            conn.execute(delete(table).where(table.c.rid.in_(rids)))
        erased += conn.execute(delete(resource).where(resource.c.rid.in_(rids))).rowcount or 0
        h = resource_history.c
        conn.execute(delete(resource_history).where(tuple_(h.resource_type, h.id).in_(chunk)))
        tasks = [i for t, i in chunk if t == "Task"]
        if tasks:
            conn.execute(delete(access_code).where(access_code.c.task_id.in_(tasks)))
    return erased
