"""The research tests' world: patients with and without research consent, in NNRR and OPR, with what must never
reach a researcher; data releases of several kinds; a researcher's client that keeps every answer for leak scans."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.testclient import TestClient

from fhir_server.norway.identifiers import FNR_SYSTEM, synthetic_fnr
from fhir_server.server import FhirServer
from tests.conftest import bearer
from tests.profiles.test_registry_forms import PROFILES, answered_response

SD = "https://ryggrad.no/fhir/StructureDefinition/"
REGISTRY_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/registry"
HRESCH = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HRESCH"}


@dataclass
class Person:
    """A patient of the test, with what must never reach a researcher."""

    key: str
    registry: str | None
    consent: str | None  # "research", "registry-only" or None
    fnr: str = ""
    id: str = ""
    family: str = ""
    episode: str = ""
    responses: list[str] = field(default_factory=list)
    scores: list[str] = field(default_factory=list)


@dataclass
class World:
    people: dict[str, Person]
    studies: dict[str, str]  # name → ResearchStudy id

    def secrets(self) -> list[str]:
        """Strings that must appear in no researcher's answer: person numbers, names, real ids, streets."""
        found = []
        for p in self.people.values():
            found += [p.fnr, p.family, p.id, "Forskerveien", *p.responses, *p.scores]
            if p.episode:
                found.append(p.episode)
        return found


def release(client: TestClient, registry: str, **changes: Any) -> str:
    study = {
        "resourceType": "ResearchStudy",
        "id": f"study-{uuid.uuid4().hex[:10]}",
        "meta": {"profile": [SD + "registry-data-release"]},
        "extension": [{"url": SD + "registry", "valueCoding": {"system": REGISTRY_SYSTEM, "code": registry}}],
        "identifier": [{"system": "https://ryggrad.no/fhir/sid/release-decision", "value": uuid.uuid4().hex[:8]}],
        "title": f"A {registry} study",
        "status": "active",
        "objective": [{"name": "Does anything predict anything?"}],
        "period": {"start": "2020-01-01", "end": "2099-12-31"},
        "sponsor": {"reference": "Organization/research-unit"},
        **changes,
    }
    response = client.put(f"/fhir/ResearchStudy/{study['id']}", json=study)
    assert response.status_code == 201, response.text
    return study["id"]


def _consent(client: TestClient, person: Person, research: bool) -> None:
    consent = {
        "resourceType": "Consent",
        "meta": {"profile": [SD + "registry-consent"]},
        "extension": [{"url": SD + "registry", "valueCoding": {"system": REGISTRY_SYSTEM, "code": "nnrr"}}],
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{person.id}"},
        "dateTime": "2026-03-01T12:00:00+01:00",
        "provision": {"type": "permit", "provision": [{"type": "permit" if research else "deny", "purpose": [HRESCH]}]},
    }
    assert client.post("/fhir/Consent", json=consent).status_code == 201


def _form(name: str) -> dict[str, Any]:
    return json.loads((PROFILES / f"Questionnaire-{name}.json").read_text())


class Researcher:
    def __init__(
        self,
        client: TestClient,
        server: FhirServer | None,
        study: str,
        answers: list[str],
        headers: dict[str, str] | None = None,
    ) -> None:
        self.client, self.answers = client, answers
        self.headers = headers or bearer(server, "researcher", study=study)

    def get(self, path: str, status: int = 200, record: bool = True, **params: str) -> dict[str, Any]:
        response = self.client.get(f"/fhir/{path}", params=params, headers=self.headers)
        if record:  # (an answer echoing what the researcher sent is no leak)
            self.answers.append(response.text + json.dumps(dict(response.headers)))
        assert response.status_code == status, response.text
        return response.json()

    def found(self, path: str, **params: str) -> list[dict[str, Any]]:
        bundle = self.get(path, **params)
        return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode", "match") == "match"]


