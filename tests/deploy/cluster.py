"""A production set-up in miniature on this machine: a fresh PostgreSQL database, a Redis key prefix of its own,
and ``ryggrad`` processes (API, workers, scheduler) started as real subprocesses, each in a process group of its own
so that it can be killed whole. ``close`` leaves nothing behind: every process, the database and the Redis keys go.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import redis
from sqlalchemy import create_engine, text

from tests.e2e.processes import free_port, served_environment, wait_for

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "fhir_server.cli"]


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log: IO[bytes]
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def group_pids(self) -> set[int]:
        """The processes of its group (a supervised worker is two: the supervisor and Celery)."""
        found = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if os.getpgid(int(entry.name)) == self.process.pid:
                        found.add(int(entry.name))
        return found


class Cluster:
    def __init__(self, tmp: Path, admin_url: str, redis_url: str, **settings: str) -> None:
        self.tmp = tmp
        self.redis_url = redis_url
        self.prefix = f"ryggrad-t-{uuid.uuid4().hex[:10]}:"
        self.database = f"ryggrad_t_{uuid.uuid4().hex[:12]}"
        self.services: list[Service] = []
        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.database}"'))
        self.database_url = f"{admin_url.rsplit('/', 1)[0]}/{self.database}"
        # one public base URL for every API process: the load balancer's
        self.env = served_environment(
            tmp,
            "http://127.0.0.1:8080/fhir",
            RYGGRAD_DATABASE_URL=self.database_url,
            RYGGRAD_BROKER_URL=redis_url,
            RYGGRAD_BROKER_KEY_PREFIX=self.prefix,
            RYGGRAD_SECRET_KEY=uuid.uuid4().hex,
            **settings,
        )
        self.env["PYTHONPATH"] = str(ROOT)

    def run(self, *args: str, timeout: float = 120.0) -> str:
        """A one-shot command (``migrate``, ``token``, ``clock``); its standard output."""
        done = subprocess.run(
            [*CLI, *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert done.returncode == 0, f"ryggrad {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, name: str, *args: str, port: int | None = None) -> Service:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed in close()
        process = subprocess.Popen(
            [*CLI, *args], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        service = Service(name, process, log, port)
        self.services.append(service)
        return service

    def start_api(self, name: str) -> Service:
        port = free_port()
        return self.start(name, "serve", "--no-worker", "--port", str(port), port=port)

    def wait_healthy(self, api: Service, timeout: float = 90.0) -> None:
        def healthy() -> bool:
            assert api.alive(), f"{api.name} exited:\n{self.logs()}"
            try:
                return httpx.get(f"{api.url}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy, f"{api.name} to be healthy", timeout)

    def kill(self, service: Service) -> None:
        """SIGKILL to its whole process group: no clean-up, no warm shutdown, as when a machine dies."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.process.pid, signal.SIGKILL)
        service.process.wait(timeout=10)

    def logs(self, tail: int = 4000) -> str:
        parts = []
        for service in self.services:
            path = self.tmp / f"{service.name}.log"
            if path.exists():
                parts.append(f"--- {service.name} ---\n{path.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)

    def close(self) -> None:
        for service in self.services:
            if service.alive():  # as a service manager stops it: the leader passes it on
                service.process.send_signal(signal.SIGTERM)
        for service in self.services:
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(timeout=15)
            with contextlib.suppress(ProcessLookupError):  # whatever is left in its group
                os.killpg(service.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(timeout=10)
            service.log.close()
        try:
            client = redis.Redis.from_url(self.redis_url)
            keys = list(client.scan_iter(match=f"{self.prefix}*"))
            if keys:
                client.delete(*keys)
            client.close()
        finally:
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            self._admin.dispose()
