"""Synthetic NNRR cohorts for the indicator tests: episodes described as plain values (``Case``), written through
the API as the registry holds them — Patient, EpisodeOfCare, the finalised clinician form, the patient's forms
before the consultation and at 6 and 12 months (scored by the scoring worker) — so that each test can compute the
expected numerators and denominators from the cases on its own."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from tests.profiles.test_registry_forms import answered_response

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
SD = "https://ryggrad.no/fhir/StructureDefinition/"
CS = "https://ryggrad.no/fhir/CodeSystem/"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"


@dataclass
class Case:
    unit: str
    visit: date
    referral: date | None = None
    final: bool = True
    coping: bool = False
    interdisciplinary: bool = False
    professions: int = 1
    odi: tuple[int | None, int | None] = (None, None)  # before, 6 months (even numbers: 10 items scored 0-5)
    rest: tuple[int | None, int | None] = (None, None)
    activity: tuple[int | None, int | None] = (None, None)
    work: tuple[set[str], set[str]] = field(default_factory=lambda: (set(), set()))  # work-status codes
    sick_percent: tuple[int | None, int | None] = (None, None)
    gpe: int | None = None  # at 6 months; a 6-month form exists when gpe is set (the form requires it)
    satisfaction: int | None = None
    form_12m: bool = False


def form(name: str) -> dict[str, Any]:
    return json.loads((PROFILES / f"Questionnaire-{name}.json").read_text())


def _walk(items: list[dict[str, Any]]):
    for item in items:
        yield item
        yield from _walk(item.get("item", []))


def _option(item: dict[str, Any], *, code: str | None = None, score: int | None = None) -> dict[str, Any]:
    for option in item["answerOption"]:
        coding = option["valueCoding"]
        ordinal = next((e["valueDecimal"] for e in coding.get("extension", []) if e["url"] == ORDINAL), None)
        if (code is not None and coding["code"] == code) or (score is not None and ordinal == score):
            return {"valueCoding": {k: v for k, v in coding.items() if k != "extension"}}
    raise AssertionError(f"{item['linkId']}: no option {code or score}")


def response(questionnaire: dict[str, Any], answers: dict[str, list[Any]]) -> dict[str, Any]:
    """A completed response with ``answers`` by link id: option codes (str), scores (int) or integers for integer
    items; any other required item gets its first option."""

    def build(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for item in items:
            link = item["linkId"]
            if item["type"] == "group":
                inner = build(item["item"])
                if inner:
                    out.append({"linkId": link, "item": inner})
                continue
            values = answers.get(link)
            if values is None and item.get("required"):
                out.append(
                    {"linkId": link, "answer": [_option(item, code=item["answerOption"][0]["valueCoding"]["code"])]}
                )
            elif values:
                if item["type"] == "integer":
                    out.append({"linkId": link, "answer": [{"valueInteger": v} for v in values]})
                else:
                    chosen = [_option(item, code=v) if isinstance(v, str) else _option(item, score=v) for v in values]
                    out.append({"linkId": link, "answer": chosen})
        return out

    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "status": "completed",
        "item": build(questionnaire["item"]),
    }


def _odi(percent: int) -> dict[str, list[Any]]:
    total = percent // 2  # ODI % = 100 x sum / 50
    items = [min(5, max(0, total - 5 * n)) for n in range(10)]
    return {f"odi-{n + 1}": [score] for n, score in enumerate(items)}


def _patient_answers(odi: int | None, rest: int | None, activity: int | None, work: set[str], sick: int | None):
    answers: dict[str, list[Any]] = {}
    if odi is not None:
        answers |= _odi(odi)
    if rest is not None:
        answers["pain-rest"] = [rest]
    if activity is not None:
        answers["pain-activity"] = [activity]
    if work:
        answers["work-status"] = sorted(work)
    if sick is not None:
        answers["sick-leave-percent"] = [sick]
    return answers


def _clinician(case: Case) -> dict[str, Any]:
    written = answered_response(form("nnrr-clinician"), "completed" if case.final else "in-progress")
    professions = ["doctor", "physiotherapist", "nurse", "psychologist", "social-worker", "other"][: case.professions]
    changes = {
        "visit-date": [{"valueDate": case.visit.isoformat()}],
        "coping-talk": [{"valueCoding": {"system": CS + "coping-talk", "code": "yes" if case.coping else "no"}}],
        "discipline": [
            {"valueCoding": {"system": CS + "discipline", "code": "inter" if case.interdisciplinary else "mono"}}
        ],
        "professions": [{"valueCoding": {"system": CS + "professions", "code": p}} for p in professions],
    }

    placed = set()

    def change(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item["linkId"] in changes:
                item["answer"] = changes[item["linkId"]]
                placed.add(item["linkId"])
            change(item.get("item", []))

    change(written["item"])
    if "discipline" not in placed:  # (enabled by specialist-treatment = yes, which the builder answers)
        treatment = next(i for i in written["item"] if i["linkId"] == "treatment")
        treatment["item"].append({"linkId": "discipline", "answer": changes["discipline"]})
    return written


def write(client: TestClient, cases: list[Case], prefix: str) -> list[str]:
    """Write the cases as one transaction; the episode ids, in the cases' order."""
    pre, six, twelve = form("nnrr-pre-consultation"), form("nnrr-follow-up-6m"), form("nnrr-follow-up-12m")
    entries: list[dict[str, Any]] = []
    episodes = []

    def put(resource: dict[str, Any]) -> None:
        entries.append(
            {"resource": resource, "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}}
        )

    for n, case in enumerate(cases):
        patient, episode = f"{prefix}-p{n}", f"{prefix}-e{n}"
        episodes.append(episode)
        put({"resourceType": "Patient", "id": patient})
        extensions = [
            {"url": SD + "registry", "valueCoding": {"system": CS + "registry", "code": "nnrr"}},
            {"url": SD + "visit-date", "valueDate": case.visit.isoformat()},
        ]
        if case.referral:
            extensions.append({"url": SD + "referral-date", "valueDate": case.referral.isoformat()})
        put(
            {
                "resourceType": "EpisodeOfCare",
                "id": episode,
                "meta": {"profile": [SD + "registry-episode-of-care"]},
                "extension": extensions,
                "status": "finished",
                "patient": {"reference": f"Patient/{patient}"},
                "managingOrganization": {"reference": f"Organization/{case.unit}"},
            }
        )
        link = {
            "subject": {"reference": f"Patient/{patient}"},
            "extension": [{"url": SD + "episode", "valueReference": {"reference": f"EpisodeOfCare/{episode}"}}],
        }
        put(
            {
                **_clinician(case),
                **link,
                "id": f"{episode}-clinician",
                "authored": f"{case.visit.isoformat()}T12:00:00Z",
            }
        )
        before = _patient_answers(case.odi[0], case.rest[0], case.activity[0], case.work[0], case.sick_percent[0])
        authored_pre = (case.visit - timedelta(days=5)).isoformat() + "T08:00:00Z"
        put({**response(pre, before), **link, "id": f"{episode}-pre", "authored": authored_pre})
        if case.gpe is not None:
            after = _patient_answers(case.odi[1], case.rest[1], case.activity[1], case.work[1], case.sick_percent[1])
            after["gpe"] = [case.gpe]
            if case.satisfaction is not None:
                after["satisfaction"] = [case.satisfaction]
            authored = (case.visit + timedelta(days=185)).isoformat() + "T08:00:00Z"
            put({**response(six, after), **link, "id": f"{episode}-6m", "authored": authored})
        if case.form_12m:
            authored = (case.visit + timedelta(days=370)).isoformat() + "T08:00:00Z"
            put({**response(twelve, {"gpe": [2]}), **link, "id": f"{episode}-12m", "authored": authored})
    answer = client.post("/fhir", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})
    assert answer.status_code == 200, answer.text[:2000]
    return episodes


