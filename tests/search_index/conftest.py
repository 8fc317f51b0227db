"""An indexer over the installed R4 core package (only: profiles/ must not change what these tests expect)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_server.definitions.package_cache import is_installed, package_dir
from fhir_server.definitions.registry import Definitions, load_definitions
from fhir_server.search.index import ResourceIndexer
from fhir_server.settings import Settings


@pytest.fixture(scope="session")
def core_dir() -> Path:
    cache = Settings().fhir_package_cache
    if not is_installed(cache):
        pytest.skip(f"hl7.fhir.r4.core#4.0.1 is not installed in the FHIR package cache {cache}")
    return package_dir(cache)


@pytest.fixture(scope="session")
def core_definitions(core_dir: Path) -> Definitions:
    return load_definitions([core_dir])


@pytest.fixture(scope="session")
def indexer(core_definitions: Definitions) -> ResourceIndexer:
    return ResourceIndexer(core_definitions)
