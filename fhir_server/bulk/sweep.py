"""The scheduler's care of exports: stalled jobs sent to the workers again (a queued one whose task was lost, a
running one whose worker stopped reporting — it resumes from its checkpoint), and finished jobs removed with their
files once the retention time has passed (cancelled ones at once, after their worker has had time to stop)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fhir_server.bulk import jobs
from fhir_server.bulk.files import JOB_ID, bulk_dir, remove_job_dir
from fhir_server.bulk.queue import enqueue

if TYPE_CHECKING:
    from fhir_server.server import FhirServer


def resume_stalled(server: FhirServer) -> list[str]:
    """Queue the stalled jobs again; their ids."""
    now = server.clock()
    found = jobs.stalled(server.db, jobs.stale_before(now, server.settings.bulk_stale_after_s))
    for job in found:
        if job.status == jobs.QUEUED:
            jobs.touch_queued(server.db, job.id, now)
        enqueue(server, job.id)
    return [job.id for job in found]


def remove_expired(server: FhirServer) -> list[str]:
    """Remove the jobs past retention (and cancelled ones), their files, and any folder no job owns; their ids."""
    settings = server.settings
    now = server.clock()
    expired = jobs.expired(
        server.db,
        jobs.stale_before(now, settings.bulk_retention_s),
        jobs.stale_before(now, settings.bulk_stale_after_s),
    )
    for job_id in expired:
        remove_job_dir(settings, job_id)
        jobs.remove(server.db, job_id)
    folder = bulk_dir(settings)
    if folder.is_dir():
        known = jobs.known_ids(server.db)
        for path in folder.iterdir():  # left by a worker that wrote on after its job was cancelled
            old = time.time() - path.stat().st_mtime > settings.bulk_stale_after_s
            if path.is_dir() and JOB_ID.fullmatch(path.name) and path.name not in known and old:
                remove_job_dir(settings, path.name)
    return expired
