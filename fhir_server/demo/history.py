"""The NNRR clinics' registry history for the demo: finalised episodes of the last two years or so, each with its
patient, the finalised clinician form, the patient's form before the consultation and, for most, the 6- and
12-month follow-ups, so that indicators and unit reports have something to show (N22: the last completed quarter
and year).

How many episodes, their identifiers and which forms each has depend on the seed only; visit dates are offsets
from ``today``, so a reload on a later day creates nothing new. Each entry is a conditional create by its
identifier (``EpisodeOfCare.identifier``, ``QuestionnaireResponse.identifier``), as the rest of the demo.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fhir_server.demo import forms as f
from fhir_server.demo import resources as r
from fhir_server.demo.catalogue import CLINICS, Clinic

if TYPE_CHECKING:
    from fhir_server.demo.bundle import _DemoBuilder

OSLO = ZoneInfo("Europe/Oslo")
SD = f"{r.CANONICAL_BASE}/StructureDefinition/"
EPISODE_PROFILE = SD + "registry-episode-of-care"
EPISODE_EXTENSION = SD + "episode"
EPISODE_ID_SYSTEM = f"{r.CANONICAL_BASE}/sid/demo-episode-id"
RESPONSE_ID_SYSTEM = f"{r.CANONICAL_BASE}/sid/demo-questionnaireresponse-id"

#: finalised episodes per NNRR clinic (the clinics' keys in the catalogue)
EPISODES = {"nnrr-a": 180, "nnrr-b": 150}
# visits fall 3..915 days before today: the last completed year's follow-up indicators count visits from 1 July
# the year before it (N21: visit + 6 months), 915 days back at most
OLDEST_DAYS = 915
COPING_TALK_SHARE = {"nnrr-a": 0.93, "nnrr-b": 0.82}
INTERDISCIPLINARY_SHARE = {"nnrr-a": 0.38, "nnrr-b": 0.24}
PRE_FORM_SHARE, SIX_MONTH_SHARE, TWELVE_MONTH_SHARE = 0.96, 0.8, 0.7


@dataclass(frozen=True)
class Episode:
    key: str  # its identifier
    clinic: Clinic
    days: int  # how long before today the visit was (before a weekend visit moves to the Friday)
    visit: date
    referral: date | None
    pre: f.Moment
    six: f.Moment
    twelve: f.Moment
    improvement: float  # the relative ODI change at 6 months (positive: better)


def add_history(builder: _DemoBuilder) -> None:
    """Add every NNRR clinic's history to ``builder``'s entries."""
    for clinic in CLINICS:
        for number in range(EPISODES.get(clinic.key, 0)):
            _add_episode(builder, clinic, number)


def _clip(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _visit(rng: random.Random, today: date) -> tuple[int, date]:
    days = rng.randint(3, OLDEST_DAYS)
    day = today - timedelta(days=days)
    return days, day - timedelta(days=max(0, day.weekday() - 4))  # a weekend visit moves to the Friday before


def _baseline_work(rng: random.Random) -> f.Work:
    """Before the consultation: a third employed and on (partial or full) sick leave, as back-to-work counts them."""
    draw = rng.random()
    if draw < 0.25:
        return f.Work(("working",), working_percent=100)
    if draw < 0.60:
        share = rng.choice((20, 40, 50, 100, 100))
        return f.Work(("working", "sick-leave"), sick_leave_percent=share, working_percent=100 - share)
    if draw < 0.70:
        return f.Work(("aap",))
    if draw < 0.83:
        return f.Work(("pension",))
    return f.Work(("unemployed",)) if draw < 0.93 else f.Work(("student",))


def _later_work(rng: random.Random, work: f.Work, improvement: float) -> f.Work:
    if work.sick_leave_percent is None:
        return work
    if rng.random() < 0.3 + 0.5 * max(0.0, improvement):
        return f.Work(("working",), working_percent=100)
    if rng.random() < 0.4:
        lower = max(10, (work.sick_leave_percent or 100) - rng.choice((20, 30, 50)))
        return f.Work(("working", "sick-leave"), sick_leave_percent=lower, working_percent=100 - lower)
    return work


def _moment(rng: random.Random, pre: f.Moment, change: float) -> f.Moment:
    """The patient after a relative change ``change`` (0.4: 40 % better), with some noise per measure."""

    def better(value: float, high: int) -> int:
        return _clip(value * (1 - change + rng.gauss(0, 0.12)), 0, high)

    return replace(
        pre,
        odi=better(pre.odi, 50),
        neck_disability=None if pre.neck_disability is None else better(pre.neck_disability, 50),
        pain_rest=better(pre.pain_rest, 10),
        pain_activity=better(pre.pain_activity, 10),
        distress=max(1.0, min(4.0, pre.distress * (1 - change / 3))),
    )


def _episode(rng: random.Random, today: date, clinic: Clinic, key: str, neck: bool) -> Episode:
    days, visit = _visit(rng, today)
    referral = visit - timedelta(days=rng.randint(12, 110)) if rng.random() < 0.95 else None
    rest = _clip(rng.gauss(4.5, 2.0), 0, 10)
    work = _baseline_work(rng)
    pre = f.Moment(
        odi=_clip(rng.gauss(19, 7), 2, 45),
        neck_disability=_clip(rng.gauss(17, 6), 2, 45) if neck else None,
        pain_rest=rest,
        pain_activity=_clip(max(rest + 1, rng.gauss(6.8, 1.6)), 0, 10),
        distress=max(1.0, min(4.0, rng.gauss(1.75, 0.45))),
        work=work,
    )
    improvement = max(-0.5, min(0.95, rng.gauss(0.3, 0.3)))
    six = replace(_moment(rng, pre, improvement), work=_later_work(rng, work, improvement))
    twelve_change = max(-0.5, min(0.95, improvement + rng.gauss(0.05, 0.12)))
    twelve = replace(_moment(rng, pre, twelve_change), work=_later_work(rng, six.work, twelve_change))
    return Episode(key, clinic, days, visit, referral, pre, six, twelve, improvement)


def _effect(rng: random.Random, improvement: float) -> int:
    """Global perceived effect (1 completely well … 7 worse than ever) that goes with the change."""
    return _clip(4 - 5 * improvement + rng.gauss(0, 0.8), 1, 7)


def _at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=OSLO).isoformat()


def _add_episode(builder: _DemoBuilder, clinic: Clinic, number: int) -> None:
    key = f"{builder.seed}-{clinic.key}-{number:04d}"
    rng = random.Random(f"ryggrad-demo:{builder.seed}:history:{key}")  # one episode's draws touch no other's
    orgnr = builder.clinic_orgnrs[clinic.key]
    patient_url = builder.add_patient(f"history/{clinic.key}/{number}/patient", clinic, rng, min_age=21)
    diagnosis = rng.choices(range(len(f.DIAGNOSES)), weights=f.DIAGNOSIS_WEIGHTS)[0]
    episode = _episode(rng, builder.today, clinic, key, neck=f.DIAGNOSES[diagnosis][0] == "neck")
    episode_url = builder.add(
        f"history/{clinic.key}/{number}/episode",
        _episode_resource(episode, patient_url, builder.clinic_urls[clinic.key], orgnr),
        EPISODE_ID_SYSTEM,
        key,
    )

    _add_consent(builder, key, patient_url, orgnr, episode.referral or episode.visit)

    def add_response(kind: str, name: str, authored: str, items: list[f.Item], author: str | None = None) -> None:
        value = f"{key}-{kind}"
        resource: dict[str, Any] = {
            "resourceType": "QuestionnaireResponse",
            "extension": [{"url": EPISODE_EXTENSION, "valueReference": {"reference": episode_url}}],
            "identifier": {"system": RESPONSE_ID_SYSTEM, "value": value},
            "questionnaire": f.questionnaire(name),
            "status": "completed",
            "subject": {"reference": patient_url},
            "authored": authored,
            "author": {"reference": author or patient_url},
            "source": {"reference": patient_url},
            "item": items,
        }
        builder.add(f"history/{clinic.key}/{number}/{kind}", r.owned_by(resource, orgnr), RESPONSE_ID_SYSTEM, value)

    professions = ("doctor", "physiotherapist") if rng.random() < 0.7 else ("doctor",)
    if rng.random() < 0.15:
        professions += (rng.choice(("nurse", "psychologist", "social-worker")),)
    clinician = f.clinician_items(
        rng,
        visit=episode.visit.isoformat(),
        diagnosis=diagnosis,
        interdisciplinary=rng.random() < INTERDISCIPLINARY_SHARE.get(clinic.key, 0.3),
        coping_talk=rng.random() < COPING_TALK_SHARE.get(clinic.key, 0.85),
        professions=professions,
        yellow_flags=rng.choices((1, 2, 3), weights=(55, 30, 15))[0],
        work=episode.pre.work,
    )
    practitioner = rng.choice(builder.staff_urls[clinic.key])
    add_response("clinician", f.CLINICIAN, _at(episode.visit, 15, rng.choice((0, 20, 40))), clinician, practitioner)

    if rng.random() < PRE_FORM_SHARE:
        day = episode.visit - timedelta(days=rng.randint(1, 15))
        items = f.pre_consultation_items(rng, episode.pre, long_pain=rng.random() < 0.35)
        add_response("pre", f.PRE_CONSULTATION, _at(day, rng.randint(8, 21), rng.randrange(60)), items)
    for kind, name, moment, offset, share in (
        ("6m", f.FOLLOW_UP_6M, episode.six, 182, SIX_MONTH_SHARE),
        ("12m", f.FOLLOW_UP_12M, episode.twelve, 365, TWELVE_MONTH_SHARE),
    ):
        delay = offset + rng.randint(0, 25)
        day = episode.visit + timedelta(days=delay)
        # answered by now: decided from the seed alone (a later reload must not add forms)
        answered = rng.random() < share and delay < episode.days
        change = 1 - moment.odi / max(1, episode.pre.odi)
        effect = _effect(rng, change)
        satisfaction = _clip(1 + 0.45 * (effect - 1) + rng.gauss(0, 0.7), 1, 5) if rng.random() < 0.92 else None
        if answered:
            items = f.follow_up_items(rng, moment, effect=effect, satisfaction=satisfaction)
            add_response(kind, name, _at(day, rng.randint(8, 21), rng.randrange(60)), items)


def _episode_resource(episode: Episode, patient_url: str, clinic_url: str, orgnr: str) -> r.Resource:
    extensions: list[dict[str, Any]] = [
        {"url": SD + "registry", "valueCoding": {"system": r.REGISTRY_SYSTEM, "code": "nnrr"}},
        {"url": SD + "visit-date", "valueDate": episode.visit.isoformat()},
    ]
    if episode.referral is not None:
        extensions.insert(1, {"url": SD + "referral-date", "valueDate": episode.referral.isoformat()})
    resource = r.owned_by(
        {
            "resourceType": "EpisodeOfCare",
            "extension": extensions,
            "identifier": [{"system": EPISODE_ID_SYSTEM, "value": episode.key}],
            "status": "finished",
            "patient": {"reference": patient_url},
            "managingOrganization": {"reference": clinic_url},
            "period": {"start": (episode.referral or episode.visit).isoformat(), "end": episode.visit.isoformat()},
        },
        orgnr,
    )
    resource["meta"]["profile"] = [EPISODE_PROFILE]
    return resource


CONSENT_ID_SYSTEM = "https://ryggrad.no/fhir/sid/demo-consent"
RESEARCH_SHARE = 0.85  # of the demo patients, those whose consent covers research use


def _add_consent(builder: _DemoBuilder, key: str, patient_url: str, orgnr: str, given: date) -> None:
    """The patient's NNRR consent (N2), most of them with research use (which the demo data release covers)."""
    research = random.Random(f"ryggrad-demo:{builder.seed}:consent:{key}").random() < RESEARCH_SHARE
    consent = {
        "resourceType": "Consent",
        "meta": {"profile": ["https://ryggrad.no/fhir/StructureDefinition/registry-consent"]},
        "extension": [
            {
                "url": "https://ryggrad.no/fhir/StructureDefinition/registry",
                "valueCoding": {"system": "https://ryggrad.no/fhir/CodeSystem/registry", "code": "nnrr"},
            },
            {
                "url": "https://ryggrad.no/fhir/StructureDefinition/consent-channel",
                "valueCoding": {"system": "https://ryggrad.no/fhir/CodeSystem/consent-channel", "code": "digital"},
            },
        ],
        "identifier": [{"system": CONSENT_ID_SYSTEM, "value": key}],
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": patient_url},
        "dateTime": _at(given, 12),
        "policy": [{"uri": "https://ryggrad.no/fhir/policy/nnrr-participation"}],
        "provision": {
            "type": "permit",
            "provision": [
                {
                    "type": "permit" if research else "deny",
                    "purpose": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                            "code": "HRESCH",
                            "display": "healthcare research",
                        }
                    ],
                }
            ],
        },
    }
    builder.add(f"history/{key}/consent", r.owned_by(consent, orgnr), CONSENT_ID_SYSTEM, key)
