"""Every Synthea resource of ../shared indexes without error, with the rows its content implies."""

from __future__ import annotations

import bz2
from collections import Counter
from typing import Any

import orjson
import pytest

from fhir_server.definitions.registry import Definitions
from fhir_server.search.index import ResourceIndexer
from fhir_server.search.index.plan import FALLBACK
from tests.paths import FIXTURES, requires_shared


@pytest.fixture(scope="module")
def synthea() -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    for path in sorted((FIXTURES / "synthea").glob("*.json.bz2")):
        bundle = orjson.loads(bz2.decompress(path.read_bytes()))
        resources.extend(entry["resource"] for entry in bundle.get("entry", ()) if "resource" in entry)
    return resources


@requires_shared
def test_all_synthea_resources_index(indexer: ResourceIndexer, synthea: list[dict[str, Any]]) -> None:
    assert len(synthea) == 7876
    rows_by_kind: Counter[str] = Counter()
    params_by_type: dict[str, set[str]] = {}
    for resource in synthea:
        rows = indexer.rows(resource)
        for kind in rows.__slots__:
            found = getattr(rows, kind)
            rows_by_kind[kind] += len(found)
            params_by_type.setdefault(resource["resourceType"], set()).update(row.param for row in found)
    assert all(rows_by_kind[kind] > 1000 for kind in ("tokens", "strings", "references", "dates", "quantities", "uris"))
    assert {"code", "value-quantity", "date", "subject", "combo-code-value-quantity$1"} <= params_by_type["Observation"]
    assert {"family", "given", "birthdate", "gender", "identifier", "address-city"} <= params_by_type["Patient"]
    assert {"date", "class", "type", "subject", "participant"} <= params_by_type["Encounter"]


@requires_shared
def test_indexing_leaves_resources_unchanged(indexer: ResourceIndexer, synthea: list[dict[str, Any]]) -> None:
    for resource in synthea[:500]:
        before = orjson.dumps(resource)
        indexer.rows(resource)
        assert orjson.dumps(resource) == before


def test_server_definitions_compile(definitions: Definitions) -> None:
    """The server's own definitions (core plus profiles/) compile too, and say which parameters fall back."""
    statuses = ResourceIndexer(definitions).compile_all()
    assert statuses
    fallbacks = [s for s in statuses if s.mode == FALLBACK]
    assert len(fallbacks) <= 5, [(s.code, s.expression) for s in fallbacks]
