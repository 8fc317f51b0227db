"""The NNRR forms of a demo episode as QuestionnaireResponse items, built from an ``Outcome`` (what happened to the
patient) so the answers hang together: the clinician form, the pre-consultation form and the 6- and 12-month
follow-ups. Items follow the order of the Questionnaires in ``profiles/`` (``nnrr-*|1.0.0``); coded answers carry
the option's system and code (the server finds each option's score in the Questionnaire).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from fhir_server.demo.resources import CANONICAL_BASE

Item = dict[str, Any]

CS = f"{CANONICAL_BASE}/CodeSystem/"
QUESTIONNAIRE = f"{CANONICAL_BASE}/Questionnaire/"
VERSION = "1.0.0"
CLINICIAN = "nnrr-clinician"
PRE_CONSULTATION = "nnrr-pre-consultation"
FOLLOW_UP_6M = "nnrr-follow-up-6m"
FOLLOW_UP_12M = "nnrr-follow-up-12m"

#: (localisation, category, ICD-10 codes a clinician might give)
DIAGNOSES = (
    ("back", "unspecific", ("M54.5", "M54.9", "M53.3")),
    ("back", "radiculopathy", ("M54.4", "M51.1")),
    ("back", "axial-deviation", ("M41.2", "M43.1")),
    ("neck", "unspecific", ("M54.2", "M53.1")),
    ("neck", "radiculopathy", ("M50.1", "M54.1")),
)
DIAGNOSIS_WEIGHTS = (45, 20, 5, 20, 10)


@dataclass(frozen=True)
class Work:
    """Work status as both forms record it (codes of work-state / work-status, the same codes)."""

    states: tuple[str, ...]
    sick_leave_percent: int | None = None
    working_percent: int | None = None


@dataclass(frozen=True)
class Moment:
    """The patient's state when answering one form."""

    odi: int  # the sum of the 10 ODI items, 0-50
    neck_disability: int | None  # the sum of the 10 NDI items (neck patients)
    pain_rest: int
    pain_activity: int
    distress: float  # HSCL-10 mean, 1-4
    work: Work


def questionnaire(name: str) -> str:
    return f"{QUESTIONNAIRE}{name}|{VERSION}"


def coding(system: str, code: str) -> dict[str, Any]:
    return {"valueCoding": {"system": CS + system, "code": code}}


def answer(link_id: str, *answers: dict[str, Any]) -> Item:
    return {"linkId": link_id, "answer": list(answers)}


def choice(link_id: str, system: str, *codes: str) -> Item:
    return answer(link_id, *(coding(system, c) for c in codes))


def group(link_id: str, items: list[Item]) -> Item:
    return {"linkId": link_id, "item": items}


def spread(rng: random.Random, total: int, count: int, low: int, high: int) -> list[int]:
    """``count`` item scores within [low, high] summing to ``total`` (clamped to what is possible)."""
    total = max(low * count, min(high * count, total))
    scores = [low] * count
    for _ in range(total - low * count):
        scores[rng.choice([i for i, s in enumerate(scores) if s < high])] += 1
    return scores


def _scale(prefix: str, system: str, scores: list[int], rng: random.Random, missing: float = 0.0) -> list[Item]:
    return [
        choice(f"{prefix}-{n}", system, str(score))
        for n, score in enumerate(scores, start=1)
        if rng.random() >= missing
    ]


def _work_items(work: Work, system: str, sick_link: str) -> list[Item]:
    items = [choice("work-status" if system == "work-status" else "work-state", system, *work.states)]
    if work.working_percent is not None and system == "work-state":
        items.append(answer("working-percent", {"valueInteger": work.working_percent}))
    if work.sick_leave_percent is not None:
        items.append(answer(sick_link, {"valueInteger": work.sick_leave_percent}))
    if "pension" in work.states and system == "work-state":
        items.append(answer("pension-percent", {"valueInteger": 100}))
    return items


def _disability(moment: Moment, rng: random.Random) -> list[Item]:
    """ODI, and NDI for neck patients."""
    items = [group("odi", _scale("odi", "scale-0-5", spread(rng, moment.odi, 10, 0, 5), rng, missing=0.02))]
    if moment.neck_disability is not None:
        items.append(group("ndi", _scale("ndi", "scale-0-5", spread(rng, moment.neck_disability, 10, 0, 5), rng)))
    return items


def _instruments(moment: Moment, rng: random.Random) -> list[Item]:
    """ODI, NDI (neck patients), HSCL-10 and EQ-5D-5L with VAS, as the form before the consultation holds them."""
    items = _disability(moment, rng)
    hscl = spread(rng, round(moment.distress * 10), 10, 1, 4)
    items.append(group("hscl10", _scale("hscl10", "scale-1-4", hscl, rng, missing=0.03)))
    burden = moment.odi / 50
    eq5d = [min(5, max(1, round(1 + 4 * burden + rng.uniform(-1, 1)))) for _ in range(5)]
    vas = max(5, min(100, round(85 - 60 * burden + rng.uniform(-12, 12))))
    items.append(group("eq5d", [*_scale("eq5d", "scale-1-5", eq5d, rng), answer("eq5d-vas", {"valueInteger": vas})]))
    return items


