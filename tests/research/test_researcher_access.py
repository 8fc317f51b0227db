"""Researchers through the FHIR API (issue 11): every read and search is de-identified under the data release
their token names — only the release's registry's data, only for patients whose consent covers research (NNRR) or
under the registry's exemption (OPR); no names, identifiers, addresses, telecom or free text; the birth year only;
dates shifted by a per-study, per-patient offset; ids replaced by per-study pseudonyms, consistent in every
reference. Leaks are looked for through includes, chains, ``_has``, ``_elements``, history and error messages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest
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


def _release(client: TestClient, registry: str, **changes: Any) -> str:
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


@pytest.fixture(scope="module")
def world(client: TestClient, server: FhirServer) -> Iterator[World]:
    import random

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
    studies = {
        "nnrr": _release(client, "nnrr"),
        "nnrr-other": _release(client, "nnrr"),
        "opr": _release(client, "opr"),
        "nnrr-exact-dates": _release(
            client,
            "nnrr",
            extension=[
                {"url": SD + "registry", "valueCoding": {"system": REGISTRY_SYSTEM, "code": "nnrr"}},
                {"url": SD + "release-date-handling", "valueCode": "keep"},
            ],
        ),
        "ended": _release(client, "nnrr", period={"start": "2020-01-01", "end": "2021-12-31"}),
        "in-review": _release(client, "nnrr", status="in-review"),
    }
    yield World(people, studies)


@pytest.fixture(scope="module")
def answers() -> list[str]:
    """Every researcher answer of this module, for the leak scan at the end."""
    return []


class Researcher:
    def __init__(self, client: TestClient, server: FhirServer, study: str, answers: list[str]) -> None:
        self.client, self.headers, self.answers = client, bearer(server, "researcher", study=study), answers

    def get(self, path: str, status: int = 200, record: bool = True, **params: str) -> dict[str, Any]:
        response = self.client.get(f"/fhir/{path}", params=params, headers=self.headers)
        if record:  # (an answer echoing what the researcher sent is no leak)
            self.answers.append(response.text + json.dumps(dict(response.headers)))
        assert response.status_code == status, response.text
        return response.json()

    def found(self, path: str, **params: str) -> list[dict[str, Any]]:
        bundle = self.get(path, **params)
        return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode", "match") == "match"]


@pytest.fixture
def nnrr(client: TestClient, server: FhirServer, world: World, answers: list[str]) -> Researcher:
    return Researcher(client, server, world.studies["nnrr"], answers)


def test_only_patients_whose_consent_covers_research_are_seen(nnrr: Researcher, world: World):
    (patient,) = nnrr.found("Patient")
    consenting = world.people["consenting"]
    assert patient["id"] != consenting.id and len(patient["id"]) == 26
    assert set(patient) <= {"resourceType", "id", "meta", "gender", "birthDate"}
    assert len(patient["birthDate"]) == 4  # the year only
    assert nnrr.get("Patient", _summary="count")["total"] == 1


def test_the_opr_release_covers_opr_patients_under_the_exemption(client, server, world: World, answers):
    opr = Researcher(client, server, world.studies["opr"], answers)
    (patient,) = opr.found("Patient")
    (episode,) = opr.found("EpisodeOfCare")
    assert episode["patient"]["reference"] == f"Patient/{patient['id']}"
    assert {e["extension"][0]["valueCoding"]["code"] for e in [episode]} == {"opr"}
    assert opr.found("QuestionnaireResponse")[0]["questionnaire"].startswith(
        "https://ryggrad.no/fhir/Questionnaire/opr"
    )


def test_pseudonyms_are_stable_in_a_study_and_differ_between_studies(client, server, world: World, answers):
    first = Researcher(client, server, world.studies["nnrr"], answers).found("Patient")[0]["id"]
    again = Researcher(client, server, world.studies["nnrr"], answers).found("Patient")[0]["id"]
    other = Researcher(client, server, world.studies["nnrr-other"], answers).found("Patient")[0]["id"]
    assert first == again != other


def test_references_carry_the_same_pseudonyms_everywhere(nnrr: Researcher):
    (patient,) = nnrr.found("Patient")
    (episode,) = nnrr.found("EpisodeOfCare")
    (response,) = nnrr.found("QuestionnaireResponse")
    (score,) = nnrr.found("Observation")
    me = f"Patient/{patient['id']}"
    assert episode["patient"]["reference"] == response["subject"]["reference"] == score["subject"]["reference"] == me
    assert response["extension"][0]["valueReference"]["reference"] == f"EpisodeOfCare/{episode['id']}"
    assert score["derivedFrom"][0]["reference"] == f"QuestionnaireResponse/{response['id']}"
    assert "display" not in response["subject"] and "author" not in response and "text" not in response
    assert "note" not in score
    # a researcher reads and searches by the pseudonyms
    assert nnrr.get(f"Patient/{patient['id']}")["id"] == patient["id"]
    assert [r["id"] for r in nnrr.found("QuestionnaireResponse", subject=me)] == [response["id"]]
    assert [r["id"] for r in nnrr.found("Observation", **{"derived-from": f"QuestionnaireResponse/{response['id']}"})]
    assert [p["id"] for p in nnrr.found("Patient", _id=patient["id"])] == [patient["id"]]


def test_real_ids_find_nothing(nnrr: Researcher, world: World):
    person = world.people["consenting"]
    missing = nnrr.get(f"Patient/{person.id}", status=404, record=False)
    assert person.id in json.dumps(missing)  # the id the researcher gave, nothing else
    assert nnrr.get("QuestionnaireResponse", record=False, subject=f"Patient/{person.id}").get("entry") is None
    assert nnrr.get("Patient", record=False, _id=person.id).get("entry") is None


def test_dates_move_by_one_offset_per_patient_and_study(client, server, nnrr: Researcher, world: World, answers):
    (episode,) = nnrr.found("EpisodeOfCare")
    (response,) = nnrr.found("QuestionnaireResponse")
    start = date.fromisoformat(episode["period"]["start"])
    authored = datetime.fromisoformat(response["authored"]).date()
    assert start != date(2026, 2, 2)
    assert (authored - start).days == 8  # intervals are kept
    exact = Researcher(client, server, world.studies["nnrr-exact-dates"], answers)
    assert exact.found("EpisodeOfCare")[0]["period"]["start"] == "2026-02-02"
    assert len(exact.found("Patient")[0]["birthDate"]) == 4  # still the year only


def test_includes_are_de_identified_and_within_the_release(nnrr: Researcher):
    bundle = nnrr.get(
        "QuestionnaireResponse", _include="QuestionnaireResponse:subject", _revinclude="Observation:derived-from"
    )
    kinds = sorted(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds == ["Observation", "Patient", "QuestionnaireResponse"]
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert "name" not in patient and "identifier" not in patient
    assert all(e["fullUrl"] == f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"])


def test_elements_cannot_bring_back_what_is_removed(nnrr: Researcher):
    (patient,) = nnrr.found("Patient", _elements="name,identifier,address,telecom,birthDate")
    assert not {"name", "identifier", "address", "telecom"} & set(patient)


@pytest.mark.parametrize(
    ("path", "params", "words"),
    [
        ("Patient", {"identifier": "x"}, "identifier"),
        ("Patient", {"name": "Kari"}, "name"),
        ("Patient", {"family": "x"}, "family"),
        ("Patient", {"birthdate": "1970"}, "birthdate"),
        ("Patient", {"address-city": "Oslo"}, "address-city"),
        ("QuestionnaireResponse", {"subject:Patient.name": "Kari"}, "name"),
        ("QuestionnaireResponse", {"subject:Patient.identifier": "x"}, "identifier"),
        ("Patient", {"_has:QuestionnaireResponse:subject:authored": "2026-02-10"}, "authored"),
        ("QuestionnaireResponse", {"authored": "2026-02-10"}, "authored"),
        ("QuestionnaireResponse", {"_sort": "-authored"}, "authored"),
        ("Patient", {"_lastUpdated": "gt2020-01-01"}, "_lastUpdated"),
        ("Patient", {"_security": "x"}, "_security"),
        ("Patient", {"_text": "Kari"}, "_text"),
    ],
)
def test_searches_that_could_single_someone_out_are_refused(nnrr: Researcher, path, params, words):
    outcome = nnrr.get(path, status=403, **params)
    assert words in outcome["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    "path",
    [
        "Practitioner",
        "Consent",
        "Task",
        "AuditEvent",
        "Appointment",
        "Patient/x/_history",
        "Patient/_history",
        "_history",
    ],
)
def test_what_is_not_released_is_refused(nnrr: Researcher, path: str):
    nnrr.get(path, status=403)


def test_system_searches_show_released_types_only(nnrr: Researcher):
    bundle = nnrr.get("", _count="100")
    kinds = {e["resource"]["resourceType"] for e in bundle.get("entry", [])}
    assert kinds and kinds <= {"Patient", "EpisodeOfCare", "QuestionnaireResponse", "Observation"} | {
        "Questionnaire",
        "ValueSet",
        "CodeSystem",
        "StructureDefinition",
        "SearchParameter",
        "PlanDefinition",
        "Measure",
        "Library",
        "Organization",
        "ConceptMap",
        "OperationDefinition",
        "NamingSystem",
        "CapabilityStatement",
    }
    nnrr.get("", status=403, _type="Consent")


def test_researchers_do_not_write(client: TestClient, server: FhirServer, world: World):
    headers = bearer(server, "researcher", study=world.studies["nnrr"])
    response = client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "words"), [("ended", "period"), ("in-review", "in-review")])
def test_a_release_not_approved_or_ended_grants_nothing(client, server, world: World, answers, name, words):
    outcome = Researcher(client, server, world.studies[name], answers).get("Patient", status=403)
    assert words in outcome["issue"][0]["diagnostics"]


def test_a_development_token_naming_no_study_gets_the_demo_release(client: TestClient, server: FhirServer):
    outcome = client.get("/fhir/Patient", headers=bearer(server, "researcher")).json()
    assert "ResearchStudy/demo-study" in outcome["issue"][0]["diagnostics"]  # none in this database


def test_a_withdrawn_research_consent_takes_the_patient_out(client, server, world: World, answers):
    study = _release(client, "nnrr")
    researcher = Researcher(client, server, study, answers)
    assert len(researcher.found("Patient")) == 1
    person = world.people["consenting"]
    consents = client.get("/fhir/Consent", params={"patient": f"Patient/{person.id}"}).json()["entry"]
    consent = consents[0]["resource"]
    assert client.put(f"/fhir/Consent/{consent['id']}", json={**consent, "status": "inactive"}).status_code == 200
    try:
        assert researcher.found("Patient") == []
        assert researcher.found("QuestionnaireResponse") == []
    finally:
        client.put(f"/fhir/Consent/{consent['id']}", json={**consent, "status": "active"})


def test_nothing_identifying_reached_any_researcher(world: World, answers: list[str]):
    """Runs last in this module: every answer above, scanned for person numbers, names, streets and real ids."""
    assert len(answers) > 20
    everything = "\n".join(answers)
    leaked = [secret for secret in world.secrets() if secret and secret in everything]
    assert leaked == []
