"""An HTTP receiver on 127.0.0.1 for rest-hook tests and the notification bench: records what arrives, fails the
next N requests or a share of them at random, answers slowly, and can go away and come back on the same port."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None

    @property
    def event_ids(self) -> list[str]:
        value = self.headers.get("x-ryggrad-event-id", "")
        return [v for v in value.split(",") if v]

    def event_numbers(self) -> list[int]:
        """The event numbers of a notification Bundle."""
        body = self.json or {}
        status = body["entry"][0]["resource"]
        numbers = []
        for parameter in status.get("parameter", []):
            if parameter["name"] == "notification-event":
                parts = {p["name"]: p for p in parameter["part"]}
                numbers.append(int(parts["event-number"]["valueString"]))
        return numbers

    def kind(self) -> str:
        status = (self.json or {})["entry"][0]["resource"]
        return next(p["valueCode"] for p in status["parameter"] if p["name"] == "type")


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.fail_next = 0  # answer 503 to this many requests
        self.failure_rate = 0.0  # and to this share of requests, at random
        self.delay_s = 0.0  # answer this late
        self.on_request: Callable[[Received], None] | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                item = Received(self.command, self.path, headers, body, time.monotonic())
                with receiver._lock:
                    fail = receiver.fail_next > 0
                    if fail:
                        receiver.fail_next -= 1
                    elif receiver.failure_rate and random.random() < receiver.failure_rate:
                        fail = True
                    else:
                        receiver.received.append(item)
                if receiver.on_request is not None and not fail:
                    receiver.on_request(item)
                if receiver.delay_s and not fail:
                    time.sleep(receiver.delay_s)
                self.send_response(503 if fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Go away: the port refuses connections until ``start``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.snapshot()
            if predicate(got):
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"the receiver got {len(got)} requests, not what was expected, in {timeout} s")
            time.sleep(0.05)
