"""Fixtures: a migrated database per backend (SQLite always; PostgreSQL when reachable), a server, a client."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from fhir_server.definitions.package_cache import is_installed, package_dir
from fhir_server.definitions.registry import Definitions, default_definitions, load_definitions
from fhir_server.http.app import create_app
from fhir_server.server import FhirServer
from fhir_server.settings import Settings, get_settings
from fhir_server.storage.engine import Database
from fhir_server.storage.migrate import upgrade
from tests.standins.helseid import HelseIdStandIn
from tests.subscriptions.receiver import Receiver

POSTGRES_ADMIN_URL = os.environ.get(
    "RYGGRAD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BASE_URL = "http://testserver/fhir"


def _postgres_unreachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except OperationalError as exc:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {str(exc).splitlines()[0]}"
    return None


_PG_SKIP = _postgres_unreachable()


class PostgresDatabase:
    """A uniquely named database, created for the test session and dropped after it."""

    def __init__(self) -> None:
        self.name = f"ryggrad_t_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def core_dir() -> Path:
    """The installed hl7.fhir.r4.core#4.0.1 package (skipped with the reason when absent)."""
    cache = Settings().fhir_package_cache
    if not is_installed(cache):
        pytest.skip(f"hl7.fhir.r4.core#4.0.1 is not installed in the FHIR package cache {cache}")
    return package_dir(cache)


@pytest.fixture(scope="session")
def core_definitions(core_dir: Path) -> Definitions:
    """The R4 core package only: profiles/ must not change what definition-level tests expect."""
    return load_definitions([core_dir])


@pytest.fixture(scope="session")
def definitions() -> Definitions:
    return default_definitions(Settings())


def make_database_url(backend: str, tmp: Path, cleanups: list) -> str:
    if backend == "postgresql":
        if _PG_SKIP:
            pytest.skip(_PG_SKIP)
        pg = PostgresDatabase()
        cleanups.append(pg.drop)
        return pg.url
    return f"sqlite:///{tmp / 'ryggrad.db'}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def server(backend: str, definitions: Definitions, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    tmp = tmp_path_factory.mktemp(f"data-{backend}")
    cleanups: list = []
    url = make_database_url(backend, tmp, cleanups)
    # no rate limit: the suite sends thousands of requests a minute as one client (tests/auth covers the limit)
    settings = Settings(
        data_dir=tmp,
        database_url=url,
        base_url=BASE_URL,
        auth="dev",
        rate_limit_per_minute=0,
        registry_code_attempts_per_minute=0,  # tests/registry/test_on_site_codes.py covers that limit
    )
    db = Database(url)
    upgrade(db, base_url=BASE_URL)
    srv = FhirServer(settings, db=db, definitions=definitions)
    yield srv
    srv.close()
    for cleanup in cleanups:
        cleanup()


def bearer(server: FhirServer, role: str = "registry-admin", **claims: Any) -> dict[str, str]:
    """An ``Authorization`` header with a development-issuer token (``claims``: ``DevIssuer.mint`` arguments)."""
    assert server.dev_issuer is not None
    return {"Authorization": f"Bearer {server.dev_issuer.mint(role, **claims)}"}


@pytest.fixture(scope="session")
def client(server: FhirServer) -> Iterator[TestClient]:
    """A client acting as the registry's administration (every permission); tests of access control make
    their own tokens with ``bearer``."""
    app = create_app(server=server)
    with TestClient(app, base_url="http://testserver", headers=bearer(server)) as test_client:
        yield test_client


@pytest.fixture
def same_database(server, monkeypatch):
    """The CLI's settings (from the environment) point at the test server's database."""
    monkeypatch.setenv("RYGGRAD_DATA_DIR", str(server.settings.data_dir))
    monkeypatch.setenv("RYGGRAD_DATABASE_URL", server.settings.resolved_database_url)
    monkeypatch.setenv("RYGGRAD_BASE_URL", server.settings.base_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def helseid() -> Iterator[HelseIdStandIn]:
    """A HelseID-like token service on 127.0.0.1 (tests/standins/helseid.py)."""
    stand_in = HelseIdStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A rest-hook endpoint on loopback that records what it gets."""
    got = Receiver()
    yield got
    got.stop()
