"""``GET /metadata``: the CapabilityStatement, generated from what the router implements and what is loaded."""

from __future__ import annotations

from typing import Any

from fhir_server import FHIR_VERSION, __version__
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.versioning import instant

TYPE_INTERACTIONS = (
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)
SYSTEM_INTERACTIONS = ("transaction", "batch", "history-system")

_SEARCH_DOCS = {
    "_id": "Logical id; comma-separated for OR.",
    "_lastUpdated": "When the current version was written; prefixes eq ne gt lt ge le sa eb ap.",
    "identifier": "system|value, |value, system| or value. Search by FNR/DNR with POST [type]/_search so "
    "the number never appears in a URL.",
}
_SEARCH_TYPES = {"_id": "token", "_lastUpdated": "date", "identifier": "token"}


def _definition_url(ctx: Context, resource_type: str, code: str) -> str | None:
    for param in ctx.server.definitions.search_parameters(resource_type):
        if param.get("code") == code:
            return param.get("url")
    return None


def _resource_entry(ctx: Context, resource_type: str) -> dict[str, Any]:
    params = []
    for code in sorted(ctx.server.searchable(resource_type)):
        param: dict[str, Any] = {
            "name": code,
            "type": _SEARCH_TYPES[code],
            "documentation": _SEARCH_DOCS[code],
        }
        url = _definition_url(ctx, resource_type, code)
        if url:
            param["definition"] = url
        params.append(param)
    return {
        "type": resource_type,
        "profile": f"http://hl7.org/fhir/StructureDefinition/{resource_type}",
        "interaction": [{"code": code} for code in TYPE_INTERACTIONS],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalRead": "full-support",
        "conditionalUpdate": True,
        "conditionalDelete": "single",
        "referencePolicy": ["literal", "logical", "local"],
        "searchParam": params,
    }


def capability_statement(ctx: Context) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(ctx.server.started_at),
        "publisher": "Ryggrad",
        "kind": "instance",
        "software": {"name": "Ryggrad", "version": __version__},
        "implementation": {"description": "Ryggrad FHIR server", "url": ctx.base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Search by FNR/DNR with POST [type]/_search (form body), never in the URL. "
                "Prefer: handling=strict makes unknown search parameters an error. _total is opt-in.",
                "resource": [_resource_entry(ctx, t) for t in sorted(ctx.server.resource_types)],
                "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
            }
        ],
    }


def metadata(ctx: Context, req: FhirRequest) -> FhirResponse:
    return FhirResponse(200, ctx.server.capability_statement(ctx))
