"""``POST [base]/ViewDefinition/$run`` (SQL-on-FHIR v2) and ``GET [base]/ViewDefinition/[name]/$run``: a view's rows
as JSON, NDJSON, CSV or Parquet — the file itself as the response body, not a FHIR resource.

The view is one of the registry's (``viewReference``, or the name in the URL: ``fhir_server.datasets.catalogue``) or
given inline (``viewResource``). Its rows come from what the caller may search (``fhir_server.datasets.source``):
the query layer's restrictions and, for a researcher, its de-identification apply to them as to any search. Or
from ``resource`` parameters, when the caller brings the resources. ``patient``, ``_since`` and ``_limit`` narrow.

ViewDefinition is SQL-on-FHIR's logical model, not an R4 resource type: the registry declares this operation as
``logical`` (``registry.py``), so its handler gets no path arguments and checks its callers itself — the registry
administration and researchers (``source.check_caller``); every search it makes is authorised as the caller's own.
"""

from __future__ import annotations

import re
from typing import Any

from fhir_server.datasets.catalogue import find_view
from fhir_server.datasets.formats import MEDIA_TYPES, encode, output_format
from fhir_server.datasets.source import Selection, check_caller, view_rows
from fhir_server.errors import FhirError, Issue, bad_request, not_found
from fhir_server.operations.parameters import operation_definition, parse
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.views.errors import ViewDefinitionError

DEFINITION = "https://ryggrad.no/fhir/OperationDefinition/viewdefinition-run"


def _one(values: dict[str, list[Any]], req: FhirRequest, name: str) -> Any:
    """A 0..1 parameter, from the body or (for the ``_`` ones, which the URL parser leaves) the query."""
    found = values.get(name) or req.params(name)
    return found[-1] if found else None


def _reference(value: Any) -> str:
    return str(value.get("reference") or "") if isinstance(value, dict) else str(value)


def _view(ctx: Context, req: FhirRequest, values: dict[str, list[Any]]) -> dict[str, Any]:
    parts = [p for p in req.path.strip("/").split("/") if p]
    named = parts[1] if len(parts) == 3 else None  # ViewDefinition/[name]/$run
    inline = _one(values, req, "viewResource")
    reference = _one(values, req, "viewReference")
    if sum(x is not None for x in (named, inline, reference)) != 1:
        raise bad_request("Name one view: viewReference, viewResource, or ViewDefinition/[name]/$run")
    if inline is not None:
        if inline.get("resourceType") != "ViewDefinition":
            raise bad_request("viewResource must be a ViewDefinition", "viewResource")
        return inline
    wanted = named or _reference(reference)
    view = find_view(ctx.server.settings.views_dir, wanted)
    if view is None:
        raise not_found(f"No ViewDefinition {wanted!r} on this server")
    return view


def _selection(req: FhirRequest, values: dict[str, list[Any]]) -> Selection:
    limit = _one(values, req, "_limit")
    if limit is not None:
        try:
            limit = int(limit)
        except (TypeError, ValueError):
            limit = -1
        if isinstance(limit, bool) or limit < 1:
            raise bad_request("_limit must be a whole number above 0", "_limit")
    since = _one(values, req, "_since")
    patients = tuple(_reference(p) for p in values.get("patient") or ())
    return Selection(patients=patients, since=str(since) if since else None, limit=limit)


def run(ctx: Context, req: FhirRequest) -> FhirResponse:
    check_caller(ctx.principal)
    values = parse(operation_definition(ctx.server.definitions, DEFINITION), req.body, req.query)
    form = output_format(_one(values, req, "_format"))
    if form is None:
        raise bad_request("_format is json, ndjson, csv or parquet", "_format")
    header = _one(values, req, "header")
    view = _view(ctx, req, values)
    selection = _selection(req, values)
    given = values.get("resource")
    try:
        columns, rows = view_rows(ctx.server, ctx.principal, view, selection, given)
        content = encode(rows, columns, form, view, header=header not in (False, "false"))
    except ViewDefinitionError as error:
        raise FhirError(400, [Issue("invalid", f"The ViewDefinition cannot be run: {error}")]) from error
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(view.get("name") or "view"))
    headers = {"Content-Disposition": f'inline; filename="{name}.{form}"'}
    return FhirResponse(200, headers=headers, content=content, media_type=MEDIA_TYPES[form])