def clinician_items(
    rng: random.Random,
    *,
    visit: str,
    diagnosis: int,
    interdisciplinary: bool,
    coping_talk: bool,
    professions: tuple[str, ...],
    yellow_flags: int,
    work: Work,
) -> list[Item]:
    """The finalised clinician form (N17): every required item answered, the first diagnosis neck or back (N16)."""
    localisation, category, codes = DIAGNOSES[diagnosis]
    modality = rng.choices(("mri", "xray", "ct", "none"), weights=(60, 15, 5, 20))[0]
    imaging = [choice("imaging-modality", "imaging-modality", modality)]
    if modality != "none":
        finding = "disc-herniation" if category == "radiculopathy" else rng.choice(("normal", "normal", "modic-1"))
        imaging += [
            choice("imaging-findings", "imaging-findings", finding),
            choice("imaging-reviewed", "imaging-reviewed", "yes" if rng.random() < 0.85 else "no"),
            choice("imaging-importance", "imaging-importance", rng.choice(("none", "some", "some", "major"))),
        ]
    diagnoses = [
        group(
            "diagnoses",
            [
                choice("localisation", "localisation", localisation),
                choice("diagnosis-category", "diagnosis-category", category),
                answer("icd10", {"valueString": rng.choice(codes)}),
            ],
        )
    ]
    treatment = [choice("specialist-treatment", "specialist-treatment", "yes" if interdisciplinary else "no")]
    if interdisciplinary:
        in_group = rng.random() < 0.4
        treatment += [
            choice("treatment-form", "treatment-form", "group" if in_group else "individual"),
            choice("individual-sessions", "individual-sessions", "0" if in_group else rng.choice(("1-3", "4-10"))),
            choice("group-sessions", "group-sessions", rng.choice(("4-6", "7-10")) if in_group else "0"),
            choice("discipline", "discipline", "inter"),
            choice("treatment-type", "treatment-type", *sorted(rng.sample(("exercise", "education", "work"), 2))),
        ]

    def yes_no(link_id: str, share: float) -> Item:
        return choice(link_id, link_id, "yes" if rng.random() < share else "no")

    return [
        answer("visit-date", {"valueDate": visit}),
        yes_no("interpreter", 0.04),
        yes_no("helse-i-arbeid", 0.15),
        yes_no("study-participant", 0.05),
        choice("professions", "professions", *professions),
        yes_no("previous-surgery", 0.12),
        choice("yellow-flags", "yellow-flags", str(yellow_flags)),
        choice("coping-talk", "coping-talk", "yes" if coping_talk else "no"),
        yes_no("lifestyle-advice", 0.8),
        yes_no("work-function-assessed", 0.75),
        group("imaging", imaging),
        *diagnoses,
        group("work", _work_items(work, "work-state", "sick-leave-percent")),
        choice("municipal-treatment", "municipal-treatment", rng.choice(("gp", "physio", "chiro", "none"))),
        group("treatment", treatment),
    ]


def pre_consultation_items(rng: random.Random, moment: Moment, *, long_pain: bool) -> list[Item]:
    """The patient's form before the consultation (with consent, N2)."""
    duration = rng.choice(("1-2y", "gt2y", "gt2y")) if long_pain else rng.choice(("lt3m", "3-12m", "3-12m"))
    background = [
        choice(
            "education", "education", rng.choice(("primary", "secondary", "secondary", "higher-short", "higher-long"))
        ),
        choice("pain-duration", "pain-duration", duration),
        choice("pain-rest", "scale-0-10", str(moment.pain_rest)),
        choice("pain-activity", "scale-0-10", str(moment.pain_activity)),
        choice("analgesics", "analgesics", rng.choice(("daily", "weekly", "rarely", "never"))),
        choice("physical-activity", "physical-activity", rng.choice(("weekly-lt1", "weekly-1", "weekly-2-3", "daily"))),
        choice("earlier-treatment", "earlier-treatment", *sorted(rng.sample(("physio", "chiro", "other"), 2))),
        *_work_items(moment.work, "work-status", "sick-leave-percent"),
    ]
    regions = sorted(rng.sample(range(1, 33), rng.randint(1, 5)))
    fear = spread(rng, rng.randint(15, 55), 11, 0, 6)
    instruments = {i["linkId"]: i for i in _instruments(moment, rng)}
    instruments["fabq"] = group("fabq", _scale("fabq", "scale-0-6", fear, rng))
    return [
        group("background", background),
        choice("pain-drawing", "pain-drawing", *(f"r{r:02d}" for r in regions)),
        *(instruments[k] for k in ("odi", "ndi", "fabq", "hscl10", "eq5d") if k in instruments),
        choice("consent", "consent", "given"),
    ]


def follow_up_items(rng: random.Random, moment: Moment, *, effect: int, satisfaction: int | None) -> list[Item]:
    """A 6- or 12-month follow-up form (the two have the same items); the demo leaves HSCL-10 and EQ-5D out of it
    (fewer answers to validate when the demo loads; the reports read ODI, pain, effect, satisfaction and work)."""
    items = [choice("gpe", "scale-gpe", str(effect))]
    if satisfaction is not None:
        items.append(choice("satisfaction", "scale-satisfaction", str(satisfaction)))
    items += [
        choice("pain-rest", "scale-0-10", str(moment.pain_rest)),
        choice("pain-activity", "scale-0-10", str(moment.pain_activity)),
        *_work_items(moment.work, "work-status", "sick-leave-percent"),
        choice("treatment-received", "treatment-received", rng.choice(("physio", "physio", "group", "none", "other"))),
        *_disability(moment, rng),
    ]
    return items
