"""The DIPS intake: DIPS Arena Appointments — pushed to ``/intake/dips`` (``http/intake.py``) or pulled from the
hospital's FHIR endpoint (``pull.py``) — mapped by ``mappings/dips/`` and written as the registry's Appointments
with their actors (patients by FNR/DNR, practitioners by HPR, clinics by RESH-id/orgnr: found, claimed or created).

Pushes repeat and arrive out of order. Each registry Appointment records the DIPS version it was made from
(``meta.source`` ``…/dips-appointment/<id>/_history/<versionId>``, written by the mapping); a push whose DIPS
version is not newer than that changes nothing and is answered with what the registry holds. The check and the
write happen in one database transaction, holding a lock on the DIPS appointment, so two pushes of the same
appointment at once are taken one after the other. Everything one call receives is written all-or-nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fhir_server.audit.events import audit_event
from fhir_server.errors import FhirError, Issue
from fhir_server.integrations.dips.bundle import transaction
from fhir_server.integrations.dips.mapping import MappingError, map_appointment
from fhir_server.rest.context import Context
from fhir_server.rest.messages import FhirResponse
from fhir_server.rest.transaction import TransactionRun, parse_entry
from fhir_server.rest.versioning import version_headers
from fhir_server.storage.locks import serialise
from fhir_server.subscriptions.outbox import record

if TYPE_CHECKING:
    from fhir_server.auth.principal import Principal
    from fhir_server.server import FhirServer

_SOURCE_VERSION = re.compile(r"/dips-appointment/[^/]+/_history/(\d+)$")


@dataclass
class Received:
    """What became of one DIPS Appointment: ``outcome`` created | updated | unchanged (the same DIPS version
    again, or identical content) | stale (an older DIPS version than the registry's: ignored)."""

    dips_id: str
    outcome: str
    response: FhirResponse


def dips_version(resource: dict[str, Any]) -> int | None:
    """The DIPS ``meta.versionId`` as a number (None: absent or not a number, so not ordered)."""
    value = str((resource.get("meta") or {}).get("versionId") or "")
    return int(value) if value.isdigit() else None


def applied_version(content: dict[str, Any] | None) -> int | None:
    """The DIPS version a registry Appointment was made from."""
    found = _SOURCE_VERSION.search(str(((content or {}).get("meta") or {}).get("source") or ""))
    return int(found.group(1)) if found else None


def mapping_error(error: MappingError, where: str | None = None) -> FhirError:
    """Every unmapped code and problem of a DIPS Appointment, as one 422 OperationOutcome."""
    prefix = f"{where}: " if where else ""
    issues = [Issue("code-invalid", f"{prefix}{u}", expression=(where,) if where else ()) for u in error.unmapped]
    issues += [Issue("invariant", f"{prefix}{p}", expression=(where,) if where else ()) for p in error.problems]
    return FhirError(422, issues)


def _mapped(appointments: list[dict[str, Any]], owner: str, where: list[str] | None) -> list[dict[str, Any]]:
    results, issues = [], []
    for index, dips in enumerate(appointments):
        try:
            results.append(map_appointment(dips, owner=owner))
        except MappingError as error:
            issues += mapping_error(error, where[index] if where else None).issues
    if issues:
        raise FhirError(422, issues)
    return results


def receive(
    server: FhirServer,
    principal: Principal | None,
    appointments: list[dict[str, Any]],
    *,
    owner: str,
    where: list[str] | None = None,
    request: tuple[str, str] | None = None,
) -> list[Received]:
    """Map and write ``appointments`` (DIPS resources, each with an ``id``) for the unit ``owner`` (its orgnr) as
    ``principal``, in one transaction; what became of each, in order. ``where``: each one's place in the request
    (for the messages); ``request``: (method, path) of the intake request, audited with what it wrote.
    Raises ``FhirError`` (nothing written) when one cannot be mapped or written."""
    mapped = _mapped(appointments, owner, where)
    ids = [m["id"] for m in mapped]
    if len(set(ids)) != len(ids):
        raise FhirError(400, [Issue("invalid", "The same DIPS appointment is sent twice in one request")])
    received: dict[str, Received] = {}
    with server.db.writing() as conn:
        ctx = Context(server, conn, in_bundle=True, principal=principal)
        for appointment_id in sorted(ids):  # one order for every transaction: no deadlock between two of them
            serialise(conn, server.db.is_postgres, f"dips-intake:Appointment/{appointment_id}")
        fresh = []
        for dips, appointment in zip(appointments, mapped, strict=True):
            current = ctx.store.current("Appointment", appointment["id"])
            held = current.content if current is not None and not current.deleted else None
            incoming, applied = dips_version(dips), applied_version(held)
            if held is not None and incoming is not None and applied is not None and incoming <= applied:
                outcome = "unchanged" if incoming == applied else "stale"
                answer = FhirResponse(200, ctx.ownership.shown(held), version_headers(current))
                received[appointment["id"]] = Received(str(dips["id"]), outcome, answer)
            else:
                fresh.append((dips, appointment))
        if fresh:
            entries = _entries([appointment for _, appointment in fresh], server.settings.base_url)
            responses = TransactionRun(ctx, entries).run()
            changed = {c.version.id for c in ctx.changes if c.version.resource_type == "Appointment"}
            for (dips, appointment), response in zip(fresh, responses[-len(fresh) :], strict=True):
                written = "created" if response.status == 201 else "updated"
                outcome = written if appointment["id"] in changed else "unchanged"
                received[appointment["id"]] = Received(str(dips["id"]), outcome, response)
        wake = record(ctx)
        if principal is not None and request is not None:
            _audit(server, ctx, principal, request, list(received.values()))
    server.wake(wake)
    return [received[i] for i in ids]


def _audit(
    server: FhirServer, ctx: Context, principal: Principal, request: tuple[str, str], received: list[Received]
) -> None:
    """The intake request's AuditEvent, in its transaction: the Appointments it answered with."""
    method, path = request
    targets = [f"Appointment/{(r.response.resource or {}).get('id')}" for r in received if r.response.resource]
    event = audit_event(
        principal=principal,
        method=method,
        path=f"intake/dips/{path}".rstrip("/"),
        query=[],
        status=200,
        recorded=server.clock(),
        targets=targets,
        kind="transaction" if method == "POST" else "update",
    )
    server.audit.write_now(ctx.conn, [event], ctx.now)


def _entries(mapped: list[dict[str, Any]], base: str) -> list[Any]:
    """One transaction for all of ``mapped``: each actor's conditional create once, then the Appointments' PUTs."""
    creates: dict[str, dict[str, Any]] = {}
    puts = []
    for appointment in mapped:
        for raw in transaction(appointment)["entry"]:
            if raw["request"]["method"] == "POST":
                creates.setdefault(raw["fullUrl"], raw)
            else:
                puts.append(raw)
    return [parse_entry(index, raw, base.rstrip("/")) for index, raw in enumerate([*creates.values(), *puts])]
