"""The limit for reads: a bare Starlette app answering ``GET /fhir/{type}/{id}`` with the bytes and headers that
Ryggrad answered for the same URL, from memory. Run by the bench as ``uvicorn bench.bare_starlette:app``.

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


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/fhir/{type}/{id}", read), Route("/healthz", healthz)])
