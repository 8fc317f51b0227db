"""The kick-off request of an export, read and checked before any job exists: ``Prefer: respond-async``, the
parameters (``_outputFormat``, ``_since``, ``_type``, ``_typeFilter``; from the URL, or a ``Parameters`` body when
POSTed), and what the caller may export. A parameter the server does not support is a 400 — unless the client sent
``Prefer: handling=lenient``, when it is ignored and named in the 202's OperationOutcome. The outcome is the job's
``parameters``: the concrete resource types and the searches that will be run for them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import select

from fhir_server.auth.roles import role_allows
from fhir_server.errors import FhirError, Issue, bad_request
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest
from fhir_server.search.dates import parse_date_range
from fhir_server.storage.schema import resource

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = frozenset({NDJSON, "application/ndjson", "ndjson"})
SUPPORTED = frozenset({"_outputFormat", "_since", "_type", "_typeFilter"})
#: Parameters of the specification this server does not offer (400, or ignored when lenient).
UNSUPPORTED = frozenset({"_elements", "patient", "includeAssociatedData", "_until", "organizeOutputBy"})
IGNORED = frozenset({"_format", "_pretty"})
#: Search result parameters, which a _typeFilter query may not use.
RESULT_PARAMETERS = frozenset(
    {"_sort", "_count", "_include", "_revinclude", "_summary", "_elements", "_total", "_contained", "_containedType",
     "_page", "_format", "_pretty"}
)  # fmt: skip
_NEXT_QUERY = re.compile(r",(?=[A-Z][A-Za-z]+\?)")  # STU1 clients join several queries with commas


@dataclass
class KickOff:
    """What the kick-off asked for, checked: the job's ``parameters`` and what was ignored (lenient)."""

    parameters: dict[str, Any]
    ignored: list[str] = field(default_factory=list)


def _prefer(req: FhirRequest) -> set[str]:
    return {part.strip().replace(" ", "") for part in (req.header("prefer") or "").split(",") if part.strip()}


def _values(req: FhirRequest) -> list[tuple[str, str]]:
    """The parameters as (name, text), from the URL and a ``Parameters`` body alike."""
    found = [(name, value) for name, value in req.query if name not in IGNORED]
    body = req.body
    if body is None:
        return found
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise bad_request("$export takes its parameters in the URL or in a Parameters resource")
    for item in body.get("parameter") or ():
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise bad_request("Each parameter of $export needs a name")
        value = next((v for k, v in item.items() if k.startswith("value")), None)
        if isinstance(value, dict):  # valueReference (patient)
            value = value.get("reference")
        found.append((name, str(value) if value is not None else ""))
    return found


def _split_types(values: list[str]) -> list[str]:
    return [t.strip() for value in values for t in value.split(",") if t.strip()]


def _filters(values: list[str], known: frozenset[str]) -> dict[str, list[list[tuple[str, str]]]]:
    """``_typeFilter`` queries by type (several for one type are alternatives)."""
    found: dict[str, list[list[tuple[str, str]]]] = {}
    for value in values:
        for query in _NEXT_QUERY.split(value):
            kind, mark, text = query.strip().partition("?")
            if not mark or kind not in known:
                raise bad_request(f"_typeFilter must be a search of one resource type (Type?name=value): {query!r}")
            params = parse_qsl(text, keep_blank_values=True)
            if not params:
                raise bad_request(f"_typeFilter names no search parameters: {query!r}", "_typeFilter")
            controls = sorted({n for n, _ in params if n.split(":", 1)[0] in RESULT_PARAMETERS})
            if controls:
                raise bad_request(f"_typeFilter cannot use {', '.join(controls)}: it filters, it does not shape")
            found.setdefault(kind, []).append(params)
    return found


def may_search(ctx: Context, kind: str) -> bool:
    """Whether the caller may search ``kind`` (``*``: every type at once): scopes, role, and the audit trail."""
    principal = ctx.principal
    if kind in ctx.hidden_types:
        return False
    if principal is None:
        return True
    if kind == "*":
        granted = any(k == "*" and op == "s" for _, k, op in principal.permissions.grants)
        return granted and role_allows(principal.role, "*", "s")
    return principal.permissions.allows(kind, "s") and role_allows(principal.role, kind, "s")


