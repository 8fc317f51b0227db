"""Researchers through the FHIR API (issue 11): every read and search is de-identified under the data release
their token names — only the release's registry's data, only for patients whose consent covers research (NNRR) or
under the registry's exemption (OPR); no names, identifiers, addresses, telecom or free text; the birth year only;
dates shifted by a per-study, per-patient offset; ids replaced by per-study pseudonyms, consistent in every
reference. Leaks are looked for through includes, chains, ``_has``, ``_elements``, history and error messages."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from starlette.testclient import TestClient

from fhir_server.research.rules import release_rules
from fhir_server.server import FhirServer
from tests.conftest import bearer
from tests.research.world import Researcher, World, release


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
        ("$export", {"_since": "2026-01-01T00:00:00Z"}, "_since"),  # when data changed is not released
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
    rules = release_rules()
    assert kinds and kinds <= set(rules.released) | rules.shared
    assert {"Condition", "Procedure", "Patient"} <= kinds
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
    study = release(client, "nnrr")
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


def test_nothing_identifying_reaches_a_researcher(nnrr: Researcher, world: World, answers: list[str]):
    """Every kind of answer a researcher gets — reads, searches with includes and reverse includes, element
    selections, system searches, errors — scanned for person numbers, names, streets and real ids (with what the
    tests before this one saw, where they ran in this process)."""
    seen: list[str] = []
    probe = Researcher(nnrr.client, None, "", seen, headers=nnrr.headers)
    for kind in ("Patient", "EpisodeOfCare", "QuestionnaireResponse", "Observation", "Condition", "Procedure"):
        found = probe.found(kind)
        assert found, kind
        for item in found:
            probe.get(f"{kind}/{item['id']}")
            assert "note" not in item and "display" not in json.dumps(item.get("subject", {}))
    probe.get("QuestionnaireResponse", _include="QuestionnaireResponse:subject")
    probe.get("Patient", _revinclude="QuestionnaireResponse:subject", _elements="name,identifier,address")
    probe.get("Observation", _include="Observation:derived-from", _revinclude="Observation:derived-from")
    probe.get("EpisodeOfCare", _include="EpisodeOfCare:patient", _summary="true")
    probe.get("", _count="50")
    probe.get("Patient/not-a-pseudonym", status=404)
    probe.get("Patient", status=403, name=world.people["consenting"].family)
    probe.get("Patient/x/_history", status=403)
    assert len(seen) > 10
    everything = "\n".join(seen + answers)
    assert [secret for secret in world.secrets() if secret and secret in everything] == []
