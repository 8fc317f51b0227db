"""The HL7 Norway no-basis example Patient against the no-basis Patient profile, both read in place from
``../shared`` (the validator takes any profile it is given, not only the registry's)."""

from __future__ import annotations

import copy
import json

import pytest

from fhir_server.definitions.registry import load_definitions
from fhir_server.validation.profile import ProfileValidator
from fhir_server.validation.structure import ResourceValidator
from tests.paths import FIXTURES, requires_shared

NO_BASIS = FIXTURES / "no-basis"
PROFILE = "http://hl7.no/fhir/StructureDefinition/no-basis-Patient"
OFFICIAL = "http://hl7.no/fhir/StructureDefinition/no-basis-address-official"

pytestmark = requires_shared


@pytest.fixture(scope="module")
def checked(core_dir):
    definitions = load_definitions([core_dir, NO_BASIS])
    structure, profiles = ResourceValidator(definitions), ProfileValidator(definitions)

    def errors(resource: dict) -> list[tuple[str, tuple[str, ...]]]:
        issues = structure.validate(resource) + profiles.validate(resource, PROFILE)
        return [(i.diagnostics, i.expression) for i in issues if i.severity == "error"]

    return errors


@pytest.fixture(scope="module")
def example() -> dict:
    return json.loads((NO_BASIS / "no-basis-Patient-Jannice-Søreng.json").read_text())


def test_the_no_basis_example_patient_conforms(checked, example):
    assert example["meta"]["profile"] == [PROFILE]
    assert checked(example) == []


def test_a_broken_copy_does_not(checked, example):
    wrong_number = copy.deepcopy(example)
    wrong_number["identifier"][0]["value"] = "21030550232"  # one check digit off
    assert any("fødselsnummer is not valid" in d for d, _ in checked(wrong_number))
    wrong_type = copy.deepcopy(example)
    for extension in wrong_type["address"][0]["extension"]:
        if extension["url"] == OFFICIAL:
            extension["valueString"] = str(extension.pop("valueBoolean")).lower()
    assert any("must be of type boolean" in d for d, _ in checked(wrong_type)), checked(wrong_type)
