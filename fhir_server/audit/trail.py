"""Where AuditEvents go. A write's event is stored in the write's own database transaction (no change without its
record); the events of reads, searches, failures and bundles are queued and stored together by a background
thread every ``FLUSH_EVERY_S`` (one transaction for many, so reads do not queue behind SQLite's single writer).
``flush`` stores what is queued now; ``close`` stops the thread after a last flush."""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from fhir_server.rest.context import Context
from fhir_server.rest.resources import create_resource

if TYPE_CHECKING:
    from fhir_server.server import FhirServer

log = logging.getLogger("ryggrad.audit")

FLUSH_EVERY_S = 0.2
FLUSH_AT = 100  # queued events that trigger a flush at once
CHUNK = 100  # events per write transaction: short ones, so requests waiting for the writer never wait long


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class AuditTrail:
    def __init__(self, server: FhirServer) -> None:
        self.server = server
        self._queue: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time: a flush returns once everything before it is stored
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def write_now(self, conn: Connection, events: list[dict[str, Any]], now: datetime | None = None) -> None:
        """Store ``events`` on ``conn`` (the caller's transaction), as any server-side create is written."""
        ctx = Context(self.server, conn, now=now or _now())
        for event in events:
            create_resource(ctx, "AuditEvent", event, "POST", event["id"], deferred=True)
        ctx.store.flush()

    def record(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for the next flush."""
        with self._lock:
            self._queue.append(event)
            size = len(self._queue)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="ryggrad-audit", daemon=True)
                self._thread.start()
        if size >= FLUSH_AT:
            self._wake.set()

    def flush(self) -> None:
        """Store every event recorded so far (waiting for a flush under way in the background thread)."""
        with self._flushing:
            while True:
                with self._lock:
                    events, self._queue = self._queue[:CHUNK], self._queue[CHUNK:]
                if not events:
                    return
                try:
                    with self.server.db.writing() as conn:
                        self.write_now(conn, events)
                except Exception:
                    log.exception("storing %d audit events failed; they are kept for the next attempt", len(events))
                    with self._lock:
                        self._queue = events + self._queue
                    raise

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(FLUSH_EVERY_S)
            self._wake.clear()
            with contextlib.suppress(Exception):  # logged in flush; the thread goes on
                self.flush()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
