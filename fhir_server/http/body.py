"""Reading a request body within the size limit, and parsing it as JSON within the nesting limit."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from fhir_server.errors import bad_request, fhir_error


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Exception:
    return fhir_error(413, "too-costly", f"The body is larger than the limit of {limit} bytes")


def parse_json(data: bytes, max_depth: int) -> Any:
    if not data.strip():
        raise bad_request("The request has no body")
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise fhir_error(400, "structure", f"The body is not valid JSON (at character {exc.pos})") from None
    check_depth(value, max_depth)
    return value


def check_depth(value: Any, max_depth: int) -> None:
    """Iteratively, so a hostile document cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise fhir_error(400, "too-costly", f"The JSON is nested deeper than the limit of {max_depth}")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
