"""The DIPS intake's HTTP face: a FHIR base of its own, ``/intake/dips``, that takes appointments as DIPS Arena
sends them — ``PUT /intake/dips/Appointment/[id]`` and ``POST /intake/dips`` with a transaction or batch Bundle of
such PUTs — and ``GET /intake/dips/metadata`` saying so. The sending unit is the token's organisation (HelseID
``orgnr_child``); what is written is the registry's Appointment (``integrations/dips/intake.py``), and what is
answered is that Appointment as the unit sees it (``Location``: its address in the registry's FHIR API)."""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from fhir_server.audit.events import audit_event
from fhir_server.auth.ownership import Ownership
from fhir_server.auth.principal import Principal
from fhir_server.errors import FhirError, Issue, bad_request, fhir_error, operation_outcome
from fhir_server.http.answers import error_response, internal_error, render
from fhir_server.http.body import parse_json, read_body
from fhir_server.http.caller import CREDENTIALS, authenticate_caller
from fhir_server.http.media import check_acceptable, request_body_type
from fhir_server.integrations.dips.intake import Received, receive
from fhir_server.rest.bundles import bundle
from fhir_server.rest.messages import FhirResponse
from fhir_server.rest.transaction import response_entry
from fhir_server.server import FhirServer
from fhir_server.settings import Settings

log = logging.getLogger("ryggrad.intake")

PATH = "/intake/dips"


def public_url(settings: Settings, path: str) -> str:
    """The intake's public URL for ``path`` (beside the FHIR base: ``…/fhir`` → ``…/intake/dips``)."""
    root = settings.base_url.rstrip("/").removesuffix("/fhir")
    return f"{root}{PATH}/{path.lstrip('/')}".rstrip("/")


def _owner(principal: Principal | None) -> str:
    if principal is None or not principal.org:
        raise fhir_error(403, "forbidden", "The DIPS intake needs the sending unit: the token names no organisation")
    return principal.org


def capability_statement(settings: Settings) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-07",
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "implementation": {
            "description": "Ryggrad's intake of DIPS Arena appointments (mapped by mappings/dips/)",
            "url": public_url(settings, ""),
        },
        "rest": [
            {
                "mode": "server",
                "documentation": "Appointments as DIPS sends them; repeated and out-of-order pushes change nothing.",
                "resource": [{"type": "Appointment", "interaction": [{"code": "update"}], "updateCreate": True}],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
            }
        ],
    }


def _put(server: FhirServer, principal: Principal | None, appointment_id: str, body: Any) -> FhirResponse:
    if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
        raise bad_request("The body must be an Appointment", "resourceType")
    if body.get("id") != appointment_id:
        raise bad_request("The Appointment's id must be present and equal the id in the URL", "id")
    (received,) = receive(server, principal, [body], owner=_owner(principal), request=("PUT", "Appointment"))
    return received.response


def _appointments(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, the DIPS Appointment) of each entry: every entry a PUT of an Appointment by its id."""
    entries = body.get("entry") or []
    if not isinstance(entries, list):
        raise bad_request("Bundle.entry must be a list", "Bundle.entry")
    found = []
    for index, entry in enumerate(entries):
        where = f"Bundle.entry[{index}]"
        request = entry.get("request") if isinstance(entry, dict) else None
        resource = entry.get("resource") if isinstance(entry, dict) else None
        url = str((request or {}).get("url") or "").split("?", 1)[0].strip("/")
        if (request or {}).get("method") != "PUT" or not isinstance(resource, dict):
            raise bad_request(f"{where}: the intake takes PUTs of Appointments only", f"{where}.request")
        if resource.get("resourceType") != "Appointment" or url.rsplit("/", 2)[-2:] != [
            "Appointment",
            resource.get("id"),
        ]:
            raise bad_request(
                f"{where}: request.url must be Appointment/[the Appointment's id]", f"{where}.request.url"
            )
        found.append((where, resource))
    return found


def _entry(received: Received) -> dict[str, Any]:
    entry = response_entry(received.response)
    if received.outcome in ("stale", "unchanged"):
        why = "an older DIPS version than the registry's: ignored" if received.outcome == "stale" else "no change"
        entry["response"]["outcome"] = operation_outcome(
            [Issue("informational", f"DIPS Appointment {received.dips_id}: {why}", "information")]
        )
    return entry


def _bundle(server: FhirServer, principal: Principal | None, body: Any) -> FhirResponse:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise bad_request("POST to the intake takes a Bundle of type transaction or batch", "resourceType")
    kind = body.get("type")
    if kind not in ("transaction", "batch"):
        raise bad_request("Bundle.type must be transaction or batch", "Bundle.type")
    found = _appointments(body)
    if len(found) > server.settings.max_bundle_entries:
        raise fhir_error(413, "too-costly", f"A Bundle may hold at most {server.settings.max_bundle_entries} entries")
    owner = _owner(principal)
    entries = []
    if kind == "transaction":
        where = [w for w, _ in found]
        results = receive(server, principal, [a for _, a in found], owner=owner, where=where, request=("POST", ""))
        entries = [_entry(r) for r in results]
    else:
        for where, appointment in found:  # each on its own
            try:
                (result,) = receive(
                    server, principal, [appointment], owner=owner, where=[where], request=("PUT", "Appointment")
                )
                entries.append(_entry(result))
            except FhirError as error:
                entries.append(response_entry(FhirResponse(error.status, error.outcome)))
    return FhirResponse(200, bundle(f"{kind}-response", entries, [], server.clock()))


async def intake(request: Request) -> Response:
    server: FhirServer = request.app.state.server
    path = request.path_params.get("path", "").strip("/")
    try:
        check_acceptable(request.headers.get("accept"), request.query_params.get("_format"))
        if request.method == "GET" and path == "metadata":
            return render(FhirResponse(200, capability_statement(server.settings)))
        parts = path.split("/") if path else []
        if not (request.method == "POST" and not parts) and not (
            request.method == "PUT" and len(parts) == 2 and parts[0] == "Appointment"
        ):
            raise fhir_error(405, "not-supported", f"{request.method} is not supported on '{PATH}/{path}'")
        credentials = {name: request.headers[name] for name in CREDENTIALS if name in request.headers}
        address = request.client.host if request.client else "unknown"
        url = public_url(server.settings, path)
        principal = await run_in_threadpool(
            authenticate_caller, server, request.method, f"intake/dips/{path}", credentials, address, url
        )
        request_body_type(request.headers.get("content-type"), request.method)
        body = parse_json(await read_body(request, server.settings.max_body_bytes), server.settings.max_json_depth)
        try:
            if parts:
                response = await run_in_threadpool(_put, server, principal, parts[1], body)
            else:
                response = await run_in_threadpool(_bundle, server, principal, body)
        except FhirError as error:
            reason = error.issues[0].diagnostics if error.issues else None
            event = audit_event(
                principal=principal,
                method=request.method,
                path=f"intake/dips/{path}",
                query=[],
                status=error.status,
                recorded=server.clock(),
                description=reason,
            )
            server.audit.record(event)
            raise
        response.resource = Ownership.of(principal).shown(response.resource)
        return render(response)
    except FhirError as error:
        return error_response(error)
    except Exception:
        return internal_error(log)


def add_intake(app: Starlette) -> None:
    """Add the DIPS intake's routes to ``app``."""
    app.add_route(PATH, intake, methods=["POST"], include_in_schema=False)
    app.add_route(PATH + "/{path:path}", intake, methods=["GET", "PUT"], include_in_schema=False)
