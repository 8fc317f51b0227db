"""The status and file URLs of an export, under the FHIR base: ``GET bulk/status/<job>`` (202 with Retry-After and
X-Progress while it runs, 200 with the manifest once complete, the failure's status and OperationOutcome if it
failed), ``DELETE bulk/status/<job>`` (202: cancelled, its files removed) and ``GET bulk/files/<job>/<file>`` (the
NDJSON). Only the caller who started a job sees it — the same client, role, unit and study; to anyone else, and
after it was cancelled or expired, it is not found (404)."""

from __future__ import annotations

from datetime import UTC, timedelta
from email.utils import format_datetime

import orjson

from fhir_server.bulk import jobs
from fhir_server.bulk.files import FILE_NAME, JOB_ID, read_file, remove_job_dir
from fhir_server.bulk.kickoff import NDJSON
from fhir_server.bulk.manifest import files_of, manifest
from fhir_server.bulk.principals import same_caller
from fhir_server.errors import FhirError, Issue, not_found, operation_outcome
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse

MANIFEST_TYPE = "application/json"


def _job(ctx: Context, job_id: str) -> jobs.Job:
    job = jobs.get(ctx.conn, job_id) if JOB_ID.fullmatch(job_id) else None
    if job is None or job.status == jobs.CANCELLED or not same_caller(job.principal, ctx.principal):
        raise not_found("No such export (it may have been cancelled or have expired)")
    return job


def status(ctx: Context, req: FhirRequest, job_id: str) -> FhirResponse:
    """Where the export stands."""
    job = _job(ctx, job_id)
    settings = ctx.server.settings
    if job.status in jobs.ACTIVE:
        headers = {"Retry-After": str(settings.bulk_retry_after_s), "X-Progress": job.progress or "queued"}
        return FhirResponse(202, headers=headers)
    if job.status == jobs.FAILED:
        raise FhirError(job.error_status or 500, [Issue("exception", job.error or "The export failed")])
    expires = (job.finished_at or job.created_at) + timedelta(seconds=settings.bulk_retention_s)
    headers = {"Expires": format_datetime(expires.replace(tzinfo=UTC), usegmt=True)}
    body = orjson.dumps(manifest(job, ctx.base_url))
    return FhirResponse(200, headers=headers, content=body, media_type=MANIFEST_TYPE)


def cancel(ctx: Context, req: FhirRequest, job_id: str) -> FhirResponse:
    """Cancel a running export, or delete a finished one's files: 202, and from now on 404."""
    job = _job(ctx, job_id)
    jobs.cancel(ctx.conn, job.id, ctx.now)
    remove_job_dir(ctx.server.settings, job.id)  # a worker still running it stops at its next report
    outcome = operation_outcome(
        [Issue("informational", "The export was cancelled and its files deleted", "information")]
    )
    return FhirResponse(202, outcome)


def download(ctx: Context, req: FhirRequest, job_id: str, name: str) -> FhirResponse:
    """One file of a completed export, as NDJSON."""
    job = _job(ctx, job_id)
    listed = {f.name for f in files_of(job) if f.count}
    content = read_file(ctx.server.settings, job.id, name) if job.status == jobs.COMPLETED and name in listed else None
    if content is None or not FILE_NAME.fullmatch(name):
        raise not_found(f"No file {name!r} in this export")
    return FhirResponse(200, content=content, media_type=NDJSON)
