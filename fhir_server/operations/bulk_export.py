"""``$export`` (FHIR Bulk Data Access IG v2), asynchronous: ``[base]/$export`` (everything the caller may search),
``Patient/$export`` (the Patient compartments of every patient the caller sees) and ``Group/[id]/$export`` (those
of the Group's member patients), by GET or by POST with a Parameters body, with ``Prefer: respond-async``. The
kick-off checks the request (``bulk.kickoff``), stores the job and queues it for the workers: 202 with the status URL
in ``Content-Location``. The job runs as the caller, through the server's own search (``bulk.runner``)."""

from __future__ import annotations

from urllib.parse import urlencode

from fhir_server.bulk import jobs
from fhir_server.bulk.kickoff import read_kick_off
from fhir_server.bulk.manifest import status_url
from fhir_server.bulk.principals import to_json
from fhir_server.bulk.queue import enqueue
from fhir_server.errors import FhirError, Issue, not_found, operation_outcome
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse

CANONICAL = "https://ryggrad.no/fhir/OperationDefinition/"
DEFINITION = CANONICAL + "export"
PATIENT_DEFINITION = CANONICAL + "patient-export"
GROUP_DEFINITION = CANONICAL + "group-export"


def export_system(ctx: Context, req: FhirRequest) -> FhirResponse:
    return _kick_off(ctx, req, "system")


def export_patients(ctx: Context, req: FhirRequest, resource_type: str) -> FhirResponse:
    return _kick_off(ctx, req, "patient")


def export_group(ctx: Context, req: FhirRequest, resource_type: str, group_id: str) -> FhirResponse:
    current = ctx.store.current("Group", group_id)
    if current is None or current.deleted:
        raise not_found(f"Group/{group_id} is not known")
    return _kick_off(ctx, req, "group", group_id)


def _request_url(ctx: Context, req: FhirRequest) -> str:
    url = f"{ctx.base_url}/{req.path.strip('/')}"
    return url + (f"?{urlencode(req.query)}" if req.query else "")


def _kick_off(ctx: Context, req: FhirRequest, level: str, group_id: str | None = None) -> FhirResponse:
    checked = read_kick_off(ctx, req, level)
    server = ctx.server
    settings = server.settings
    principal = to_json(ctx.principal)
    client_id = (principal or {}).get("client_id")
    with server.db.writing() as conn:  # its own transaction: the job exists before a worker is told of it
        if jobs.active_count(conn, client_id) >= settings.bulk_max_jobs_per_client:
            wait = str(settings.bulk_retry_after_s)
            message = f"Too many exports under way for this client (at most {settings.bulk_max_jobs_per_client})"
            raise FhirError(429, [Issue("throttled", message)], {"Retry-After": wait})
        job_id = jobs.create(
            conn,
            level=level,
            group_id=group_id,
            request_url=_request_url(ctx, req),
            parameters=checked.parameters,
            principal=principal,
            now=ctx.now,
        )
    enqueue(server, job_id)
    issues = [
        Issue("informational", "The export was accepted; poll the Content-Location for its status", "information")
    ]
    issues += [Issue("not-supported", f"The parameter '{n}' was ignored", "warning") for n in checked.ignored]
    return FhirResponse(202, operation_outcome(issues), {"Content-Location": status_url(ctx.base_url, job_id)})
