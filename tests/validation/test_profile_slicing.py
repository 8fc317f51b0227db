"""Slicing rules beyond value discriminators: ordered slices, and slices told apart by the profile an item
conforms to. The profiles are the registry's own with their slicing changed (read from ``profiles/``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_server.definitions.registry import load_definitions
from fhir_server.norway.identifiers import DNR_SYSTEM, FNR_SYSTEM
from fhir_server.validation.profile import ProfileValidator

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
EXAMPLES = Path(__file__).resolve().parents[2] / "ig" / "examples" / "valid"
ORDERED = "urn:test:ordered-patient"
BY_PROFILE = "urn:test:episode-by-profile"


def _variant(name: str, url: str, element_id: str, slicing: dict) -> dict:
    sd = json.loads((PROFILES / f"StructureDefinition-{name}.json").read_text())
    sd["url"], sd["id"] = url, url.rsplit(":", 1)[1]
    for element in sd["snapshot"]["element"]:
        if element["id"] == element_id:
            element["slicing"] = {**element["slicing"], **slicing}
    return sd


@pytest.fixture(scope="module")
def validator(core_dir, tmp_path_factory) -> ProfileValidator:
    folder = tmp_path_factory.mktemp("variants")
    variants = [
        _variant("registry-patient", ORDERED, "Patient.identifier", {"ordered": True}),
        _variant(
            "registry-episode-of-care",
            BY_PROFILE,
            "EpisodeOfCare.extension",
            {"discriminator": [{"type": "profile", "path": "$this"}]},
        ),
    ]
    for sd in variants:
        (folder / f"StructureDefinition-{sd['id']}.json").write_text(json.dumps(sd))
    return ProfileValidator(load_definitions([core_dir, PROFILES, folder]))


def _errors(validator: ProfileValidator, resource: dict, url: str) -> list[str]:
    return [i.diagnostics for i in validator.validate(resource, url) if i.severity == "error"]


def test_ordered_slices_must_come_in_order(validator):
    fnr = {"system": FNR_SYSTEM, "value": "17858028973", "use": "official"}
    dnr = {"system": DNR_SYSTEM, "value": "57858028973", "use": "official"}
    patient = {"resourceType": "Patient", "identifier": [fnr, dnr]}
    in_order = _errors(validator, patient, ORDERED)
    assert not any("in the order of the profile's slices" in e for e in in_order)
    swapped = _errors(validator, {**patient, "identifier": [dnr, fnr]}, ORDERED)
    assert any("in the order of the profile's slices" in e for e in swapped), swapped


def test_slices_told_apart_by_the_profile_an_item_conforms_to(validator):
    episode = json.loads((EXAMPLES / "EpisodeOfCare-example-episode.json").read_text())
    assert _errors(validator, episode, BY_PROFILE) == []
    without = {**episode, "extension": [e for e in episode["extension"] if not e["url"].endswith("/registry")]}
    assert any("extension:registry' is required" in e for e in _errors(validator, without, BY_PROFILE))
    wrong_type = json.loads(json.dumps(episode))
    for extension in wrong_type["extension"]:
        if extension["url"].endswith("/registry"):
            extension["valueString"] = extension.pop("valueCoding")["code"]  # no longer the registry extension
    assert any("extension:registry' is required" in e for e in _errors(validator, wrong_type, BY_PROFILE))
