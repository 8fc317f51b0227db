"""``POST Patient/$request-erasure`` (or ``Patient/[id]/…``): the patient asks for their registry data to be
erased (R3; with NNRR, what withdrawing consent leads to). A Task for the registry administration, who erases the
record (``Patient/[id]/$erase``) and leaves only an audit record that it happened."""

from __future__ import annotations

from fhir_server.operations.patient_request import request
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/patient-request-erasure"


def request_erasure(ctx: Context, req: FhirRequest, resource_type: str, resource_id: str | None = None) -> FhirResponse:
    return request(ctx, req, DEFINITION, "erasure", resource_id)
