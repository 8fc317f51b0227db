"""Profiles that come without a snapshot get one generated from their differential: with every snapshot of the
registry's package removed (extensions included), every valid and invalid example is judged exactly as with the
snapshots SUSHI wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_server.definitions.registry import load_definitions
from fhir_server.definitions.snapshot import SnapshotError, generate_snapshot
from fhir_server.validation.profile import ProfileValidator

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "profiles"
EXAMPLES = ROOT / "ig" / "examples"
CASES = sorted((EXAMPLES / "valid").glob("*.json")) + sorted((EXAMPLES / "invalid").glob("*-*.json"))


@pytest.fixture(scope="module")
def validators(core_dir, tmp_path_factory) -> tuple[ProfileValidator, ProfileValidator]:
    stripped = tmp_path_factory.mktemp("differential-only")
    for path in PROFILES.glob("*.json"):
        resource = json.loads(path.read_text())
        if resource.get("resourceType") == "StructureDefinition":
            resource.pop("snapshot", None)
        (stripped / path.name).write_text(json.dumps(resource))
    return (
        ProfileValidator(load_definitions([core_dir, PROFILES])),
        ProfileValidator(load_definitions([core_dir, stripped])),
    )


def _judged(validator: ProfileValidator, resource: dict) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted(
        (i.severity, i.diagnostics, i.expression) for i in validator.validate(resource, resource["meta"]["profile"][0])
    )


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_a_generated_snapshot_judges_as_the_written_one(validators, path):
    written, generated = validators
    resource = json.loads(path.read_text())
    assert _judged(generated, resource) == _judged(written, resource)
    assert generated.knows(resource["meta"]["profile"][0])


def test_a_differential_the_base_cannot_take_is_refused(core_dir):
    definitions = load_definitions([core_dir])
    bad = {
        "resourceType": "StructureDefinition",
        "url": "urn:test:bad",
        "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {"element": [{"id": "Patient.nosuch", "path": "Patient.nosuch", "min": 1}]},
    }
    with pytest.raises(SnapshotError):
        generate_snapshot(bad, definitions)
