"""Validators over the installed R4 core package, and the Synthea resources from ../shared (read in place)."""

from __future__ import annotations

import bz2
from typing import Any

import orjson
import pytest

from fhir_server.definitions.registry import Definitions
from fhir_server.validation import ResourceValidator
from tests.paths import FIXTURES


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
