"""HAPI FHIR in a container, for comparing search results (skipped with the reason when no Docker engine runs)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

HAPI_IMAGE = "hapiproject/hapi:v7.4.0"
STARTUP_SECONDS = 300


def _docker_unavailable() -> str | None:
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:  # no engine, no socket, no permission: all mean "cannot run here"
        return f"no Docker engine to run {HAPI_IMAGE}: {type(exc).__name__}"
    return None


@pytest.fixture(scope="session")
def hapi_base() -> Iterator[str]:
    reason = _docker_unavailable()
    if reason:
        pytest.skip(reason)
    from testcontainers.core.container import DockerContainer

    container = DockerContainer(HAPI_IMAGE).with_exposed_ports(8080).with_env("hapi.fhir.fhir_version", "R4")
    with container:
        base = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8080)}/fhir"
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"{base}/metadata", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"HAPI FHIR did not start within {STARTUP_SECONDS} s")
            time.sleep(2)
        yield base
