"""Serving with several API processes on one port (``ryggrad serve --workers N``).

Each process binds its own listening socket with ``SO_REUSEPORT``, so the kernel spreads new connections over
them. (With one socket shared by every process, as uvicorn's own ``--workers`` does, the process that happens to
be awake accepts every connection of a burst, and keep-alive clients stay on it: one core works, the others idle.)
The parent keeps them running (``fhir_server.supervisor``: a crashed one is started again; SIGTERM/SIGINT passed
on, each finishes the requests under way and exits, and then so does the parent)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable

import uvicorn

from fhir_server.supervisor import supervise

APP = "fhir_server.http.asgi:app"
GRACEFUL_SHUTDOWN_S = 20


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
    """``processes`` API processes on ``host:port``, each its own socket, kept running (``supervisor``); returns
    when they have all stopped."""
    command = [sys.executable, "-m", "fhir_server.cli", "serve", "--no-worker", "--reuse-port"]
    command += ["--host", host, "--port", str(port)]
    return supervise([command] * processes, "an API process", child_setup, GRACEFUL_SHUTDOWN_S + 10)
