"""The limit for ingest: the same resources written straight into a fresh database of the same kind with
SQLAlchemy Core — the project's tables (``fhir_server.storage.schema``), one ``resource`` and one
``resource_history`` row per resource, each stamped with a new id and meta as the server would, one database
transaction per bundle, ``executemany`` inserts. No HTTP, no validation, no reference resolution, no token index."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from bench.synthea import SyntheaBundle
from fhir_server.storage.engine import Database
from fhir_server.storage.schema import metadata, resource, resource_history


@dataclass
class DirectResult:
    resources: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.resources / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"resources": self.resources, "seconds": round(self.seconds, 3), "resources_per_s": round(self.per_s, 1)}


def _stamped(content: dict[str, Any], now: datetime) -> dict[str, Any]:
    meta = {**(content.get("meta") or {}), "versionId": "1", "lastUpdated": now.isoformat() + "Z"}
    rest = {k: v for k, v in content.items() if k not in ("resourceType", "id", "meta")}
    return {"resourceType": content["resourceType"], "id": str(uuid.uuid4()), "meta": meta, **rest}


def _rows(bundle: SyntheaBundle) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    now = datetime.now(UTC).replace(tzinfo=None)
    current, history = [], []
    for content in bundle.resources:
        stamped = _stamped(content, now)
        row = {
            "resource_type": stamped["resourceType"],
            "id": stamped["id"],
            "version_id": 1,
            "last_updated": now,
            "deleted": False,
            "content": stamped,
        }
        current.append(row)
        history.append({**row, "method": "POST"})
    return current, history


def run_direct_insert(database_url: str, bundles: list[SyntheaBundle]) -> DirectResult:
    """Create the tables on the (empty) database, then time the inserts of every bundle's resources."""
    db = Database(database_url)  # the server's engine settings: SQLite pragmas, orjson serialiser, psycopg 3
    try:
        metadata.create_all(db.engine)
        seconds = 0.0
        for bundle in bundles:
            started = time.perf_counter()
            current, history = _rows(bundle)
            with db.writing() as conn:
                conn.execute(insert(resource), current)
                conn.execute(insert(resource_history), history)
            seconds += time.perf_counter() - started
        return DirectResult(sum(b.size for b in bundles), seconds)
    finally:
        db.dispose()
