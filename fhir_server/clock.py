"""The server's one clock. In production it is the system clock. With ``RYGGRAD_CLOCK_TRAVEL=true`` (tests, demos)
it can be moved forward — ``ryggrad clock --travel 16d`` — by an offset kept in the database, so the API processes
and every worker travel together: due forms go out, follow-ups fall due, as if the days had passed."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import select, update

from fhir_server.rest.context import utc_now
from fhir_server.storage.engine import Database
from fhir_server.storage.schema import clock_offset

REFRESH_S = 0.5  # how stale a process's view of the offset may be
_DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``6h``, ``16d`` as seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a duration like 30s, 15m, 6h or 16d")
    return float(match["n"]) * _UNITS[match["unit"]]


class Clock:
    def __init__(self, db: Database, travel: bool) -> None:
        self.db = db
        self.travel_enabled = travel
        self._offset = 0.0
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Naive UTC, as stored."""
        if not self.travel_enabled:
            return utc_now()
        return utc_now() + timedelta(seconds=self.offset())

    def offset(self) -> float:
        with self._lock:
            if time.monotonic() - self._read_at > REFRESH_S:
                with self.db.reading() as conn:
                    found = conn.execute(select(clock_offset.c.seconds).where(clock_offset.c.id == 1)).scalar()
                self._offset = float(found or 0.0)
                self._read_at = time.monotonic()
            return self._offset

    def travel(self, seconds: float) -> float:
        """Move every process's clock forward by ``seconds`` (at once in this one); the new offset."""
        if not self.travel_enabled:
            raise RuntimeError("the clock travels only with RYGGRAD_CLOCK_TRAVEL=true")
        if seconds < 0:
            raise ValueError("the clock only goes forward (versions and due times must not run backwards)")
        with self.db.writing() as conn:
            conn.execute(
                update(clock_offset).where(clock_offset.c.id == 1).values(seconds=clock_offset.c.seconds + seconds)
            )
            offset = float(conn.execute(select(clock_offset.c.seconds).where(clock_offset.c.id == 1)).scalar() or 0.0)
        with self._lock:
            self._offset, self._read_at = offset, time.monotonic()
        return offset
