"""Response headers for an API that carries patient data, and a request rate limit per client.

Headers: no caching anywhere (``Cache-Control: no-store``), no MIME sniffing, never framed, no referrer, a content
security policy that allows nothing (API answers are data, not pages), HSTS when the public base is HTTPS.

Rate limit: a token bucket per client — the token's client id, or the caller's address while it has no valid
token (so guessing tokens is slow too) — refilled at ``rate_limit_per_minute``; beyond it, 429 with
``Retry-After``. Per process: several API processes each allow the rate.
"""

from __future__ import annotations

import math
import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.headers = [*SECURITY_HEADERS]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in self.headers if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


class RateLimiter:
    """Token buckets by key: ``allow(key)`` → 0 when the request may go on, else the seconds to wait."""

    def __init__(self, per_minute: int, burst: int | None = None) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else max(per_minute // 6, 1))
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> int:
        if self.rate <= 0:
            return 0
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                if len(self._buckets) > 100_000:  # forget full buckets of idle clients
                    self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self.capacity}
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))
