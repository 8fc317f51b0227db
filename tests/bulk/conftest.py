"""A server for the export tests on a real port of 127.0.0.1 (uvicorn in a thread), sharing the suite's database
per backend, spoken to with a real HTTP client; the worker's job run in-process where a test says so."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from fhir_server.bulk.runner import run_export
from fhir_server.http.app import create_app
from fhir_server.server import FhirServer
from fhir_server.settings import Settings
from tests.rest.helpers import unique
from tests.served import served_in_thread


def fresh_unit() -> str:
    return str(random.Random(unique("unit")).randrange(800_000_000, 999_999_999))


class Exporter:
    """The export API as a client uses it: kick-off, polling with Retry-After, the manifest and its files."""

    def __init__(self, server: FhirServer, base: str) -> None:
        self.server = server
        self.base = base
        self.http = httpx.Client(timeout=60)

    def token(self, role: str = "registry-admin", **claims: Any) -> dict[str, str]:
        assert self.server.dev_issuer is not None
        return {"Authorization": f"Bearer {self.server.dev_issuer.mint(role, **claims)}"}

    def kick_off(
        self, path: str, auth: dict[str, str], params: Any = None, *, prefer: str = "respond-async", **kw: Any
    ) -> httpx.Response:
        headers = {**auth, "Accept": "application/fhir+json"}
        if prefer:
            headers["Prefer"] = prefer
        method = "POST" if "json" in kw else "GET"
        return self.http.request(method, f"{self.base}/{path}", params=params, headers=headers, **kw)

    def start(self, path: str, auth: dict[str, str], params: Any = None, **kw: Any) -> str:
        """The status URL of a new export (asserting the 202)."""
        response = self.kick_off(path, auth, params, **kw)
        assert response.status_code == 202, response.text
        location = response.headers["content-location"]
        assert location.startswith(f"{self.base}/bulk/status/")
        return location

    def run_worker(self, status_url: str, worker: str = "test-worker") -> str:
        return run_export(self.server, job_id(status_url), worker)

    def wait(self, status_url: str, auth: dict[str, str]) -> dict[str, Any]:
        """Poll as a client does, honouring Retry-After (the worker run in-process at the first 202)."""
        ran = False
        for _ in range(20):
            response = self.http.get(status_url, headers=auth)
            if response.status_code == 200:
                assert response.headers["content-type"].startswith("application/json")
                assert "expires" in response.headers
                return response.json()
            assert response.status_code == 202, response.text
            retry_after = int(response.headers["retry-after"])
            assert response.headers["x-progress"]
            if not ran:
                self.run_worker(status_url)
                ran = True
            time.sleep(retry_after)
        raise AssertionError("the export did not complete")

    def export(self, path: str, auth: dict[str, str], params: Any = None, **kw: Any) -> tuple[dict, dict]:
        """(manifest, resources by type) of a completed export."""
        manifest = self.wait(self.start(path, auth, params, **kw), auth)
        return manifest, self.download(manifest, auth)

    def download(self, manifest: dict[str, Any], auth: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for item in manifest["output"]:
            response = self.http.get(item["url"], headers=auth)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("application/fhir+ndjson")
            lines = [orjson.loads(line) for line in response.content.splitlines() if line.strip()]
            assert len(lines) == item["count"]
            assert {r["resourceType"] for r in lines} == {item["type"]}
            found.setdefault(item["type"], []).extend(lines)
        return found

    def search(self, path: str, auth: dict[str, str], params: Any = None) -> list[dict[str, Any]]:
        """Every match of a search, following its next links."""
        found: list[dict[str, Any]] = []
        url: str | None = f"{self.base}/{path}"
        query = [*(params or []), ("_count", "500")]
        while url:
            response = self.http.get(url, params=query, headers=auth)
            assert response.status_code == 200, response.text
            page = response.json()
            found += [e["resource"] for e in page.get("entry", []) if e["search"]["mode"] == "match"]
            url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
            query = None
        return found

    def made(self, resource: dict[str, Any], auth: dict[str, str]) -> dict[str, Any]:
        response = self.http.post(f"{self.base}/{resource['resourceType']}", json=resource, headers=auth)
        assert response.status_code == 201, response.text
        return response.json()


def job_id(status_url: str) -> str:
    return urlsplit(status_url).path.rstrip("/").rsplit("/", 1)[-1]


def keyed(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{r['resourceType']}/{r['id']}": r for r in resources}


@contextmanager
def running_exporter(server: FhirServer, data_dir: Path, **overrides: Any) -> Iterator[Exporter]:
    """``server``'s database and definitions served by uvicorn on 127.0.0.1 with small export files and pages
    (``overrides``: other settings)."""
    made: list[FhirServer] = []

    def app(base: str) -> Any:
        settings = Settings(
            data_dir=data_dir,
            database_url=server.settings.resolved_database_url,
            base_url=base,
            auth="dev",
            rate_limit_per_minute=0,
            bulk_retry_after_s=1,
            bulk_file_max_resources=7,  # small files: every export here rolls over
            bulk_page_size=5,  # several pages per search
            bulk_max_jobs_per_client=100,
        ).model_copy(update=overrides)
        made.append(FhirServer(settings, db=server.db, definitions=server.definitions))
        return create_app(server=made[0])

    try:
        with served_in_thread(app) as base:
            exporter = Exporter(made[0], base)
            try:
                yield exporter
            finally:
                exporter.http.close()
    finally:
        for srv in made:
            srv.close()


@pytest.fixture(scope="session")
def exporter(server: FhirServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exporter]:
    with running_exporter(server, tmp_path_factory.mktemp("bulk")) as found:
        yield found
