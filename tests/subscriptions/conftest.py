"""A deployment in miniature for subscription tests: a database, a broker, the API in-process and workers as
real processes (``ryggrad worker``).

Two set-ups, like production and one machine: PostgreSQL + Redis (each test gets its own database and Redis key
prefix, both removed after it) and SQLite + Celery's filesystem transport. The Redis set-up is skipped, with the
reason, when either service is unreachable."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from fhir_server.definitions.registry import Definitions
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from fhir_server.storage.engine import Database
from fhir_server.storage.migrate import upgrade
from tests.conftest import _PG_SKIP, BASE_URL, PostgresDatabase

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("RYGGRAD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TOPICS = "https://ryggrad.no/fhir/SubscriptionTopic/"
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"


def _redis_unreachable() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    return None


_REDIS_SKIP = _redis_unreachable()

#: Fast clocks for tests: retries after 0.2 s (at most 1 s apart), error after 2 s of failures, leases of 3 s.
TEST_SETTINGS = {
    "sweep_interval_s": 0.3,
    "subscription_lease_s": 3.0,
    "subscription_retry_base_s": 0.2,
    "subscription_retry_max_s": 1.0,
    "subscription_error_after_s": 2.0,
    "subscription_timeout_s": 5.0,
    "worker_concurrency": 4,
    "subscriber_modules": ["tests.subscriptions.recording_subscriber"],
}


_TEST_ITEMS = list(TEST_SETTINGS.items())


class Deployment:
    def __init__(
        self,
        kind: str,
        tmp: Path,
        definitions: Definitions,
        broker_url: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """``extra``: settings for this deployment beyond ``TEST_SETTINGS`` (the API's and the workers' alike)."""
        self.kind = kind
        self.extra = dict(extra or {})
        self.tmp = tmp
        self.cleanups: list[Callable[[], None]] = []
        self.processes: list[subprocess.Popen] = []
        if kind == "postgresql-redis":
            pg = PostgresDatabase()
            self.cleanups.append(pg.drop)
            database_url = pg.url
            broker_url = broker_url or REDIS_URL
        else:
            database_url = f"sqlite:///{tmp / 'ryggrad.db'}"
        self.prefix = f"ryggrad-test-{uuid.uuid4().hex[:10]}:"
        self.settings = Settings(
            data_dir=tmp,
            database_url=database_url,
            base_url=BASE_URL,
            auth="dev",
            rate_limit_per_minute=0,
            broker_url=broker_url,
            broker_key_prefix=self.prefix,
            **{**TEST_SETTINGS, **self.extra},
        )
        db = Database(database_url)
        upgrade(db, base_url=BASE_URL)
        self.server = FhirServer(self.settings, db=db, definitions=definitions)

    @property
    def env(self) -> dict[str, str]:
        values = {
            "RYGGRAD_DATA_DIR": str(self.tmp),
            "RYGGRAD_DATABASE_URL": self.settings.resolved_database_url,
            "RYGGRAD_BASE_URL": BASE_URL,
            "RYGGRAD_AUTH": "dev",
            "RYGGRAD_BROKER_KEY_PREFIX": self.prefix,
            **{
                f"RYGGRAD_{k.upper()}": json.dumps(v) if isinstance(v, list) else str(v)
                for k, v in [*_TEST_ITEMS, *self.extra.items()]
            },
        }
        if self.settings.broker_url:
            values["RYGGRAD_BROKER_URL"] = self.settings.broker_url
        env = {k: v for k, v in os.environ.items() if not k.startswith("RYGGRAD_")}
        return {**env, **values, "PYTHONPATH": str(ROOT)}

    def start_worker(self, *, beat: bool = False, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        command = [sys.executable, "-m", "fhir_server.cli", "worker", "--loglevel", "WARNING"]
        if beat:
            command.append("--beat")
        log = open(self.tmp / f"worker-{len(self.processes)}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command,
            env={**self.env, **(extra_env or {})},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the embedded scheduler goes with it in ``close``
        )
        self.processes.append(process)
        return process

    def start_beat(self) -> subprocess.Popen:
        command = [sys.executable, "-m", "fhir_server.cli", "beat", "--loglevel", "WARNING"]
        log = open(self.tmp / f"beat-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp.glob("*.log")))

    def execute(self, method: str, path: str, body: Any = None, **kwargs: Any) -> FhirResponse:
        return self.server.execute(FhirRequest(method, path, body=body, **kwargs))

    def subscribe(
        self, endpoint: str, criteria: str = "Appointment?status=booked", end: str | None = None, **channel: Any
    ) -> str:
        body = {
            "resourceType": "Subscription",
            "status": "requested",
            "reason": "test",
            "criteria": criteria,
            "channel": {"type": "rest-hook", "endpoint": endpoint, **channel},
            **({"end": end} if end else {}),
        }
        response = self.execute("POST", "Subscription", body)
        assert response.status == 201, response.resource
        return response.resource["id"]

    def subscription(self, sid: str) -> dict[str, Any]:
        return self.execute("GET", f"Subscription/{sid}").resource

    def wait_status(self, sid: str, status: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            current = self.subscription(sid)
            if current["status"] == status:
                return current
            if time.monotonic() > deadline:
                raise AssertionError(f"Subscription/{sid} is {current['status']}, not {status}\n{self.logs()}")
            time.sleep(0.1)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            with contextlib.suppress(ProcessLookupError):  # whatever it left behind in its group
                os.killpg(process.pid, signal.SIGKILL)
        self.server.close()
        if self.settings.broker_url and self.settings.broker_url.startswith("redis://"):
            client = redis.Redis.from_url(self.settings.broker_url)
            try:
                keys = list(client.scan_iter(match=f"{self.prefix}*"))
                if keys:
                    client.delete(*keys)
            except redis.RedisError:
                pass
        for cleanup in self.cleanups:
            cleanup()


def appointment(aid: str, status: str = "booked", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": aid,
        "status": status,
        "start": "2026-12-01T09:00:00Z",
        "end": "2026-12-01T09:30:00Z",
        "participant": [{"status": "accepted", "actor": {"display": "Dr. Test"}}],
        **extra,
    }


@pytest.fixture(params=["sqlite-filesystem", "postgresql-redis"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path, definitions: Definitions) -> Iterator[Deployment]:
    if request.param == "postgresql-redis":
        if _PG_SKIP:
            pytest.skip(_PG_SKIP)
        if _REDIS_SKIP:
            pytest.skip(_REDIS_SKIP)
    deployed = Deployment(request.param, tmp_path, definitions)
    try:
        yield deployed
    finally:
        deployed.close()
