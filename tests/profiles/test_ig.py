"""The Implementation Guide (``ig/``) and the package it compiles to (``profiles/``): fresh, loaded by the server,
its SearchParameters indexed and searchable, its examples accepted."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.paths import require_node_package
from tests.rest.helpers import unique

ROOT = Path(__file__).resolve().parents[2]
IG = ROOT / "ig"
EXAMPLES = IG / "examples" / "valid"
CANONICAL = "https://ryggrad.no/fhir"
PROFILES = (
    "registry-patient",
    "registry-organization",
    "registry-practitioner",
    "registry-appointment",
    "registry-episode-of-care",
    "registry-consent",
    "prom-task",
    "registry-questionnaire-response",
    "registry-diagnosis",
    "registry-referral",
    "registry-measure",
    "registry-measure-report",
    "registry-procedure",
    "implanted-device",
)


def test_profiles_are_fresh_against_the_ig():
    """``make profiles`` output is committed: compiling ``ig/`` again changes nothing."""
    require_node_package(IG, "fsh-sushi")
    checked = subprocess.run(
        [sys.executable, str(IG / "build_profiles.py"), "--check"], capture_output=True, text=True, timeout=300
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_server_loads_the_registry_profiles(definitions):
    for name in PROFILES:
        found = definitions.structure_definition(f"{CANONICAL}/StructureDefinition/{name}")
        assert found is not None and found["resourceType"] == "StructureDefinition", name
        assert found["snapshot"]["element"], f"{name} has a snapshot"
        assert found["fhirVersion"] == "4.0.1"


def _with_ids(examples: list[dict], suffix: str) -> list[dict]:
    """The examples with every id (and every reference to one) made unique to this test."""
    ids = {f"{e['resourceType']}/{e['id']}" for e in examples}
    text = json.dumps(examples)
    for ref in sorted(ids, key=len, reverse=True):
        kind, old = ref.split("/")
        text = re.sub(rf'"{kind}/{re.escape(old)}"', f'"{kind}/{old}-{suffix}"', text)
    out = json.loads(text)
    for resource in out:
        resource["id"] = f"{resource['id']}-{suffix}"
    return out


def test_examples_are_accepted_and_the_custom_search_parameters_find_them(client):
    suffix = unique("ig")
    examples = _with_ids([json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))], suffix)
    assert {e["resourceType"] for e in examples} >= {"Patient", "Task", "EpisodeOfCare", "Appointment"}
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": e, "request": {"method": "PUT", "url": f"{e['resourceType']}/{e['id']}"}} for e in examples
        ],
    }
    stored = client.post("/fhir", json=bundle)
    assert stored.status_code == 200, stored.text

    def ids(query: str) -> set[str]:
        found = client.get(f"/fhir/{query}", headers={"Prefer": "handling=strict"})
        assert found.status_code == 200, found.text
        return {e["resource"]["id"] for e in found.json().get("entry", [])}

    task, episode = f"example-prom-task-{suffix}", f"example-episode-{suffix}"
    assert task in ids(f"Task?due=le2026-02-11&_id={task}")
    assert task not in ids(f"Task?due=lt2026-02-10&_id={task}")  # due 2026-02-10T09:00+01:00
    assert task in ids(f"Task?episode=EpisodeOfCare/{episode}")
    assert f"example-response-{suffix}" in ids(f"QuestionnaireResponse?episode={episode}")
    assert episode in ids(f"EpisodeOfCare?registry={CANONICAL}/CodeSystem/registry|nnrr&_id={episode}")
    assert episode in ids(f"EpisodeOfCare?visit-date=2026-02-10&_id={episode}")
    assert episode not in ids(f"EpisodeOfCare?registry=opr&_id={episode}")
    appointment = f"example-appointment-{suffix}"
    assert appointment in ids(f"Appointment?registry-potential=nnrr&_id={appointment}")


def test_the_capability_statement_lists_the_custom_search_parameters(client):
    rest = client.get("/fhir/metadata").json()["rest"][0]
    by_type = {r["type"]: {p["name"] for p in r.get("searchParam", [])} for r in rest["resource"]}
    assert {"due", "episode"} <= by_type["Task"]
    assert {"registry", "visit-date"} <= by_type["EpisodeOfCare"]
    assert "registry-potential" in by_type["Appointment"]