def build_world(client: TestClient) -> World:
    """The patients, their data, and the releases."""
    rng = random.Random(11)
    client.put(
        "/fhir/Organization/research-unit",
        json={"resourceType": "Organization", "id": "research-unit", "name": "Institutt for forskning"},
    )
    people = {
        key: Person(key, registry, consent)
        for key, registry, consent in (
            ("consenting", "nnrr", "research"),
            ("registry-only", "nnrr", "registry-only"),
            ("no-consent", "nnrr", None),
            ("opr", "opr", None),
            ("no-episode", None, None),
        )
    }
    forms = {"nnrr": _form("nnrr-pre-consultation"), "opr": _form("opr-baseline")}
    for person in people.values():
        person.fnr = synthetic_fnr(date(1960 + rng.randint(0, 30), rng.randint(1, 12), rng.randint(1, 28)), rng)
        person.family = f"Etternavn{uuid.uuid4().hex[:6]}"
        patient = {
            "resourceType": "Patient",
            "identifier": [{"system": FNR_SYSTEM, "value": person.fnr}],
            "name": [{"family": person.family, "given": ["Kari"]}],
            "telecom": [{"system": "phone", "value": "99988877"}],
            "address": [{"line": ["Forskerveien 7"], "city": "Oslo"}],
            "gender": "female",
            "birthDate": f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "text": {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{person.family}</div>'},
        }
        person.id = client.post("/fhir/Patient", json=patient).json()["id"]
        if person.registry is None:
            continue
        episode = {
            "resourceType": "EpisodeOfCare",
            "extension": [
                {"url": SD + "registry", "valueCoding": {"system": REGISTRY_SYSTEM, "code": person.registry}}
            ],
            "status": "finished",
            "patient": {"reference": f"Patient/{person.id}"},
            "period": {"start": "2026-02-02", "end": "2026-09-30"},
        }
        person.episode = client.post("/fhir/EpisodeOfCare", json=episode).json()["id"]
        if person.consent is not None:
            _consent(client, person, person.consent == "research")
        response = answered_response(forms[person.registry], "completed")
        response |= {
            "subject": {"reference": f"Patient/{person.id}", "display": person.family},
            "author": {"reference": f"Patient/{person.id}"},
            "authored": "2026-02-10T10:15:00+01:00",
            "extension": [{"url": SD + "episode", "valueReference": {"reference": f"EpisodeOfCare/{person.episode}"}}],
            "text": {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{person.family}</div>'},
        }
        created = client.post("/fhir/QuestionnaireResponse", json=response)
        assert created.status_code == 201, created.text
        person.responses.append(created.json()["id"])
        score = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "https://ryggrad.no/fhir/CodeSystem/score", "code": "odi"}]},
            "subject": {"reference": f"Patient/{person.id}"},
            "effectiveDateTime": "2026-02-10T10:15:00+01:00",
            "valueInteger": 32,
            "derivedFrom": [{"reference": f"QuestionnaireResponse/{person.responses[0]}"}],
            "note": [{"text": f"spoke with {person.family}"}],
        }
        person.scores.append(client.post("/fhir/Observation", json=score).json()["id"])
        subject = {"reference": f"Patient/{person.id}", "display": person.family}
        note = [{"text": f"{person.family} says the pain started at work"}]
        condition = {
            "resourceType": "Condition",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "M54.5"}]},
            "subject": subject,
            "recordedDate": "2026-02-12",
            "note": note,
        }
        procedure = {
            "resourceType": "Procedure",
            "status": "completed",
            "code": {"coding": [{"system": "urn:oid:2.16.578.1.12.4.1.1.7275", "code": "NCMP-X"}]},
            "subject": subject,
            "performedDateTime": "2026-03-01T10:00:00+01:00",
            "note": note,
        }
        for extra in (condition, procedure):
            created = client.post(f"/fhir/{extra['resourceType']}", json=extra)
            assert created.status_code == 201, created.text
            person.scores.append(created.json()["id"])
    studies = {
        "nnrr": release(client, "nnrr"),
        "nnrr-other": release(client, "nnrr"),
        "opr": release(client, "opr"),
        "nnrr-exact-dates": release(
            client,
            "nnrr",
            extension=[
                {"url": SD + "registry", "valueCoding": {"system": REGISTRY_SYSTEM, "code": "nnrr"}},
                {"url": SD + "release-date-handling", "valueCode": "keep"},
            ],
        ),
        "ended": release(client, "nnrr", period={"start": "2020-01-01", "end": "2021-12-31"}),
        "in-review": release(client, "nnrr", status="in-review"),
    }
    return World(people, studies)
