"""Handing a job to the workers: a ``ryggrad.bulk.export`` task naming it. The job row is the work, the task only
a wake-up call: one that cannot be sent (the broker is away) is picked up by the scheduler's sweep instead."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fhir_server.server import FhirServer

log = logging.getLogger("ryggrad.bulk")

EXPORT_TASK = "ryggrad.bulk.export"


def enqueue(server: FhirServer, job_id: str) -> bool:
    """Ask a worker to run (or resume) the job; whether the request was sent."""
    try:
        server.waker.app.send_task(EXPORT_TASK, args=[job_id], retry=False)
    except Exception as exc:  # the sweep sends it again
        log.warning("could not queue export %s: %s", job_id, type(exc).__name__)
        return False
    return True
