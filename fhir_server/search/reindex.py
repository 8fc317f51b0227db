"""Rebuild the search index of stored resources (``ryggrad reindex [TYPE]``), e.g. after SearchParameters change.

Works in batches of current resources in ``rid`` order, one transaction a batch, so it can run beside live traffic
and resume where it stopped."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, not_, select

from fhir_server.server import FhirServer
from fhir_server.storage.schema import resource
from fhir_server.storage.store import ResourceStore

BATCH = 500


def _scope(resource_types: list[str] | None) -> list:
    conditions = [not_(resource.c.deleted)]
    if resource_types:
        conditions.append(resource.c.resource_type.in_(resource_types))
    return conditions


def count_to_reindex(server: FhirServer, resource_types: list[str] | None) -> int:
    with server.db.reading() as conn:
        return conn.execute(select(func.count()).select_from(resource).where(*_scope(resource_types))).scalar_one()


def reindex(
    server: FhirServer, resource_types: list[str] | None = None, progress: Callable[[int], None] | None = None
) -> int:
    """Re-extract the index rows of every current resource (of ``resource_types``); returns how many."""
    done, last = 0, 0
    while True:
        with server.db.writing() as conn:
            batch = conn.execute(
                select(resource.c.rid, resource.c.resource_type, resource.c.content)
                .where(*_scope(resource_types), resource.c.rid > last)
                .order_by(resource.c.rid)
                .limit(BATCH)
            ).all()
            if not batch:
                return done
            store = ResourceStore(conn)
            store.delete_index([row.rid for row in batch])
            store.insert_index([(row.rid, row.resource_type, server.indexer.rows(row.content)) for row in batch])
        done += len(batch)
        last = batch[-1].rid
        if progress:
            progress(len(batch))
