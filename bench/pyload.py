"""A small load generator for when wrk is missing: asyncio keep-alive HTTP/1.1 clients on loopback, each sending
its next request as soon as the previous answer is in, for a fixed time. Less precise than wrk (it shares the
GIL with its own bookkeeping), so its figures are marked with tool="python"."""

from __future__ import annotations

import asyncio
import statistics
import time
from urllib.parse import urlsplit

from bench.http_load import LoadResult, LoadSpec

CONNECT_TIMEOUT_S = 10.0


def _request_bytes(spec: LoadSpec, host: str, path: str) -> bytes:
    lines = [f"{spec.method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in spec.headers.items()]
    body = spec.body or b""
    if spec.body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _client(spec: LoadSpec, requests: list[bytes], start: int, deadline: float, out: list[float]) -> int:
    url = urlsplit(spec.root)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(url.hostname, url.port), CONNECT_TIMEOUT_S)
    bad = 0
    index = start
    try:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            writer.write(requests[index % len(requests)])
            status = await _read_response(reader)
            out.append(time.perf_counter() - began)
            bad += not 200 <= status < 400
            index += 1
    finally:
        writer.close()
    return bad


async def _run(spec: LoadSpec) -> LoadResult:
    host = urlsplit(spec.root).netloc
    requests = [_request_bytes(spec, host, path) for path in spec.paths]
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + spec.duration_s
    bad = await asyncio.gather(
        *(_client(spec, requests, n, deadline, latencies) for n in range(spec.connections)), return_exceptions=True
    )
    seconds = time.perf_counter() - started
    errors = sum(1 for b in bad if isinstance(b, BaseException))
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    return LoadResult(
        tool="python",
        connections=spec.connections,
        requests=len(latencies),
        seconds=seconds,
        requests_per_s=len(latencies) / seconds,
        p50_ms=cuts[49] * 1000,
        p75_ms=cuts[74] * 1000,
        p90_ms=cuts[89] * 1000,
        p99_ms=cuts[98] * 1000,
        bad_responses=sum(b for b in bad if isinstance(b, int)),
        socket_errors=errors,
        p95_ms=cuts[94] * 1000,
    )


def run_python_load(spec: LoadSpec) -> LoadResult:
    return asyncio.run(_run(spec))
