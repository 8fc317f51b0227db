"""An indexer over the installed R4 core package (only: profiles/ must not change what these tests expect)."""

from __future__ import annotations

import pytest

from fhir_server.definitions.registry import Definitions
from fhir_server.search.index import ResourceIndexer


@pytest.fixture(scope="session")
def indexer(core_definitions: Definitions) -> ResourceIndexer:
    return ResourceIndexer(core_definitions)
