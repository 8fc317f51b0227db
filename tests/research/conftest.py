"""The research tests' own database (per backend): which patients a data release covers depends on every
consent and episode in it, so other tests' data (the demo's consenting patients, say) must not be there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from fhir_server.definitions.registry import Definitions
from fhir_server.http.app import create_app
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from fhir_server.storage.engine import Database
from fhir_server.storage.migrate import upgrade
from tests.bulk.conftest import Exporter, running_exporter
from tests.conftest import BASE_URL, bearer, make_database_url
from tests.research.world import World, build_world


@contextmanager
def fresh_server(backend: str, definitions: Definitions, tmp: Path) -> Iterator[FhirServer]:
    """A server on a new, migrated database of ``backend`` (dropped afterwards)."""
    cleanups: list = []
    url = make_database_url(backend, tmp, cleanups)
    settings = Settings(data_dir=tmp, database_url=url, base_url=BASE_URL, auth="dev", rate_limit_per_minute=0)
    db = Database(url)
    upgrade(db, base_url=BASE_URL)
    srv = FhirServer(settings, db=db, definitions=definitions)
    try:
        yield srv
    finally:
        srv.close()
        for cleanup in cleanups:
            cleanup()


@pytest.fixture(scope="session")
def server(backend: str, definitions: Definitions, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    with fresh_server(backend, definitions, tmp_path_factory.mktemp(f"research-{backend}")) as srv:
        yield srv


@pytest.fixture(scope="session")
def client(server: FhirServer) -> Iterator[TestClient]:
    with TestClient(create_app(server=server), base_url="http://testserver", headers=bearer(server)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def exporter(server: FhirServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exporter]:
    with running_exporter(server, tmp_path_factory.mktemp("research-bulk")) as found:
        yield found


@pytest.fixture(scope="session")
def world(client: TestClient) -> World:
    return build_world(client)


@pytest.fixture(scope="session")
def answers() -> list[str]:
    """Every researcher answer of these tests, for the leak scans."""
    return []
