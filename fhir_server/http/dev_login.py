"""``POST /auth/dev/token``: sign-in for the portals in development (``RYGGRAD_AUTH=dev`` only).

- A patient (the patient portal at ``/portal``) sends ``{"role": "patient", "pid": "<FNR or DNR>"}``, standing in
  for ID-porten.
- A unit's staff (the clinician pages at ``/clinic``) send ``{"role": "clinician" | "clerk", "hpr": "<HPR number>",
  "org": "<the unit's organisation number>"}``, standing in for HelseID.

Either gets ``{"access_token": …}`` from the development issuer. The route is added only in ``dev`` mode, and
answers 404 should the server's settings say otherwise: with ``RYGGRAD_AUTH=jwt`` it does not exist.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fhir_server.auth.dev_issuer import DevIssuer
from fhir_server.norway.identifiers import is_valid_dnr, is_valid_fnr, is_valid_hpr, is_valid_orgnr
from fhir_server.server import FhirServer
from fhir_server.settings import Settings

PATH = "/auth/dev/token"
PATIENT = "patient"
STAFF_ROLES = frozenset({"clinician", "clerk"})
ROLES = frozenset({PATIENT, *STAFF_ROLES})
LIFETIME_S = 3600
MAX_BODY = 1024


class Refused(Exception):
    """A sign-in the development issuer will not give a token for: 400 with ``message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else None


def _patient_claims(data: dict[str, Any]) -> dict[str, str]:
    pid = _text(data, "pid")
    if pid is None or not (is_valid_fnr(pid) or is_valid_dnr(pid)):
        raise Refused("pid must be a valid national identity number (FNR or DNR)")
    return {"patient": pid, "client_id": "ryggrad-portal"}


def _staff_claims(data: dict[str, Any]) -> dict[str, str]:
    hpr = _text(data, "hpr")
    org = _text(data, "org")
    if hpr is None or not is_valid_hpr(hpr):
        raise Refused("hpr must be an HPR number: 4 to 9 digits, not starting with 0")
    if org is None or not is_valid_orgnr(org):
        raise Refused("org must be the unit's organisation number: 9 digits with a valid control digit")
    return {"hpr": hpr, "org": org, "client_id": "ryggrad-clinic"}


def claims_for(data: object) -> tuple[str, dict[str, str]]:
    """The role and the ``DevIssuer.mint`` arguments a sign-in body asks for (``Refused`` when it is not valid)."""
    if not isinstance(data, dict):
        raise Refused("the body must be a JSON object")
    role = data.get("role")
    if role not in ROLES:
        raise Refused(f"role must be one of {sorted(ROLES)}")
    return role, _patient_claims(data) if role == PATIENT else _staff_claims(data)


def _mint(issuer: DevIssuer, role: str, claims: dict[str, str]) -> str:
    return issuer.mint(role, lifetime_s=LIFETIME_S, **claims)


async def dev_token(request: Request) -> Response:
    server: FhirServer = request.app.state.server
    issuer = server.dev_issuer if server.settings.auth == "dev" else None
    if issuer is None:
        return _refuse(404, "not found")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _refuse(413, "body too large")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _refuse(400, "the body must be JSON")
    try:
        role, claims = claims_for(data)
    except Refused as refused:
        return _refuse(400, refused.message)
    token = await run_in_threadpool(_mint, issuer, role, claims)
    return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": LIFETIME_S})


def add_dev_login(app: FastAPI, settings: Settings) -> None:
    """Add ``POST /auth/dev/token`` to ``app`` when ``settings`` use the development issuer."""
    if settings.auth == "dev":
        app.add_route(PATH, dev_token, methods=["POST"], include_in_schema=False)
