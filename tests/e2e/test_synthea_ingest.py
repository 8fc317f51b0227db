"""The Synthea bundles through the transaction endpoint, then everything read back."""

from __future__ import annotations

import bz2

import orjson
import pytest

from tests.paths import FIXTURES, requires_shared

SYNTHEA = sorted((FIXTURES / "synthea").glob("*.json.bz2")) if FIXTURES.is_dir() else []


@requires_shared
@pytest.mark.parametrize("path", SYNTHEA, ids=[p.name[:12] for p in SYNTHEA])
def test_synthea_bundle_roundtrip(client, path):
    bundle = orjson.loads(bz2.decompress(path.read_bytes()))
    response = client.post("/fhir", content=orjson.dumps(bundle), headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == 200, response.text[:2000]
    result = response.json()
    assert len(result["entry"]) == len(bundle["entry"])
    for sent, answered in zip(bundle["entry"], result["entry"], strict=True):
        status = answered["response"]["status"]
        assert status.startswith(("200", "201")), status
        location = answered["response"]["location"]
        resource_type, resource_id = location.split("/fhir/")[1].split("/")[:2]
        stored = client.get(f"/fhir/{resource_type}/{resource_id}").json()
        assert stored["resourceType"] == sent["resource"]["resourceType"]
        for key, value in sent["resource"].items():
            if key not in ("id", "meta") and not _has_references(value):
                assert stored[key] == value, key
        if _has_references(sent["resource"]):
            assert "urn:uuid:" not in orjson.dumps(stored).decode()


def _has_references(value) -> bool:
    return b'"reference"' in orjson.dumps(value)