def random_case(rng: random.Random, units: list[str], first: date, days: int) -> Case:
    """One episode with random values, visit within ``days`` after ``first``."""
    visit = first + timedelta(days=rng.randrange(days))
    work_pre = set(rng.sample(["working", "sick-leave", "aap", "unemployed"], rng.randint(0, 2)))
    work_6m = set(rng.sample(["working", "sick-leave", "aap", "unemployed"], rng.randint(0, 2)))
    has_6m = rng.random() < 0.7

    def maybe(value: Any, p: float = 0.85) -> Any:
        return value if rng.random() < p else None

    return Case(
        unit=rng.choice(units),
        visit=visit,
        referral=maybe(visit - timedelta(days=rng.randint(-3, 90)), 0.8),
        final=rng.random() < 0.9,
        coping=rng.random() < 0.8,
        interdisciplinary=rng.random() < 0.4,
        professions=rng.randint(1, 3),
        odi=(maybe(2 * rng.randint(0, 40)), maybe(2 * rng.randint(0, 40)) if has_6m else None),
        rest=(maybe(rng.randint(0, 10)), maybe(rng.randint(0, 10)) if has_6m else None),
        activity=(maybe(rng.randint(0, 10)), maybe(rng.randint(0, 10)) if has_6m else None),
        work=(work_pre, work_6m if has_6m else set()),
        sick_percent=(
            rng.choice([20, 50, 100]) if "sick-leave" in work_pre else None,
            rng.choice([0, 20, 50, 100]) if has_6m and "sick-leave" in work_6m else None,
        ),
        gpe=rng.randint(1, 7) if has_6m else None,
        satisfaction=maybe(rng.randint(1, 5)) if has_6m else None,
        form_12m=rng.random() < 0.5,
    )


def random_cases(seed: int, units: list[str], count: int, year: int) -> list[Case]:
    rng = random.Random(seed)
    return [random_case(rng, units, date(year, 1, 1), 365) for _ in range(count)]
