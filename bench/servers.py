"""Server processes on loopback: ``ryggrad migrate`` + ``ryggrad serve``, or the bare Starlette app under uvicorn.

Each process writes its output to a log file (never a pipe that could fill up), gets a new session so that a
Ctrl-C on the bench reaches only the bench, and is stopped by its own pid: SIGTERM, then SIGKILL after a grace.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import LOOPBACK, REPO_ROOT

START_TIMEOUT_S = 90.0
STOP_GRACE_S = 15.0


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    auth: dict[str, str] = field(default_factory=dict)  # the Authorization header its requests carry

    @property
    def root(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _ryggrad_command() -> list[str]:
    script = Path(sys.executable).parent / "ryggrad"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from fhir_server.cli import app; app()"]


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_healthy(server: RunningServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{_log_tail(server.log_path)}")
        try:
            if httpx.get(f"{server.root}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy after {START_TIMEOUT_S:.0f} s:\n{_log_tail(server.log_path)}")


def stop(server: RunningServer) -> None:
    stop_process(server.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after ``STOP_GRACE_S``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_GRACE_S)


@contextmanager
def _serving(command: list[str], env: dict[str, str], port: int, log_path: Path) -> Iterator[RunningServer]:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = RunningServer(process, port, log_path)
    try:
        _wait_healthy(server)
        yield server
    finally:
        stop(server)


def ryggrad_env(database_url: str, data_dir: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)  # other RYGGRAD_* settings pass through (the report lists them)
    env.update(
        RYGGRAD_DATA_DIR=str(data_dir),
        RYGGRAD_DATABASE_URL=database_url,
        RYGGRAD_BASE_URL=f"http://{LOOPBACK}:{port}/fhir",
        RYGGRAD_AUTH="dev",  # the development issuer; the bench's token comes from `ryggrad token`
        RYGGRAD_RATE_LIMIT_PER_MINUTE="0",  # one client measuring throughput is not an abusive one
    )
    env.setdefault("RYGGRAD_PROFILES_DIR", str(REPO_ROOT / "profiles"))
    return env


def server_overrides() -> dict[str, str]:
    """The ``RYGGRAD_*`` settings in the environment that reach the server (those the bench sets excluded)."""
    own = {
        "RYGGRAD_DATA_DIR",
        "RYGGRAD_DATABASE_URL",
        "RYGGRAD_BASE_URL",
        "RYGGRAD_AUTH",
        "RYGGRAD_RATE_LIMIT_PER_MINUTE",
        "RYGGRAD_BENCH_POSTGRES_URL",
    }
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith("RYGGRAD_") and k not in own}


@contextmanager
def ryggrad_server(
    database_url: str, data_dir: Path, serve_args: tuple[str, ...] = (), extra_env: dict[str, str] | None = None
) -> Iterator[RunningServer]:
    """``ryggrad migrate`` then ``ryggrad serve [serve_args]`` on a free loopback port, ready (``/healthz`` answers
    200); ``extra_env`` is added to its environment."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**ryggrad_env(database_url, data_dir, port), **(extra_env or {})}
    log_path = data_dir / "server.log"
    with log_path.open("ab") as log:
        subprocess.run(
            [*_ryggrad_command(), "migrate"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            check=True, timeout=300,
        )  # fmt: skip
    token = subprocess.run(
        [*_ryggrad_command(), "token", "--role", "registry-admin"], cwd=REPO_ROOT, env=env, capture_output=True,
        text=True, check=True, timeout=120,
    ).stdout.strip()  # fmt: skip
    command = [*_ryggrad_command(), "serve", "--host", LOOPBACK, "--port", str(port), *serve_args]
    with _serving(command, env, port, log_path) as server:
        server.auth = {"Authorization": f"Bearer {token}"}
        yield server


@contextmanager
def bare_server(data_file: Path, log_path: Path, processes: int = 1) -> Iterator[RunningServer]:
    """``bench/bare_starlette.py`` under uvicorn with ``ryggrad serve``'s settings (``processes`` as its API
    processes, uvloop/httptools when installed, no uvicorn access log)."""
    port = free_port()
    env = {**os.environ, "RYGGRAD_BENCH_BARE_DATA": str(data_file)}
    command = [
        sys.executable, "-m", "uvicorn", "bench.bare_starlette:app", "--host", LOOPBACK, "--port", str(port),
        "--workers", str(processes), "--no-access-log", "--log-level", "info",
    ]  # fmt: skip
    with _serving(command, env, port, log_path) as server:
        yield server
