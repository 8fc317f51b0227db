"""Serialising work on one thing across processes: a transaction-scoped advisory lock on PostgreSQL, held until
the transaction ends (SQLite needs none: its writers take turns for the whole transaction)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import text


def serialise(conn: Any, is_postgres: bool, key: str) -> None:
    """Wait until no other transaction holds ``key``, then hold it until this one commits or rolls back. Statements
    after it (READ COMMITTED) see what the previous holder committed."""
    if not is_postgres:
        return
    digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": digest})
