"""The ASGI application: ``/fhir`` (every FHIR interaction) and ``/healthz``."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import FastAPI
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fhir_server.auth.discovery import smart_configuration
from fhir_server.errors import FhirError, fhir_error
from fhir_server.http.access_log import AccessLog
from fhir_server.http.answers import error_response, internal_error, render
from fhir_server.http.body import parse_json, read_body
from fhir_server.http.caller import CREDENTIALS, authenticate_caller
from fhir_server.http.dev_login import add_dev_login
from fhir_server.http.hardening import SecurityHeaders
from fhir_server.http.intake import add_intake
from fhir_server.http.media import FHIR_JSON, FORM, check_acceptable, request_body_type
from fhir_server.http.portal import add_portal
from fhir_server.http.websocket import subscription_websocket
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.router import route
from fhir_server.server import FhirServer
from fhir_server.settings import Settings, get_settings

log = logging.getLogger("ryggrad.http")

FORWARDED_HEADERS = ("if-match", "if-none-match", "if-none-exist", "if-modified-since", "prefer")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def _other_formats(path: str) -> bool:
    """Whether the endpoint at ``path`` may answer in another format than FHIR JSON (``media.OTHER_TYPES``)."""
    clean = path.strip("/")
    return clean.startswith("bulk/files/") or clean.endswith("$run")


def _is_pretty(request: Request) -> bool:
    return request.query_params.get("_pretty", "false").lower() == "true"


@dataclass
class _Caller:
    method: str  # as sent (HEAD stays HEAD)
    credentials: dict[str, str]  # the Authorization and DPoP headers
    address: str
    authenticated: bool = False


async def _fhir_request(request: Request, path: str, server: FhirServer) -> tuple[FhirRequest, _Caller, bytes]:
    """The request with its body still unparsed (parsing is CPU work, done in the worker thread). A request with
    a body is authenticated first, in a worker thread of its own, so that no stranger's body is read; one
    without is authenticated in the thread that executes it (``_execute``)."""
    method = request.method
    route(FhirRequest(method, path))  # an unknown endpoint or method fails before the body is read
    query = [(k, v) for k, v in request.query_params.multi_items()]
    data = b""
    content_type = FHIR_JSON
    headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
    fhir_request = FhirRequest("GET" if method == "HEAD" else method, path, query, headers, None, content_type)
    caller = _Caller(
        method,
        {name: request.headers[name] for name in CREDENTIALS if name in request.headers},
        request.client.host if request.client else "unknown",
    )
    if method in ("POST", "PUT", "PATCH"):
        fhir_request.principal = await run_in_threadpool(
            authenticate_caller, server, method, path, caller.credentials, caller.address
        )
        caller.authenticated = True
        fhir_request.content_type = request_body_type(request.headers.get("content-type"), method)
        data = await read_body(request, server.settings.max_body_bytes)
        if fhir_request.content_type == FORM and not path.rstrip("/").endswith("_search"):
            raise fhir_error(415, "not-supported", "Form bodies are accepted only by [type]/_search")
    return fhir_request, caller, data


def _execute(server: FhirServer, request: FhirRequest, caller: _Caller, data: bytes) -> FhirResponse:
    if not caller.authenticated:
        request.principal = authenticate_caller(server, caller.method, request.path, caller.credentials, caller.address)
        caller.authenticated = True
    if request.method in ("POST", "PUT", "PATCH"):
        if request.content_type == FORM:
            request.query += parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True)
        elif data or not request.path.rstrip("/").rsplit("/", 1)[-1].startswith("$"):
            request.body = parse_json(data, server.settings.max_json_depth)  # an operation may take no body
    return server.execute(request)


def create_app(settings: Settings | None = None, server: FhirServer | None = None) -> FastAPI:
    settings = settings or (server.settings if server else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        if not hasattr(app.state, "server"):
            app.state.server = server or await run_in_threadpool(FhirServer, settings)
            await run_in_threadpool(app.state.server.warm_up)  # before /healthz says ready
            # the definitions loaded by now live as long as the process: out of the collector's sight, a full
            # collection walks a few thousand objects instead of some 200,000 (tens of ms off the slowest requests)
            gc.collect()
            gc.freeze()
        _ = app.state.server.authenticator  # a bad auth configuration stops the app here
        yield
        if server is None:
            app.state.server.close()

    app = FastAPI(title="Ryggrad FHIR server", lifespan=lifespan, docs_url=None, redoc_url=None)
    if server is not None:
        app.state.server = server

    app.add_middleware(AccessLog)
    app.add_middleware(SecurityHeaders, https=settings.base_url.startswith("https://"))
    if settings.cors_origins:  # outermost: it answers the browsers' preflight requests itself
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=METHODS,
            allow_headers=["Authorization", "DPoP", "Content-Type", "Accept", "If-Match", "If-None-Exist", "Prefer"],
            expose_headers=["Location", "ETag", "Last-Modified", "Content-Location", "WWW-Authenticate", "Retry-After"],
            max_age=600,
        )

    @app.get("/healthz")
    async def healthz(request: Request) -> Response:
        srv: FhirServer = request.app.state.server

        def check() -> None:
            with srv.db.reading() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await run_in_threadpool(check)
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "fhirVersion": "4.0.1"})

    async def fhir(request: Request) -> Response:
        srv: FhirServer = request.app.state.server
        pretty = _is_pretty(request)
        try:
            path = request.path_params.get("path", "")
            check_acceptable(request.headers.get("accept"), request.query_params.get("_format"), _other_formats(path))
            fhir_request, caller, data = await _fhir_request(request, path, srv)
            response = await run_in_threadpool(_execute, srv, fhir_request, caller, data)
            return render(response, pretty, head=request.method == "HEAD")
        except FhirError as error:
            return error_response(error, pretty)
        except Exception:
            return internal_error(log, pretty)

    @app.get("/fhir/.well-known/smart-configuration")
    async def smart_configuration_document(request: Request) -> Response:
        srv: FhirServer = request.app.state.server
        return JSONResponse(smart_configuration(srv.settings))

    # plain Starlette routes: FHIR parses its own requests, so FastAPI's parameter machinery would only cost time
    app.router.add_websocket_route("/fhir/websocket", subscription_websocket)
    app.add_route("/fhir", fhir, methods=METHODS, include_in_schema=False)
    app.add_route("/fhir/{path:path}", fhir, methods=METHODS, include_in_schema=False)
    add_intake(app)  # DIPS Arena's appointments, as DIPS sends them
    add_dev_login(app, settings)  # the portal's development sign-in (RYGGRAD_AUTH=dev only)
    add_portal(app, settings)  # the patient portal's pages at /portal, the clinicians' at /clinic

    return app
