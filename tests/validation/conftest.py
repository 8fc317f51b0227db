"""Validators over the installed R4 core package, and the Synthea resources from ../shared (read in place)."""

from __future__ import annotations

import bz2
from typing import Any

import orjson
import pytest

from fhir_server.definitions.package_cache import is_installed, package_dir
from fhir_server.definitions.registry import Definitions, load_definitions
from fhir_server.settings import Settings
from fhir_server.validation import ResourceValidator
from tests.paths import FIXTURES


@pytest.fixture(scope="session")
def core_definitions() -> Definitions:
    cache = Settings().fhir_package_cache
    if not is_installed(cache):
        pytest.skip(f"hl7.fhir.r4.core#4.0.1 is not installed in the FHIR package cache {cache}")
    return load_definitions([package_dir(cache)])


@pytest.fixture(scope="session")
def validator(core_definitions: Definitions) -> ResourceValidator:
    return ResourceValidator(core_definitions)


@pytest.fixture(scope="session")
def model_validator(core_definitions: Definitions) -> ResourceValidator:
    return ResourceValidator(core_definitions, check_models=True)


def load_synthea_resources() -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    for path in sorted((FIXTURES / "synthea").glob("*.json.bz2")):
        bundle = orjson.loads(bz2.decompress(path.read_bytes()))
        resources.extend(entry["resource"] for entry in bundle.get("entry", ()) if "resource" in entry)
    return resources


@pytest.fixture(scope="session")
def synthea_resources() -> list[dict[str, Any]]:
    return load_synthea_resources()
