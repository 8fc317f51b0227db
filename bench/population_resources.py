"""Plain-dict FHIR R4 resources of the synthetic registry population (``bench/population.py``), one small function
per resource type. References are passed in as strings: ``urn:uuid:…`` inside a patient's bundle, ``Type/id`` for
the shared units and staff loaded before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from fhir_server.demo.resources import appointment as demo_appointment
from fhir_server.demo.resources import health_trust, home_address  # noqa: F401 - shared with the demo
from fhir_server.norway.identifiers import FNR_SYSTEM, HPR_SYSTEM, RESH_SYSTEM

Resource = dict[str, Any]

CANONICAL_BASE = "https://ryggrad.no/fhir"
NNRR_POTENTIAL_URL = f"{CANONICAL_BASE}/StructureDefinition/nnrr-potential"
SCORE_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/prom-score"
REGISTRY_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/registry"
APPOINTMENT_ID_SYSTEM = f"{CANONICAL_BASE}/sid/bench-appointment-id"
EPISODE_ID_SYSTEM = f"{CANONICAL_BASE}/sid/bench-episode-id"
LOCATION_ID_SYSTEM = f"{CANONICAL_BASE}/sid/bench-location-id"
UUID_SYSTEM = "urn:ietf:rfc:3986"
UCUM = "http://unitsofmeasure.org"
SURVEY = {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}


@dataclass(frozen=True)
class Item:
    link_id: str
    text: str
    low: int
    high: int
    summed: bool = True  # counts towards the questionnaire's total score


@dataclass(frozen=True)
class Score:
    code: str
    display: str
    link_id: str | None  # the answer that is the score itself; None: the total of the summed items, 0-100


@dataclass(frozen=True)
class Prom:
    """A PROM questionnaire: its canonical, its items (integer answers) and the scores derived from a response."""

    key: str
    title: str
    version: str
    items: tuple[Item, ...]
    scores: tuple[Score, ...]

    @property
    def url(self) -> str:
        return f"{CANONICAL_BASE}/Questionnaire/{self.key}"

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"


def _ref(reference: str, display: str | None = None) -> dict[str, str]:
    return {"reference": reference, "display": display} if display else {"reference": reference}


def _name(family: str, given: str) -> dict[str, Any]:
    return {"use": "official", "text": f"{given} {family}", "family": family, "given": [given]}


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def questionnaire(prom: Prom) -> Resource:
    items = [{"linkId": i.link_id, "text": i.text, "type": "integer", "required": True} for i in prom.items]
    return {
        "resourceType": "Questionnaire",
        "url": prom.url,
        "version": prom.version,
        "name": prom.key.replace("-", "_").upper(),
        "title": prom.title,
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }


def unit(name: str, resh: str, registry: str, trust: str) -> Resource:
    return {
        "resourceType": "Organization",
        "identifier": [{"system": RESH_SYSTEM, "value": resh}],
        "active": True,
        "type": [{"coding": [{"system": REGISTRY_SYSTEM, "code": registry}]}],
        "name": name,
        "partOf": _ref(trust),
    }


def location(name: str, location_id: str, unit_ref: str) -> Resource:
    return {
        "resourceType": "Location",
        "identifier": [{"system": LOCATION_ID_SYSTEM, "value": location_id}],
        "status": "active",
        "name": name,
        "mode": "instance",
        "managingOrganization": _ref(unit_ref),
    }


def practitioner(hpr: str, family: str, given: str, female: bool) -> Resource:
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": HPR_SYSTEM, "value": hpr}],
        "active": True,
        "name": [_name(family, given)],
        "gender": "female" if female else "male",
    }


def patient(
    fnr: str, family: str, given: str, female: bool, birth: date, address: dict[str, Any], unit_ref: str
) -> Resource:
    return {
        "resourceType": "Patient",
        "identifier": [{"use": "official", "system": FNR_SYSTEM, "value": fnr}],
        "active": True,
        "name": [_name(family, given)],
        "gender": "female" if female else "male",
        "birthDate": birth.isoformat(),
        "address": [address],
        "managingOrganization": _ref(unit_ref),
    }


def episode_of_care(
    *,
    episode_id: str,
    status: str,
    registry: str,
    patient_ref: str,
    unit_ref: str,
    manager_ref: str,
    start: date,
    end: date | None,
) -> Resource:
    period = {"start": start.isoformat(), **({"end": end.isoformat()} if end else {})}
    return {
        "resourceType": "EpisodeOfCare",
        "identifier": [{"system": EPISODE_ID_SYSTEM, "value": episode_id}],
        "status": status,
        "type": [{"coding": [{"system": REGISTRY_SYSTEM, "code": registry}]}],
        "patient": _ref(patient_ref),
        "managingOrganization": _ref(unit_ref),
        "period": period,
        "careManager": _ref(manager_ref),
    }


def appointment(
    *,
    appointment_id: str,
    status: str,
    nnrr_potential: bool,
    description: str,
    start: datetime,
    minutes: int,
    created: date,
    patient_ref: str,
    practitioner_ref: str,
    location_ref: str,
    episode_ref: str,
) -> Resource:
    """The demo's Appointment, pointing at its episode as well."""
    made = demo_appointment(
        appointment_id=appointment_id,
        status=status,
        registry="nnrr" if nnrr_potential else None,  # the registry-potential flag, as the EHR pushes it
        description=description,
        start=start.replace(microsecond=0),
        end=start.replace(microsecond=0) + timedelta(minutes=minutes),
        created=created,
        patient_url=patient_ref,
        practitioner_url=practitioner_ref,
        location_url=location_ref,
    )
    return {**made, "supportingInformation": [_ref(episode_ref)]}


