"""Limits for the paths that cross processes, measured in the same run:

- appointment → Task: the broker hand-off alone — a message pushed onto a Redis list by one connection and popped
  by a blocking pop on another (what a Celery message through Redis costs at the least), at the same pace as the
  appointments; p50/p95 from push to pop. It leaves out the worker's poll, the search for the appointment, the
  episode and Task writes.
- notifications: a bare HTTP POST of a small JSON body from this process to the same receiver, one every 50 ms as
  the changes were written; p50/p95 from the call to the receiver recording it. It leaves out the commit's event,
  the broker, the worker's matching and rendering.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from typing import Any

import httpx

from bench.notifications import REDIS_URL, percentile


def _stats(delays_ms: list[float]) -> dict[str, float]:
    return {
        "count": len(delays_ms),
        "p50_ms": round(statistics.median(delays_ms), 3),
        "p95_ms": round(percentile(delays_ms, 0.95), 3),
        "max_ms": round(max(delays_ms), 3),
    }


def redis_hand_off(messages: int, rate: float) -> dict[str, float]:
    """Push ``messages`` at ``rate`` per second onto a fresh list, popped by another connection; the key is
    removed afterwards."""
    import redis

    key = f"ryggrad-bench-hand-off:{uuid.uuid4().hex[:8]}"
    pusher, popper = redis.Redis.from_url(REDIS_URL), redis.Redis.from_url(REDIS_URL)
    arrived: dict[int, float] = {}

    def pop() -> None:
        while len(arrived) < messages:
            got = popper.blpop([key], timeout=5)
            if got is None:
                return
            arrived[int(got[1])] = time.perf_counter()

    try:
        reader = threading.Thread(target=pop, daemon=True)
        reader.start()
        sent: dict[int, float] = {}
        started = time.perf_counter()
        for n in range(messages):
            time.sleep(max(0.0, started + n / rate - time.perf_counter()))
            sent[n] = time.perf_counter()
            pusher.rpush(key, str(n))
        reader.join(timeout=30)
        return _stats([(arrived[n] - sent[n]) * 1000 for n in sent if n in arrived])
    finally:
        pusher.delete(key)
        pusher.close()
        popper.close()


def bare_posts(receiver: Any, count: int, gap_s: float = 0.05) -> dict[str, float]:
    """``count`` POSTs to ``receiver`` (the notification bench's), ``gap_s`` apart, timed to their recording."""
    sent: dict[str, float] = {}
    with httpx.Client(timeout=10) as client:
        for n in range(count):
            path = f"/bare-limit/{n}"
            sent[path] = time.monotonic()
            client.post(receiver.url + path, content=b'{"resourceType":"Bundle","type":"history"}')
            time.sleep(gap_s)
    arrived = {r.path: r.at for r in receiver.snapshot() if r.path.startswith("/bare-limit/")}
    return _stats([(arrived[p] - sent[p]) * 1000 for p in sent if p in arrived])
