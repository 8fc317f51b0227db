"""A synthetic NNRR registry as the server holds it, for benches: per episode the EpisodeOfCare, the clinician's
QuestionnaireResponse, the patient's forms before the consultation and at 6 and 12 months where answered, their
scores as the scoring worker writes them (``workers.scoring.observations.observation``) and the follow-up Tasks
(``workers.registry.forms`` shape; some excluded).

    for resource in episode_resources(number, rng, units, years):   # plain FHIR dicts, deterministic per rng
        ...

Forms are built from the registry's own Questionnaires by the indicator tests' cohort builder
(``tests.indicators.cohort``), so the views read exactly the shapes they read in production.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import orjson

from tests.indicators.cohort import SD, Case, _clinician, _patient_answers, form, random_case, response
from workers.registry.definitions import REGISTRY_EXTENSION, REGISTRY_SYSTEM, TIMEPOINT_SYSTEM
from workers.registry.forms import TASK_PROFILE, excluded_fields
from workers.scoring.instruments import Score
from workers.scoring.observations import observation

PLACEHOLDER_DAY = date(1900, 1, 1)
FOLLOW_UPS = {"6m": "nnrr-follow-up-6m", "12m": "nnrr-follow-up-12m"}


def unit_ids(count: int) -> list[str]:
    return [f"97{n:07d}" for n in range(count)]


@cache
def _clinician_template(final: bool, coping: bool, inter: bool, professions: int) -> bytes:
    case = Case(
        unit="", visit=PLACEHOLDER_DAY, final=final, coping=coping, interdisciplinary=inter, professions=professions
    )
    return orjson.dumps(_clinician(case))


@cache
def _questionnaire(name: str) -> dict[str, Any]:
    return form(name)


def _clinician_form(case: Case) -> dict[str, Any]:
    template = _clinician_template(case.final, case.coping, case.interdisciplinary, case.professions)
    return orjson.loads(template.replace(PLACEHOLDER_DAY.isoformat().encode(), case.visit.isoformat().encode()))


def _scores(values: dict[str, int | None]) -> list[Score]:
    units = {"odi-percent": "%"}
    return [Score(key, Decimal(value), units.get(key, "{score}")) for key, value in values.items() if value is not None]


def episode_resources(
    number: int, rng: random.Random, units: list[str], first: date, days: int, version: int = 1
) -> list[dict[str, Any]]:
    """The resources of episode ``ep<number>`` (ids derived from it), visit within ``days`` after ``first``."""
    case = random_case(rng, units, first, days)
    episode, patient = f"ep{number}", f"Patient/p{number}"
    meta = {"versionId": str(version), "lastUpdated": "2026-12-07T10:00:00Z"}
    registry = {"url": REGISTRY_EXTENSION, "valueCoding": {"system": REGISTRY_SYSTEM, "code": "nnrr"}}
    extensions = [registry, {"url": SD + "visit-date", "valueDate": case.visit.isoformat()}]
    if case.referral:
        extensions.append({"url": SD + "referral-date", "valueDate": case.referral.isoformat()})
    finished = case.visit + timedelta(days=365) < date(2026, 12, 1)
    resources: list[dict[str, Any]] = [
        {
            "resourceType": "EpisodeOfCare",
            "id": episode,
            "meta": {**meta, "profile": [SD + "registry-episode-of-care"]},
            "extension": extensions,
            "status": "finished" if finished else "active",
            "patient": {"reference": patient},
            "managingOrganization": {"reference": f"Organization/{case.unit}"},
            "period": {"start": f"{case.visit.isoformat()}T08:00:00+01:00"},
        }
    ]
    link = {
        "meta": {**meta, "profile": [SD + "registry-questionnaire-response"]},
        "subject": {"reference": patient},
        "extension": [registry, {"url": SD + "episode", "valueReference": {"reference": f"EpisodeOfCare/{episode}"}}],
    }
    day = case.visit.isoformat()
    resources.append({**_clinician_form(case), **link, "id": f"{episode}-c", "authored": f"{day}T12:00:00Z"})
    pre = _patient_answers(case.odi[0], case.rest[0], case.activity[0], case.work[0], case.sick_percent[0])
    forms = [("pre", "nnrr-pre-consultation", pre, case.visit - timedelta(days=5))]
    scores = {"pre": {"odi-percent": case.odi[0], "pain-nrs-rest": case.rest[0], "pain-nrs-activity": case.activity[0]}}
    if case.gpe is not None:
        after = _patient_answers(case.odi[1], case.rest[1], case.activity[1], case.work[1], case.sick_percent[1])
        after["gpe"] = [case.gpe]
        if case.satisfaction is not None:
            after["satisfaction"] = [case.satisfaction]
        forms.append(("6m", FOLLOW_UPS["6m"], after, case.visit + timedelta(days=185)))
        scores["6m"] = {
            "odi-percent": case.odi[1],
            "pain-nrs-rest": case.rest[1],
            "pain-nrs-activity": case.activity[1],
            "gpe": case.gpe,
            "satisfaction": case.satisfaction,
        }
    if case.form_12m:
        forms.append(("12m", FOLLOW_UPS["12m"], {"gpe": [2]}, case.visit + timedelta(days=370)))
        scores["12m"] = {"gpe": 2}
    for kind, name, answers, authored_day in forms:
        response_id = f"{episode}-{kind}"
        authored = f"{authored_day.isoformat()}T08:00:00Z"
        written = {**response(_questionnaire(name), answers), **link, "id": response_id, "authored": authored}
        resources.append(written)
        for score in _scores(scores[kind]):
            made = observation(score, response_id, written, authored)
            resources.append({**made, "id": f"{response_id}-{score.key}", "meta": {**meta, **made["meta"]}})
    for kind, name in FOLLOW_UPS.items():
        resources.append(_task(episode, patient, kind, name, case.visit, rng.random() < 0.05, meta))
    return resources


def _task(episode: str, patient: str, kind: str, name: str, visit: date, excluded: bool, meta: dict) -> dict:
    due = visit + timedelta(days=180 if kind == "6m" else 365)
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": f"{episode}-t{kind}",
        "meta": {**meta, "profile": [TASK_PROFILE]},
        "extension": [
            {"url": REGISTRY_EXTENSION, "valueCoding": {"system": REGISTRY_SYSTEM, "code": "nnrr"}},
            {"url": SD + "episode", "valueReference": {"reference": f"EpisodeOfCare/{episode}"}},
        ],
        "status": "completed",
        "intent": "order",
        "code": {"coding": [{"system": TIMEPOINT_SYSTEM, "code": kind}], "text": kind},
        "focus": {"reference": f"https://ryggrad.no/fhir/Questionnaire/{name}"},
        "for": {"reference": patient},
        "restriction": {"period": {"start": f"{due.isoformat()}T08:00:00Z"}},
    }
    if excluded:
        task.update(excluded_fields("moved", "Flyttet"))
    return task
