"""The Python fast path answers exactly as fhirpathpy does, on the suite's resources and on edge cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.views_runner import synthetic_responses
from fhir_server.views.fhirpath import CompiledPath, plain
from fhir_server.views.shortcut import compile_shortcut

SUITE_DIR = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "fhir-test-cases" / "sql-on-fhir"

COVERED = [
    "id",
    "$this",
    "name.family",
    "name.given.first()",
    "name.first().given",
    "name.where(use = 'official').family",
    "name.where(use = 'official').exists()",
    "name.empty()",
    "telecom.count()",
    "value.ofType(Quantity).value",
    "value.ofType(integer)",
    "value.ofType(string).first()",
    "deceased.ofType(boolean)",
    "effective.ofType(dateTime)",
    "item.where(linkId = 'q1').answer.value.ofType(integer).first()",
    "item.answer.value.ofType(Coding).code",
    "getResourceKey()",
    "subject.getReferenceKey(Patient)",
    "link.other.getReferenceKey()",
    "managingOrganization.getReferenceKey(Organization)",
    "status = 'completed'",
    "gender = 'female'",
    "name.ofType(HumanName).family",  # not a choice element: must fall back
    "value",  # a choice element named without its type: must fall back
]

NOT_COVERED = ["name.given.join(',')", "birthDate = @1970-06", "status = '2020'", "Patient.id", "%resource.id"]

EDGE_CASES: list[dict[str, Any]] = [
    {"resourceType": "Patient", "id": "x1", "name": [{"given": ["A", None], "_given": [None, {"extension": []}]}]},
    {"resourceType": "Patient", "id": "x2", "name": [{"use": "official", "family": "F", "_family": {"id": "e"}}]},
    {"resourceType": "Patient", "id": "x3", "gender": "female", "_gender": {"extension": []}},
    {"resourceType": "Patient", "id": "x4", "link": [{"other": {"reference": "https://h/fhir/Patient/x4/_history/3"}}]},
    {"resourceType": "Observation", "id": "o9", "valueInteger": 7, "effectiveDateTime": "2020-01-01"},
    {"resourceType": "Observation", "id": "o10", "valueQuantity": {"value": 2.50, "unit": "kg"}},
]


def _resources() -> list[dict[str, Any]]:
    resources = list(EDGE_CASES) + synthetic_responses(5, 6)
    if SUITE_DIR.is_dir():
        for file_name in json.loads((SUITE_DIR / "manifest.json").read_text(encoding="utf-8")):
            resources.extend(json.loads((SUITE_DIR / file_name).read_text(encoding="utf-8"))["resources"])
    return resources


@pytest.mark.parametrize("expression", COVERED)
def test_the_shortcut_agrees_with_fhirpathpy(expression: str) -> None:
    path = CompiledPath(expression, set())
    assert compile_shortcut(path._ast) is not None, "expected the fast path to cover this shape"
    for resource in _resources():
        fast = path.values(resource, {"resource": resource})
        slow = [v for v in map(plain, path.evaluate(resource, {"resource": resource}, typed=True)) if v is not None]
        assert fast == slow, (expression, resource.get("id"))


@pytest.mark.parametrize("expression", NOT_COVERED)
def test_other_shapes_go_to_fhirpathpy(expression: str) -> None:
    assert compile_shortcut(CompiledPath(expression, set())._ast) is None
