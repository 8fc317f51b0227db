"""The rest-hook subscriber of the many-process test: an HTTP server on 127.0.0.1 that records every notification
with its ``X-Ryggrad-Event-Id``, and can hold the next one unanswered so that its sender can be found (by the
connection's port, in ``/proc``) and killed before the answer reaches it."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson


@dataclass(frozen=True)
class Notification:
    resource_id: str
    version_id: str
    event_ids: tuple[str, ...]


class Hook:
    def __init__(self) -> None:
        self.received: list[Notification] = []
        self._lock = threading.Lock()
        self._arm = threading.Event()
        self._held = threading.Event()
        self._release = threading.Event()
        self.held_port = 0  # the sender's end of the held request's connection
        self.held: Notification | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[Notification]:
        with self._lock:
            return list(self.received)

    def hold_next(self, timeout: float = 60.0) -> Notification:
        """Wait for the next notification and keep it unanswered (recorded: it arrived) until ``release``."""
        self._arm.set()
        assert self._held.wait(timeout), f"no notification within {timeout} s"
        assert self.held is not None
        return self.held

    def release(self) -> None:
        self._release.set()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body: Any = orjson.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                events = tuple(e for e in (self.headers.get("x-ryggrad-event-id") or "").split(",") if e)
                got = Notification(str(body.get("id")), str((body.get("meta") or {}).get("versionId")), events)
                with hook._lock:
                    hook.received.append(got)
                    hold = hook._arm.is_set() and not hook._held.is_set()
                    if hold:
                        hook.held, hook.held_port = got, self.client_address[1]
                        hook._held.set()
                if hold:
                    hook._release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def socket_owner(local_port: int, remote_port: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the TCP connection 127.0.0.1:``local_port`` → 127.0.0.1:``remote_port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
            if int(local, 16) == local_port and int(remote, 16) == remote_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
        except OSError:
            continue
    return None
