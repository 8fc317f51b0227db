"""What the end-to-end tests share: a free port on 127.0.0.1, and waiting for a condition to hold."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
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


def served_environment(data_dir: Path, base: str, **settings: str) -> dict[str, str]:
    """The environment of a ``ryggrad`` process serving ``base`` from ``data_dir`` with the development issuer, the
    clock travelling and the scheduler quick; none of the caller's own ``RYGGRAD_*``; ``settings``: more."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RYGGRAD_")}
    env.update(
        RYGGRAD_DATA_DIR=str(data_dir),
        RYGGRAD_BASE_URL=base,
        RYGGRAD_AUTH="dev",
        RYGGRAD_CLOCK_TRAVEL="true",
        RYGGRAD_RATE_LIMIT_PER_MINUTE="0",
        RYGGRAD_SWEEP_INTERVAL_S="0.5",
        RYGGRAD_REGISTRY_ACTIVATION_INTERVAL_S="1",
        **settings,
    )
    return env
