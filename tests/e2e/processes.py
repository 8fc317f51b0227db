"""What the end-to-end tests share: a free port on 127.0.0.1, and waiting for a condition to hold."""

from __future__ import annotations

import socket
import time
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Any, what: str, timeout: float = 60.0) -> Any:
    """``check()``'s first truthy answer, polled every 0.3 s; fails naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
