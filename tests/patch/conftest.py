"""The R4 core package for the patch tests: skipped, with the reason, when it is not installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_server.definitions.package_cache import is_installed, package_dir
from fhir_server.patch.definitions import ElementDefinitions

PACKAGES = Path.home() / ".fhir" / "packages"


@pytest.fixture(scope="session")
def r4_package() -> Path:
    if not is_installed(PACKAGES):
        pytest.skip(f"hl7.fhir.r4.core#4.0.1 is not installed in {PACKAGES} (run `ryggrad packages`)")
    return package_dir(PACKAGES)


@pytest.fixture(scope="session")
def elements(r4_package: Path) -> ElementDefinitions:
    return ElementDefinitions.load(r4_package)
