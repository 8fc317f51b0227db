"""The completion manifest of an export (Bulk Data IG v2): when the data were asked for, by which request, that a
token is needed to fetch them, and each file with its type, URL and count — the resources, and the
OperationOutcomes of what could not be exported."""

from __future__ import annotations

from typing import Any

from fhir_server.bulk.files import OutputFile
from fhir_server.bulk.jobs import Job
from fhir_server.rest.versioning import instant


def status_url(base_url: str, job_id: str) -> str:
    return f"{base_url.rstrip('/')}/bulk/status/{job_id}"


def file_url(base_url: str, job_id: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/bulk/files/{job_id}/{name}"


def files_of(job: Job) -> list[OutputFile]:
    return [OutputFile(**item) for item in (job.checkpoint or {}).get("files") or ()]


def manifest(job: Job, base_url: str) -> dict[str, Any]:
    files = [f for f in files_of(job) if f.count]
    return {
        "transactionTime": instant(job.transaction_time),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": f.type, "url": file_url(base_url, job.id, f.name), "count": f.count} for f in files if not f.error
        ],
        "error": [
            {"type": "OperationOutcome", "url": file_url(base_url, job.id, f.name), "count": f.count}
            for f in files
            if f.error
        ],
    }
