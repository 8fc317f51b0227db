"""``POST Patient/$request-correction`` (or ``Patient/[id]/…``): the patient asks for their data to be corrected
(R2). A Task for the units holding it; staff correct the resources, and their history shows the change."""

from __future__ import annotations

from fhir_server.operations.patient_request import request
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/patient-request-correction"


def request_correction(
    ctx: Context, req: FhirRequest, resource_type: str, resource_id: str | None = None
) -> FhirResponse:
    return request(ctx, req, DEFINITION, "correction", resource_id)
