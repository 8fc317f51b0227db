"""The export jobs table (``bulk_export``): created at kick-off, claimed by one worker at a time (a lease renewed by
its heartbeat and checkpoints), finished, cancelled, and removed. Every change is one short write transaction; a
worker's changes name the worker, so one whose lease was taken over (or whose job was cancelled) changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from fhir_server.storage.engine import Database
from fhir_server.storage.schema import bulk_export

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = "queued", "running", "completed", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)


@dataclass
class Job:
    id: str
    status: str
    level: str  # system | patient | group
    group_id: str | None
    request_url: str
    parameters: dict[str, Any]
    principal: dict[str, Any] | None
    transaction_time: datetime
    created_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: str | None
    attempts: int
    checkpoint: dict[str, Any] | None
    progress: str | None
    error_status: int | None
    error: str | None

    @classmethod
    def of(cls, row: Any) -> Job:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


class LeaseLost(Exception):
    """The job is no longer this worker's: cancelled, removed, or taken over after the worker seemed dead."""


def create(
    conn: Connection,
    *,
    level: str,
    group_id: str | None,
    request_url: str,
    parameters: dict[str, Any],
    principal: dict[str, Any] | None,
    now: datetime,
) -> str:
    """A new queued job; its id."""
    job_id = uuid.uuid4().hex
    conn.execute(
        insert(bulk_export).values(
            id=job_id,
            status=QUEUED,
            level=level,
            group_id=group_id,
            request_url=request_url[:4000],
            parameters=parameters,
            principal=principal,
            client_id=(principal or {}).get("client_id"),
            transaction_time=now,
            created_at=now,
            heartbeat_at=now,
            attempts=0,
        )
    )
    return job_id


def active_count(conn: Connection, client_id: str | None) -> int:
    """Jobs of ``client_id`` queued or running."""
    where = bulk_export.c.client_id.is_(None) if client_id is None else bulk_export.c.client_id == client_id
    query = select(func.count()).select_from(bulk_export).where(where, bulk_export.c.status.in_(ACTIVE))
    return int(conn.execute(query).scalar_one())


def get(conn: Connection, job_id: str) -> Job | None:
    row = conn.execute(select(bulk_export).where(bulk_export.c.id == job_id)).first()
    return Job.of(row) if row is not None else None


def claim(db: Database, job_id: str, worker: str, now: datetime, stale_before: datetime) -> Job | None:
    """Take the job for ``worker``: a queued one, or a running one whose worker stopped reporting before
    ``stale_before``. None when it is not to be run here (finished, cancelled, gone, or running elsewhere)."""
    with db.writing() as conn:
        taken = conn.execute(
            update(bulk_export)
            .where(
                bulk_export.c.id == job_id,
                or_(
                    bulk_export.c.status == QUEUED,
                    (bulk_export.c.status == RUNNING) & (bulk_export.c.heartbeat_at < stale_before),
                ),
            )
            .values(
                status=RUNNING,
                worker=worker,
                heartbeat_at=now,
                started_at=func.coalesce(bulk_export.c.started_at, now),
                attempts=bulk_export.c.attempts + 1,
            )
        )
        return get(conn, job_id) if taken.rowcount else None


def _mine(job_id: str, worker: str) -> Any:
    return (bulk_export.c.id == job_id) & (bulk_export.c.worker == worker) & (bulk_export.c.status == RUNNING)


def report(
    db: Database,
    job_id: str,
    worker: str,
    now: datetime,
    *,
    checkpoint: dict[str, Any] | None = None,
    progress: str | None = None,
) -> None:
    """Renew the lease (and record a checkpoint and progress, when given); ``LeaseLost`` when it is not ours."""
    values: dict[str, Any] = {"heartbeat_at": now}
    if checkpoint is not None:
        values["checkpoint"] = checkpoint
    if progress is not None:
        values["progress"] = progress[:200]
    with db.writing() as conn:
        if not conn.execute(update(bulk_export).where(_mine(job_id, worker)).values(**values)).rowcount:
            raise LeaseLost(job_id)


def complete(db: Database, job_id: str, worker: str, now: datetime, checkpoint: dict[str, Any], progress: str) -> None:
    with db.writing() as conn:
        done = conn.execute(
            update(bulk_export)
            .where(_mine(job_id, worker))
            .values(status=COMPLETED, finished_at=now, heartbeat_at=now, checkpoint=checkpoint, progress=progress)
        )
        if not done.rowcount:
            raise LeaseLost(job_id)


def fail(db: Database, job_id: str, now: datetime, status: int, reason: str, worker: str | None = None) -> None:
    """The job ends as failed (``worker``: only while it is that worker's)."""
    where = _mine(job_id, worker) if worker is not None else bulk_export.c.id == job_id
    with db.writing() as conn:
        conn.execute(
            update(bulk_export)
            .where(where, bulk_export.c.status.in_(ACTIVE))
            .values(status=FAILED, finished_at=now, error_status=status, error=reason[:1000])
        )


def cancel(conn: Connection, job_id: str, now: datetime) -> bool:
    """Cancel (or, once finished, retire) the job: from now on it is not found; its row goes with the next sweep."""
    done = conn.execute(
        update(bulk_export)
        .where(bulk_export.c.id == job_id, bulk_export.c.status != CANCELLED)
        .values(status=CANCELLED, finished_at=now)
    )
    return bool(done.rowcount)


def stalled(db: Database, stale_before: datetime) -> list[Job]:
    """Queued jobs not started, and running ones not reported, since ``stale_before``."""
    with db.reading() as conn:
        rows = conn.execute(
            select(bulk_export).where(bulk_export.c.status.in_(ACTIVE), bulk_export.c.heartbeat_at < stale_before)
        ).all()
    return [Job.of(row) for row in rows]


def touch_queued(db: Database, job_id: str, now: datetime) -> None:
    """A queued job was sent to the workers again now."""
    with db.writing() as conn:
        conn.execute(
            update(bulk_export)
            .where(bulk_export.c.id == job_id, bulk_export.c.status == QUEUED)
            .values(heartbeat_at=now)
        )


def expired(db: Database, finished_before: datetime, cancelled_before: datetime) -> list[str]:
    """Jobs to remove: finished before ``finished_before``, or cancelled before ``cancelled_before``."""
    with db.reading() as conn:
        rows = conn.execute(
            select(bulk_export.c.id).where(
                or_(
                    bulk_export.c.status.in_((COMPLETED, FAILED)) & (bulk_export.c.finished_at < finished_before),
                    (bulk_export.c.status == CANCELLED) & (bulk_export.c.finished_at < cancelled_before),
                )
            )
        ).all()
    return [row.id for row in rows]


def remove(db: Database, job_id: str) -> None:
    with db.writing() as conn:
        conn.execute(delete(bulk_export).where(bulk_export.c.id == job_id))


def known_ids(db: Database) -> set[str]:
    with db.reading() as conn:
        return {row.id for row in conn.execute(select(bulk_export.c.id)).all()}


def stale_before(now: datetime, seconds: float) -> datetime:
    return now - timedelta(seconds=seconds)
