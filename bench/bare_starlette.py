"""The limit for reads: a bare Starlette app answering ``GET /fhir/{type}/{id}`` with the bytes and headers that
Ryggrad answered for the same URL, from memory. Run by the bench as ``uvicorn bench.bare_starlette:app``.

The limit for writes: ``POST /fhir/{type}`` and ``PUT /fhir/{type}/{id}`` read the body, parse it with orjson (as
any FHIR server must), and answer 201 (POST) or 200 (PUT) with the same bytes and a Location: HTTP and a JSON parse,
no validation, no storage.

``RYGGRAD_BENCH_BARE_DATA`` names a JSON file ``{"Patient/<id>": {"body": "<json text>", "headers": {...}}}``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FHIR_JSON = "application/fhir+json; charset=utf-8"


def _load(path: str | None) -> dict[str, tuple[bytes, dict[str, str]]]:
    if not path:
        return {}
    raw: dict[str, Any] = orjson.loads(Path(path).read_bytes())
    return {key: (value["body"].encode(), dict(value["headers"])) for key, value in raw.items()}


RESPONSES = _load(os.environ.get("RYGGRAD_BENCH_BARE_DATA"))


async def read(request: Request) -> Response:
    found = RESPONSES.get(f"{request.path_params['type']}/{request.path_params['id']}")
    if found is None:
        return Response(b'{"resourceType":"OperationOutcome"}', 404, media_type=FHIR_JSON)
    body, headers = found
    return Response(body, 200, headers, media_type=FHIR_JSON)


async def write(request: Request) -> Response:
    body = await request.body()
    parsed = orjson.loads(body)
    kind = request.path_params["type"]
    rid = request.path_params.get("id") or "bare"
    status = 200 if request.method == "PUT" else 201
    location = f"{request.base_url}fhir/{kind}/{rid}/_history/1"
    if not isinstance(parsed, dict):
        return Response(b'{"resourceType":"OperationOutcome"}', 400, media_type=FHIR_JSON)
    return Response(body, status, {"Location": location, "ETag": 'W/"1"'}, media_type=FHIR_JSON)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/fhir/{type}/{id}", read, methods=["GET"]),
        Route("/fhir/{type}/{id}", write, methods=["PUT"]),
        Route("/fhir/{type}", write, methods=["POST"]),
        Route("/healthz", healthz),
    ]
)