def _stored_types(ctx: Context) -> list[str]:
    """The types the database holds current resources of."""
    query = select(resource.c.resource_type).where(~resource.c.deleted).distinct()
    return sorted(row[0] for row in ctx.conn.execute(query).all())


def _refuse(kinds: list[str]) -> FhirError:
    return FhirError(403, [Issue("forbidden", f"Access denied: the caller may not search {', '.join(kinds)}")])


def read_kick_off(ctx: Context, req: FhirRequest, level: str) -> KickOff:
    """The job's parameters for an export at ``level`` (system, patient, group); a 400 or 403 for a request that
    cannot be served as asked."""
    prefer = _prefer(req)
    if "respond-async" not in prefer:
        raise bad_request("$export runs asynchronously: send the header Prefer: respond-async")
    lenient = "handling=lenient" in prefer
    if ctx.is_patient:
        raise FhirError(403, [Issue("forbidden", "Access denied: patients see their record with $everything")])
    values = _values(req)
    outcome = KickOff({})
    by_name: dict[str, list[str]] = {}
    for name, value in values:
        if name in SUPPORTED:
            by_name.setdefault(name, []).append(value)
            continue
        why = "is not supported by this server" if name in UNSUPPORTED else "is not a parameter of $export"
        if not lenient:
            raise bad_request(f"The parameter '{name}' {why} (Prefer: handling=lenient ignores it)", name)
        outcome.ignored.append(name)
    for name in ("_outputFormat", "_since"):
        if len(by_name.get(name, [])) > 1:
            raise bad_request(f"$export takes '{name}' once", name)
    output_format = (by_name.get("_outputFormat") or [NDJSON])[0]
    if output_format not in OUTPUT_FORMATS:
        raise bad_request(f"_outputFormat {output_format!r} is not offered: use {NDJSON}", "_outputFormat")
    since = (by_name.get("_since") or [None])[0]
    if since is not None:
        if "T" in since and not re.search(r"(Z|[+-]\d{2}:\d{2})$", since):
            raise bad_request("_since must be an instant with a time zone (e.g. 2026-01-01T00:00:00Z)", "_since")
        parse_date_range(since, "_since")
    known = ctx.server.resource_types
    asked = _split_types(by_name.get("_type", []))
    unknown = sorted(set(asked) - known)
    if unknown:
        raise bad_request(f"_type names unknown resource types: {', '.join(unknown)}", "_type")
    filters = _filters(by_name.get("_typeFilter", []), known)
    for kind, queries in filters.items():
        for params in queries:  # an unknown or refused search parameter fails now, not in the worker
            ctx.server.search_plan(kind, params, strict=True, ownership=ctx.ownership)
    if level == "system":
        scope = sorted(set(asked)) if asked else [t for t in _stored_types(ctx) if may_search(ctx, t)]
    else:
        record = [t for t in ctx.server.compartments.resource_types("Patient")]
        outside = sorted(set(asked) - set(record))
        if outside:
            raise bad_request(f"_type names types outside the Patient compartment: {', '.join(outside)}", "_type")
        scope = sorted(set(asked)) if asked else [t for t in record if may_search(ctx, t)]
    refused = sorted({t for t in [*asked, *filters] if not may_search(ctx, t)})
    if refused:
        raise _refuse(refused)
    if level != "system":
        outside = sorted(set(filters) - set(ctx.server.compartments.resource_types("Patient")))
        if outside:
            raise bad_request(f"_typeFilter names types outside the Patient compartment: {', '.join(outside)}")
    kept = {t: [_encoded(q) for q in qs] for t, qs in filters.items() if t in scope}
    outcome.parameters = {
        "outputFormat": output_format,
        "since": since,
        "types": scope,
        "typeFilters": kept,
        "requestedTypes": asked,
        "everyType": level != "system" and not asked and may_search(ctx, "*"),
    }
    return outcome


def _encoded(params: list[tuple[str, str]]) -> list[list[str]]:
    return [[name, value] for name, value in params]
