"""The installed R4 core package, shared by the definitions tests (skipped with the reason when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_server.definitions.package_cache import is_installed, package_dir
from fhir_server.definitions.registry import Definitions, load_definitions
from fhir_server.settings import Settings


@pytest.fixture(scope="session")
def core_dir() -> Path:
    cache = Settings().fhir_package_cache
    if not is_installed(cache):
        pytest.skip(f"hl7.fhir.r4.core#4.0.1 is not installed in the FHIR package cache {cache}")
    return package_dir(cache)


@pytest.fixture(scope="session")
def core(core_dir: Path) -> Definitions:
    return load_definitions([core_dir])
