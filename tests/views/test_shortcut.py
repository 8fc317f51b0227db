"""The Python fast path answers exactly as fhirpathpy does, on the suite's resources and on edge cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.views_runner import synthetic_responses
from fhir_server.views.fhirpath import CompiledPath, plain
from fhir_server.views.shortcut import FALLBACK, compile_shortcut

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
    "repeat(item).where(linkId = 'q1').answer.value.ofType(Coding).code.first().toInteger()",
    "item.where(linkId = 'q1').answer.value.ofType(integer).first().toInteger()",
    "id.toInteger()",
    "repeat(item).where(linkId = 'g')[0].repeat(item).where(linkId = 'q1').answer.value.ofType(Coding).code.first()",
    "item[1].linkId",
    "iif(item.answer.exists(), iif(item.answer.value.ofType(Coding).where(code = 'a').exists(), 1, 0), {})",
    "iif(name.where(use = 'official').exists(), 1, 0)",
    "iif(gender = 'female', 2, iif(gender = 'male', 1, {}))",
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
    {"resourceType": "Patient", "id": "123", "gender": "male"},
    {
        "resourceType": "QuestionnaireResponse",
        "id": "r1",
        "item": [
            {"linkId": "q1", "answer": [{"valueCoding": {"code": "07"}}, {"valueCoding": {"code": "a"}}]},
            {"linkId": "g", "item": [{"linkId": "q1", "answer": [{"valueCoding": {"code": "x1"}}]}]},
        ],
    },
    {
        "resourceType": "QuestionnaireResponse",
        "id": "r2",
        "item": [{"linkId": "q1", "answer": [{"valueCoding": {"code": "-3"}}]}],
    },
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


REGISTRY_VIEWS = Path(__file__).resolve().parents[2] / "mappings" / "views"
REGISTRY_EXTENSION_EDGES: list[dict[str, Any]] = [
    # an extension without url (fhirpathpy fails), several matching (it keeps the first), a value also as `value`
    {"resourceType": "EpisodeOfCare", "id": "e1", "extension": [{"valueDate": "2025-01-01"}]},
    {
        "resourceType": "EpisodeOfCare",
        "id": "e2",
        "extension": [
            {"url": "https://ryggrad.no/fhir/StructureDefinition/visit-date", "valueDate": "2025-01-02"},
            {"url": "https://ryggrad.no/fhir/StructureDefinition/visit-date", "valueDate": "2025-01-03"},
            {"url": "https://ryggrad.no/fhir/StructureDefinition/referral-date", "_valueDate": {"id": "x"}},
            {"url": "https://ryggrad.no/fhir/StructureDefinition/registry", "valueString": "nnrr"},
        ],
    },
    {"resourceType": "EpisodeOfCare", "id": "e3", "extension": {"url": "not-a-list"}},
    {
        "resourceType": "QuestionnaireResponse",
        "id": "q1",
        "extension": [
            {
                "url": "https://ryggrad.no/fhir/StructureDefinition/episode",
                "valueReference": {"reference": "https://h/fhir/EpisodeOfCare/e9/_history/2"},
            }
        ],
        # two equal items (fhirpathpy keeps one), nested groups, an item without answers
        "item": [
            {"linkId": "professions", "answer": [{"valueCoding": {"code": "a"}}]},
            {"linkId": "g", "item": [{"linkId": "professions", "answer": [{"valueCoding": {"code": "a"}}]}]},
            {"linkId": "visit-date", "answer": [{"valueDate": "2025-02-01"}, {"valueDate": "2025-02-02"}]},
            {"linkId": "yellow-flags"},
        ],
    },
    {
        "resourceType": "QuestionnaireResponse",
        "id": "q2",
        "item": [
            {"linkId": "g", "item": [{"linkId": "g", "item": [{"linkId": "coping-talk", "answer": []}]}]},
            {
                "linkId": "work-status",
                "answer": [{"valueCoding": {"code": "working"}}, {"valueCoding": {"code": "aap"}}],
            },
        ],
    },
]


REGISTRY_EXTENSION_EDGES += [
    # where clauses: no questionnaire, a reference that is not a string (fhirpathpy fails), several profiles
    {"resourceType": "QuestionnaireResponse", "id": "q3", "status": "completed"},
    {"resourceType": "Task", "id": "t1", "meta": {"profile": ["a", "b"]}, "focus": {"reference": 5}},
    {
        "resourceType": "Task",
        "id": "t2",
        "meta": {"profile": ["https://ryggrad.no/fhir/StructureDefinition/prom-task"]},
    },
    {"resourceType": "Task", "id": "t3", "focus": {"reference": "https://ryggrad.no/fhir/Questionnaire/x"}},
    {"resourceType": "Observation", "id": "o1", "status": "final", "_status": {"id": "s"}},
]


def _registry_expressions() -> list[str]:
    expressions: list[str] = []

    def walk(select: dict[str, Any]) -> None:
        expressions.extend(column["path"] for column in select.get("column", []))
        for key in ("forEach", "forEachOrNull"):
            if key in select:
                expressions.append(select[key])
        for nested in [*select.get("select", []), *select.get("unionAll", [])]:
            walk(nested)

    for file in sorted(REGISTRY_VIEWS.glob("*.json")):
        view = json.loads(file.read_text(encoding="utf-8"))
        expressions.extend(item["path"] for item in view.get("where", []))
        for select in view["select"]:
            walk(select)
    return sorted(set(expressions))


def _registry_resources() -> list[dict[str, Any]]:
    from datetime import date
    from random import Random

    from bench.nnrr_registry import episode_resources, unit_ids

    rng = Random(5)
    resources = list(REGISTRY_EXTENSION_EDGES)
    for number in range(25):
        resources.extend(episode_resources(number, rng, unit_ids(3), date(2025, 1, 1), 365))
    return resources


def _slow_values(path: CompiledPath, resource: dict[str, Any]) -> Any:
    try:
        return [v for v in map(plain, path.evaluate(resource, {"resource": resource}, typed=True)) if v is not None]
    except Exception as exc:  # the same failure is expected of the fast path (it falls back)
        return type(exc)


def _fast_values(path: CompiledPath, resource: dict[str, Any]) -> Any:
    try:
        return path.values(resource, {"resource": resource})
    except Exception as exc:
        return type(exc)


def test_the_registry_views_extension_repeat_and_where_paths_take_the_fast_path() -> None:
    expressions = _registry_expressions()
    shapes = [e for e in expressions if e.startswith(("extension(", "repeat(item)")) or "startsWith(" in e]
    assert len(shapes) >= 18
    realistic = _registry_resources()[len(REGISTRY_EXTENSION_EDGES) :]
    for expression in shapes:
        shortcut = CompiledPath(expression, set())._shortcut
        assert shortcut is not None, expression
        assert all(shortcut.run(resource) is not FALLBACK for resource in realistic), expression


def test_equal_items_and_extensions_without_url_are_left_to_fhirpathpy() -> None:
    edges = {resource["id"]: resource for resource in REGISTRY_EXTENSION_EDGES}
    repeat = CompiledPath("repeat(item).where(linkId = 'professions').answer.count()", set())._shortcut
    extension = CompiledPath("extension('https://ryggrad.no/fhir/StructureDefinition/visit-date').value", set())
    assert repeat is not None and repeat.run(edges["q1"]) is FALLBACK
    assert extension._shortcut is not None and extension._shortcut.run(edges["e1"]) is FALLBACK


@pytest.mark.parametrize("expression", _registry_expressions())
def test_the_registry_views_paths_agree_with_fhirpathpy(expression: str) -> None:
    path = CompiledPath(expression, set())
    resources = _registry_resources()
    assert len({r["resourceType"] for r in resources}) == 4
    for resource in resources:
        assert _fast_values(path, resource) == _slow_values(path, resource), (expression, resource.get("id"))
