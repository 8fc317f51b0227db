"""FHIR answers as HTTP responses: a resource as FHIR JSON (or a body in another format as it is), a FhirError as
its OperationOutcome, and anything unexpected as a 500 naming an incident (the details only in the log)."""

from __future__ import annotations

import logging
import uuid

import orjson
from starlette.responses import Response

from fhir_server.errors import FhirError, Issue, operation_outcome
from fhir_server.http.media import FHIR_JSON
from fhir_server.rest.messages import FhirResponse


def render(response: FhirResponse, pretty: bool = False, head: bool = False) -> Response:
    headers = dict(response.headers)
    if response.content is not None:
        return Response(b"" if head else response.content, response.status, headers, media_type=response.media_type)
    if response.resource is None or response.status in (204, 304):
        return Response(status_code=response.status, headers=headers)
    option = orjson.OPT_INDENT_2 if pretty else 0
    content = b"" if head else orjson.dumps(response.resource, option=option)
    return Response(content, response.status, headers, media_type=f"{FHIR_JSON}; charset=utf-8")


def error_response(error: FhirError, pretty: bool = False) -> Response:
    return render(FhirResponse(error.status, error.outcome, error.headers), pretty)


def internal_error(log: logging.Logger, pretty: bool = False) -> Response:
    """Call from an ``except`` block: the exception logged under a new incident id, which the 500 names."""
    incident = uuid.uuid4().hex[:12]
    log.exception("unexpected error, incident %s", incident)
    outcome = operation_outcome([Issue("exception", f"Internal server error (incident {incident})")])
    return render(FhirResponse(500, outcome), pretty)
