"""``POST /auth/dev/token``: a patient's sign-in for the portal in development (``RYGGRAD_AUTH=dev`` only).

The portal sends ``{"role": "patient", "pid": "<FNR or DNR>"}`` and gets ``{"access_token": …}`` from the
development issuer, standing in for ID-porten. The route is added only in ``dev`` mode, and answers 404 should the
server's settings say otherwise: with ``RYGGRAD_AUTH=jwt`` it does not exist.
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fhir_server.norway.identifiers import is_valid_dnr, is_valid_fnr
from fhir_server.server import FhirServer
from fhir_server.settings import Settings

PATH = "/auth/dev/token"
ROLES = frozenset({"patient"})  # staff get their development tokens from `ryggrad token`
LIFETIME_S = 3600
MAX_BODY = 1024


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


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
    role = data.get("role") if isinstance(data, dict) else None
    pid = data.get("pid") if isinstance(data, dict) else None
    if role not in ROLES:
        return _refuse(400, f"role must be one of {sorted(ROLES)}")
    if not isinstance(pid, str) or not (is_valid_fnr(pid) or is_valid_dnr(pid)):
        return _refuse(400, "pid must be a valid national identity number (FNR or DNR)")
    token = await run_in_threadpool(issuer.mint, role, patient=pid, client_id="ryggrad-portal", lifetime_s=LIFETIME_S)
    return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": LIFETIME_S})


def add_dev_login(app: FastAPI, settings: Settings) -> None:
    """Add ``POST /auth/dev/token`` to ``app`` when ``settings`` use the development issuer."""
    if settings.auth == "dev":
        app.add_route(PATH, dev_token, methods=["POST"], include_in_schema=False)
