"""How far the history can be read without missing a write: the settled `resource_history.seq`.

A refresh moves a view's watermark to a seq W and will never look at seqs <= W again, so every write
with a seq <= W must already be visible when it reads. On SQLite that holds for the newest seq seen
inside a write transaction: writers are serialised and commit in seq order.

On PostgreSQL, seqs are drawn when a row is inserted but become visible at commit, in commit order:
a writer may hold seq 100, uncommitted, while seq 101 is already visible. So `settled_seq` reads the
newest visible seq M, then finds the transactions still writing `resource_history` (they hold its
RowExclusiveLock until they end) and waits for them to finish. Any seq <= M was drawn before M was
read, by a transaction that had by then taken that lock, so once those transactions are gone every
seq <= M is committed (visible to the statements that follow) or rolled back (gone for good).
Nothing blocks a writer meanwhile; a long write transaction only delays the refresh.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, select, text

from fhir_server.storage.schema import resource_history

if TYPE_CHECKING:
    from fhir_server.storage.engine import Database

WAIT_TIMEOUT_S = 600.0
_POLL_S = 0.02

_NEWEST = select(func.coalesce(func.max(resource_history.c.seq), 0))

# The transactions (other than this session's) holding resource_history open for writing.
_WRITERS = text(
    "SELECT DISTINCT virtualtransaction FROM pg_locks"
    " WHERE locktype = 'relation' AND relation = 'resource_history'::regclass"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()"
)
_STILL_WRITING = text(
    "SELECT count(*) FROM pg_locks"
    " WHERE locktype = 'relation' AND relation = 'resource_history'::regclass"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND mode = 'RowExclusiveLock' AND virtualtransaction = ANY(:vxids)"
)


class HorizonTimeout(TimeoutError):
    """A transaction writing the history stayed open longer than the refresh would wait."""


def newest_seq(conn: Connection) -> int:
    return int(conn.execute(_NEWEST).scalar_one())


def settled_seq(db: Database, *, timeout_s: float = WAIT_TIMEOUT_S) -> int:
    """A seq M such that every write with seq <= M is visible to transactions started from now on.

    PostgreSQL only (SQLite: `newest_seq` inside the write transaction)."""
    with db.reading() as conn:  # autocommit: each statement sees what is committed when it starts
        newest = newest_seq(conn)
        writers = [row[0] for row in conn.execute(_WRITERS)]
        deadline = time.monotonic() + timeout_s
        while writers and conn.execute(_STILL_WRITING, {"vxids": writers}).scalar_one():
            if time.monotonic() > deadline:
                raise HorizonTimeout(f"transactions writing resource_history still open after {timeout_s:.0f} s")
            time.sleep(_POLL_S)
    return newest
