"""The R4 core package for the definitions tests (``core_dir``/``core_definitions`` come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from fhir_server.definitions.registry import Definitions


@pytest.fixture(scope="session")
def core(core_definitions: Definitions) -> Definitions:
    return core_definitions
