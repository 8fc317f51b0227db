"""Serving with several API processes on one port (``ryggrad serve --workers N``).

Each process binds its own listening socket with ``SO_REUSEPORT``, so the kernel spreads new connections over
them. (With one socket shared by every process, as uvicorn's own ``--workers`` does, the process that happens to
be awake accepts every connection of a burst, and keep-alive clients stay on it: one core works, the others idle.)
The parent starts the processes, starts a crashed one again, and passes SIGTERM/SIGINT on: each finishes the
requests under way (uvicorn's graceful shutdown) and exits, and then so does the parent."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType

import uvicorn

log = logging.getLogger("ryggrad.serve")

APP = "fhir_server.http.asgi:app"
GRACEFUL_SHUTDOWN_S = 20
RESTART_DELAY_S = 1.0


def uvicorn_config(host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        APP,
        host=host,
        port=port,
        access_log=False,  # our own access log leaves query strings (identifiers) out
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )


def reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve_one(host: str, port: int, reuse_port: bool = False) -> None:
    """One API process in the foreground (its own ``SO_REUSEPORT`` socket when ``reuse_port``)."""
    config = uvicorn_config(host, port)
    server = uvicorn.Server(config)
    server.run(sockets=[reuse_port_socket(host, port)] if reuse_port else None)


def serve_many(host: str, port: int, processes: int, child_setup: Callable[[], None] | None = None) -> int:
    """``processes`` API processes on ``host:port``, each its own socket; returns when they have all stopped."""
    command = [sys.executable, "-m", "fhir_server.cli", "serve", "--no-worker", "--reuse-port"]
    command += ["--host", host, "--port", str(port)]
    stopping = False

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, preexec_fn=child_setup)

    children = [start() for _ in range(processes)]

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping:
            for i, child in enumerate(children):
                if child.poll() is not None and not stopping:
                    log.warning("API process %d exited (%s); starting it again", child.pid, child.returncode)
                    time.sleep(RESTART_DELAY_S)
                    if not stopping:
                        children[i] = start()
            time.sleep(0.2)
        deadline = time.monotonic() + GRACEFUL_SHUTDOWN_S + 10
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
