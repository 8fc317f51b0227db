"""``GET /metadata``: the CapabilityStatement, generated from what the router implements and what is loaded."""

from __future__ import annotations

from typing import Any

from fhir_server import FHIR_VERSION, __version__
from fhir_server.auth.ownership import OWNER_SYSTEM
from fhir_server.operations import registry as operations
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

# What each parameter type accepts here (the modifiers and prefixes the query builder implements).
_TYPE_DOCS = {
    "string": "Starts-with, case- and accent-insensitive (Søreng = soreng); :exact, :contains, :missing.",
    "token": "system|code, |code, system|, code; :not, :text, :in, :not-in (ValueSets in the loaded packages), "
    ":of-type (identifiers), :missing.",
    "reference": "id, Type/id or URL; :[type], :identifier, :missing; chaining (param:Type.param=…) and _has.",
    "date": "Prefixes eq ne gt lt ge le sa eb ap with range semantics at the value's precision; :missing.",
    "number": "Prefixes eq ne gt lt ge le sa eb ap; precision-aware equality; :missing.",
    "quantity": "[prefix]number|system|code or [prefix]number||unit; :missing.",
    "uri": "Exact; :above, :below, :missing.",
    "composite": "Component values joined with $, each as its own type (e.g. code$gt5).",
}
_SPECIAL_DOCS = {
    "_id": "Logical id; comma-separated for OR.",
    "_lastUpdated": "When the current version was written; prefixes eq ne gt lt ge le sa eb ap.",
}
_SPECIAL_TYPES = {"_id": "token", "_lastUpdated": "date"}


def _parameters(ctx: Context, resource_type: str) -> list[dict[str, Any]]:
    definitions = {p.get("code"): p for p in ctx.server.definitions.search_parameters(resource_type)}
    params = []
    for code in sorted(ctx.server.searchable(resource_type)):
        definition = definitions.get(code, {})
        kind = _SPECIAL_TYPES.get(code) or definition.get("type", "token")
        param: dict[str, Any] = {
            "name": code,
            "type": kind,
            "documentation": _SPECIAL_DOCS.get(code) or _TYPE_DOCS.get(kind, ""),
        }
        if definition.get("url"):
            param["definition"] = definition["url"]
        params.append(param)
    return params


def _includes(ctx: Context, resource_type: str) -> tuple[list[str], list[str]]:
    """(searchInclude, searchRevInclude): reference parameters from and to ``resource_type``."""
    definitions = ctx.server.definitions
    includes = sorted(
        f"{resource_type}:{p['code']}"
        for p in definitions.search_parameters(resource_type)
        if p.get("type") == "reference" and p.get("code") in ctx.server.searchable(resource_type)
    )
    reverse = sorted(
        f"{other}:{p['code']}"
        for other in ctx.server.resource_types
        for p in definitions.search_parameters(other)
        if p.get("type") == "reference"
        and resource_type in (p.get("target") or ())
        and p.get("code") in ctx.server.searchable(other)
    )
    return ["*", *includes], reverse


TOPIC_CANONICAL = (
    "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical"
)
WEBSOCKET = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket"


def _operations(found: list[operations.Operation]) -> list[dict[str, Any]]:
    return [{"name": op.code, "definition": op.definition} for op in found]


def _resource_entry(ctx: Context, resource_type: str) -> dict[str, Any]:
    params = _parameters(ctx, resource_type)
    search_include, search_rev_include = _includes(ctx, resource_type)
    topics = [{"url": TOPIC_CANONICAL, "valueCanonical": t.url} for t in ctx.server.topics]
    return {
        **({"extension": topics} if resource_type == "Subscription" and topics else {}),
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
        "searchInclude": search_include,
        "searchRevInclude": search_rev_include,
        "searchParam": params,
        "operation": _operations(operations.on_type(resource_type)),
    }


def _security(ctx: Context) -> dict[str, Any]:
    settings = ctx.server.settings
    issuer = "the development issuer (ryggrad token)" if settings.auth == "dev" else settings.auth_issuer
    bearer = "DPoP-bound tokens (RFC 9449)" + (
        " or plain Bearer tokens" if ctx.server.authenticator.accept_bearer else ""
    )
    return {
        "cors": False,
        "service": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                    },
                    {"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"},
                ]
            }
        ],
        "description": f"OAuth2 access tokens (JWT) from {issuer}, audience {settings.auth_audience}: {bearer}. "
        "Scopes: SMART v2 (system/Appointment.cu, user/*.rs, patient/QuestionnaireResponse.cru), the v1 .read/.write "
        "forms and nhn:ryggrad/<SMART scope>. Only this CapabilityStatement is served without a token. "
        "Roles (ehr, clerk, clinician, local-lead, registry-admin, researcher, patient) bound what a token's scopes "
        "allow. A unit's users see only their unit's resources (meta.security "
        f"{OWNER_SYSTEM}|<orgnr>, stamped on write) and the shared conformance and directory resources; another "
        "unit's resource answers 404.",
    }


def _websocket_url(ctx: Context) -> str:
    """Where R4 websocket Subscriptions bind (``bind <id>``): the base URL's host, ws(s) scheme."""
    base = ctx.base_url
    scheme = "wss" if base.startswith("https://") else "ws"
    return f"{scheme}://{base.split('://', 1)[-1]}/websocket"


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
                "extension": [{"url": WEBSOCKET, "valueUri": _websocket_url(ctx)}],
                "mode": "server",
                "documentation": "Search by FNR/DNR with POST [type]/_search (form body), never in the URL. "
                "Unknown parameters are ignored and reported in the searchset's OperationOutcome; Prefer: "
                "handling=strict makes them an error. Result controls: _count, _sort (any parameter, -desc), "
                "_include/_revinclude (:iterate, *), _summary, _elements, _total (none by default; estimate "
                "is the database planner's estimate on PostgreSQL). Paging links are sealed keyset cursors. "
                "_list=<List id> is supported. "
                "Not supported: _contained, _text, _content, _filter, _query, token :above/:below "
                "(subsumption).",
                "security": _security(ctx),
                "resource": [_resource_entry(ctx, t) for t in sorted(ctx.server.resource_types)],
                "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
                "operation": _operations(operations.on_system()),
            }
        ],
    }


def metadata(ctx: Context, req: FhirRequest) -> FhirResponse:
    return FhirResponse(200, ctx.server.capability_statement(ctx))
