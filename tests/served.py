"""An app served for real on 127.0.0.1 inside the test process: uvicorn in a thread, for tests whose clients
speak HTTP (DPoP proofs, Bulk Data polling)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def served_in_thread(make_app: Callable[[str], Any], timeout: float = 60.0) -> Iterator[str]:
    """``make_app(base)`` (the FHIR base it will be reached at) served until the block ends; yields the base."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/fhir"
    web = uvicorn.Server(uvicorn.Config(make_app(base), log_level="warning"))
    thread = threading.Thread(target=web.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not web.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield base
    finally:
        web.should_exit = True
        thread.join(10)
        sock.close()
