"""The Synthea bundles through the transaction endpoint, then everything read back."""

from __future__ import annotations

import bz2

import orjson
import pytest

from tests.paths import FIXTURES, requires_shared

SYNTHEA = sorted((FIXTURES / "synthea").glob("*.json.bz2")) if FIXTURES.is_dir() else []
# Hospitals and practitioners come first: the patient bundles refer to them by conditional references.
INFRASTRUCTURE = [p for p in SYNTHEA if p.name.startswith("0-")]
PATIENTS = [p for p in SYNTHEA if not p.name.startswith("0-")]


def _load(path):
    return orjson.loads(bz2.decompress(path.read_bytes()))


@pytest.fixture(scope="module")
def synthea_infrastructure(client):
    """The hospital and practitioner batches (conditional creates, so loading them twice changes nothing)."""
    for path in INFRASTRUCTURE:
        _roundtrip(client, _load(path))


@requires_shared
@pytest.mark.parametrize("path", INFRASTRUCTURE, ids=[p.name[:12] for p in INFRASTRUCTURE])
def test_synthea_infrastructure_twice_is_idempotent(client, synthea_infrastructure, path):
    bundle = _load(path)
    result = _roundtrip(client, bundle)
    for sent, answered in zip(bundle["entry"], result["entry"], strict=True):
        expected = "200 OK" if sent["request"].get("ifNoneExist") else "201 Created"
        assert answered["response"]["status"] == expected


@requires_shared
@pytest.mark.parametrize("path", PATIENTS, ids=[p.name[:12] for p in PATIENTS])
def test_synthea_bundle_roundtrip(client, synthea_infrastructure, path):
    _roundtrip(client, _load(path))


def _roundtrip(client, bundle):
    """Post the bundle, then read every written resource and every resource it references back over HTTP."""
    response = client.post("/fhir", content=orjson.dumps(bundle), headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == 200, response.text[:2000]
    result = response.json()
    assert len(result["entry"]) == len(bundle["entry"])
    written: dict[str, dict] = {}
    for sent, answered in zip(bundle["entry"], result["entry"], strict=True):
        status = answered["response"]["status"]
        assert status.startswith(("200", "201")), status
        resource_type, resource_id = answered["response"]["location"].split("/fhir/")[1].split("/")[:2]
        assert resource_type == sent["resource"]["resourceType"]
        written[f"{resource_type}/{resource_id}"] = sent["resource"]
    stored = _read_all(client, written)
    referenced: set[str] = set()
    for key, sent in written.items():
        for field, value in sent.items():
            if field not in ("id", "meta") and not _has_references(value):
                assert stored[key][field] == value, (key, field)
        for reference in _references(stored[key]):
            assert not reference.startswith("urn:uuid:"), reference
            referenced.add("/".join(reference.split("/")[:2]))
    assert referenced <= set(_read_all(client, referenced))
    return result


def _read_all(client, keys) -> dict[str, dict]:
    """Read resources back by type with ``_id`` searches (a few requests instead of thousands)."""
    by_type: dict[str, list[str]] = {}
    for key in keys:
        resource_type, resource_id = key.split("/")
        by_type.setdefault(resource_type, []).append(resource_id)
    found: dict[str, dict] = {}
    for resource_type, ids in by_type.items():
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            page = client.post(f"/fhir/{resource_type}/_search", data={"_id": ",".join(chunk), "_count": "200"}).json()
            for entry in page.get("entry", []):
                found[f"{resource_type}/{entry['resource']['id']}"] = entry["resource"]
    return found


def _has_references(value) -> bool:
    return b'"reference"' in orjson.dumps(value)


def _references(node) -> list[str]:
    """Every Reference.reference in a resource, which must point at a stored resource after the transaction."""
    if isinstance(node, dict):
        ref = node.get("reference")
        found = [ref] if isinstance(ref, str) and not ref.startswith("#") else []
        return found + [r for key, value in node.items() if key != "reference" for r in _references(value)]
    if isinstance(node, list):
        return [r for value in node for r in _references(value)]
    return []
