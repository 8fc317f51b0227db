"""The DPoP ``jti`` replay cache: each proof is accepted once while it could still be accepted at all.

One process (the one-machine default on SQLite) keeps it in memory. Several API processes on one PostgreSQL share
the ``dpop_replay`` table: the first INSERT of a key wins, any later one (in any process) is a replay.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert

from fhir_server.storage.engine import Database
from fhir_server.storage.schema import dpop_replay

PURGE_EVERY_S = 60.0


class ReplayCache(Protocol):
    def first_use(self, key: str, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at`` (epoch seconds); False if it was recorded before."""
        ...


class MemoryReplayCache:
    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._purged = time.time()

    def first_use(self, key: str, expires_at: float) -> bool:
        now = time.time()
        with self._lock:
            if now - self._purged > PURGE_EVERY_S:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
                self._purged = now
            if key in self._seen and self._seen[key] > now:
                return False
            self._seen[key] = expires_at
            return True


class DatabaseReplayCache:
    """PostgreSQL: ``INSERT … ON CONFLICT DO NOTHING`` in autocommit; expired keys purged now and then."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._purged = 0.0

    def first_use(self, key: str, expires_at: float) -> bool:
        now = time.time()
        statement = pg_insert(dpop_replay).values(key=key, expires_at=expires_at).on_conflict_do_nothing()
        with self.db.writing() as conn:
            if now - self._purged > PURGE_EVERY_S:
                conn.execute(delete(dpop_replay).where(dpop_replay.c.expires_at < now))
                self._purged = now
            inserted = conn.execute(statement.returning(dpop_replay.c.key)).first()
        return inserted is not None


def replay_cache(db: Database) -> ReplayCache:
    return DatabaseReplayCache(db) if db.is_postgres else MemoryReplayCache()
