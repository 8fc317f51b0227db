"""The same registry data in Ryggrad and in HAPI FHIR; the same searches must select the same resources.

Ids differ between the servers, so results are compared by business identifier (every demo resource has one),
and totals by count."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from fhir_server.demo import build_demo_bundle

pytestmark = pytest.mark.interop

TODAY = date(2026, 3, 2)
RESH = "urn:oid:2.16.578.1.12.4.1.4.102"
FNR = "urn:oid:2.16.578.1.12.4.1.4.1"

# (resource type, query): typical registry searches across parameter types, chains and reverse chains
QUERIES = [
    ("Patient", "gender=female"),
    ("Patient", "birthdate=ge1970-01-01&birthdate=lt1990-01-01"),
    ("Patient", "family=a"),
    ("Patient", "address-city=oslo"),
    ("Organization", f"identifier={RESH}|"),
    ("Organization", "name:contains=rygg"),
    ("Practitioner", "identifier:missing=false"),
    ("Appointment", "status=booked"),
    ("Appointment", "date=ge2026-03-01&date=lt2026-04-01"),
    ("Appointment", "actor:Patient.gender=female"),
    ("Appointment", "status:not=booked"),
    ("Patient", "_has:Appointment:actor:status=fulfilled"),
    ("Location", "organization.identifier=" + RESH + "|"),
    ("PractitionerRole", "practitioner.gender=female"),
    ("Patient", "_id:missing=false&gender:not=male"),
]


def _business_keys(bundle: dict) -> set[tuple[str, str]]:
    keys = set()
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        if entry.get("search", {}).get("mode", "match") != "match":
            continue
        identifiers = resource.get("identifier") or []
        first = identifiers[0] if identifiers else {}
        keys.add((resource.get("resourceType"), f"{first.get('system')}|{first.get('value')}"))
    return keys


def _all(client: httpx.Client, url: str) -> tuple[set[tuple[str, str]], int]:
    keys: set[tuple[str, str]] = set()
    total = 0
    while url:
        bundle = client.get(url).raise_for_status().json()
        page = _business_keys(bundle)
        keys |= page
        total += len(page)
        url = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)
    return keys, total


@pytest.fixture(scope="module")
def loaded(hapi_base, client):
    bundle = build_demo_bundle(2026, today=TODAY, patients=30, history=False)
    httpx.post(hapi_base, json=bundle, timeout=120).raise_for_status()
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200
    return hapi_base


@pytest.mark.parametrize(("resource_type", "query"), QUERIES)
def test_same_results_as_hapi(loaded, client, resource_type, query):
    with httpx.Client(timeout=60) as hapi:
        expected, expected_total = _all(hapi, f"{loaded}/{resource_type}?{query}&_count=100")
    ours: set[tuple[str, str]] = set()
    url = f"/fhir/{resource_type}?{query}&_count=100"
    while url:
        bundle = client.get(url).json()
        ours |= _business_keys(bundle)
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        url = url.replace("http://testserver", "") if url else None
    assert ours == expected
    assert len(ours) == expected_total
