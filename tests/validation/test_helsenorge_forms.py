"""Helsenorge's own forms (``../shared/fixtures/helsenorge``, read in place) as Questionnaires: the refero examples
are valid R4; forms exported by structor carry defects that R4's rules reject, and are refused for exactly those."""

from __future__ import annotations

import json

import pytest

from fhir_server.definitions.registry import CORE_BASE
from fhir_server.validation.profile import ProfileValidator
from fhir_server.validation.structure import ResourceValidator
from tests.paths import FIXTURES, requires_shared

FORMS = FIXTURES / "helsenorge"
pytestmark = requires_shared


@pytest.fixture(scope="module")
def errors(definitions):
    structure, profiles = ResourceValidator(definitions), ProfileValidator(definitions)

    def check(questionnaire: dict) -> list[str]:
        issues = structure.validate(questionnaire) + profiles.validate(questionnaire, CORE_BASE + "Questionnaire")
        return [i.diagnostics for i in issues if i.severity == "error"]

    return check


def _questionnaires(name: str) -> list[dict]:
    loaded = json.loads((FORMS / name).read_text())
    if loaded["resourceType"] == "Bundle":
        return [e["resource"] for e in loaded["entry"] if e["resource"]["resourceType"] == "Questionnaire"]
    return [loaded]


@pytest.mark.parametrize(
    "name",
    ["refero-preview-all-components.q.json", "refero-section-score.q.json", "refero-slv-adverse-reaction.bundle.json"],
)
def test_refero_forms_are_valid(errors, name):
    for questionnaire in _questionnaires(name):
        assert errors(questionnaire) == [], questionnaire.get("language")


def test_structor_exports_are_refused_for_their_real_defects(errors):
    found = errors(_questionnaires("structor-HSO_pakjenning-v2.0.7.bundle.json")[0])
    assert any("Invalid uri format" in e for e in found)  # a Coding.system ending in a space
    assert any(e.startswith("que-6") for e in found)  # display items written with required/repeats false
    assert any(e.startswith("que-6") for e in errors(_questionnaires("structor-Hdir_mental_abc-nb-NO-v0.08.json")[0]))