def task(
    *,
    task_uuid: str,
    status: str,
    prom: Prom,
    patient_ref: str,
    owner_ref: str,
    requester_ref: str,
    episode_ref: str,
    sent: datetime,
    deadline: datetime,
    completed: datetime | None,
    response_ref: str | None,
) -> Resource:
    execution = {"start": _instant(sent), **({"end": _instant(completed)} if completed else {})}
    resource: Resource = {
        "resourceType": "Task",
        "identifier": [{"system": UUID_SYSTEM, "value": f"urn:uuid:{task_uuid}"}],
        "basedOn": [_ref(episode_ref)],
        "status": status,
        "intent": "order",
        "priority": "routine",
        "description": f"Spørreskjema: {prom.title}",
        "focus": _ref(prom.url, prom.title),
        "for": _ref(patient_ref),
        "authoredOn": _instant(sent),
        "executionPeriod": execution,
        "requester": _ref(requester_ref),
        "owner": _ref(owner_ref),
        "restriction": {"period": {"end": _instant(deadline)}},
    }
    if response_ref:
        resource["output"] = [{"type": {"text": "QuestionnaireResponse"}, "valueReference": _ref(response_ref)}]
    return resource


def questionnaire_response(*, prom: Prom, patient_ref: str, authored: datetime, answers: dict[str, int]) -> Resource:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": prom.canonical,
        "status": "completed",
        "subject": _ref(patient_ref),
        "authored": _instant(authored),
        "author": _ref(patient_ref),
        "source": _ref(patient_ref),
        "item": [{"linkId": k, "answer": [{"valueInteger": v}]} for k, v in answers.items()],
    }


def observation(*, score: Score, value: int, patient_ref: str, effective: datetime, response_ref: str) -> Resource:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [SURVEY]}],
        "code": {"coding": [{"system": SCORE_SYSTEM, "code": score.code, "display": score.display}]},
        "subject": _ref(patient_ref),
        "effectiveDateTime": _instant(effective),
        "valueQuantity": {"value": value, "unit": "score", "system": UCUM, "code": "{score}"},
        "derivedFrom": [_ref(response_ref)],
    }
