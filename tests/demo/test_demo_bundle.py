"""The demo transaction Bundle: deterministic, idempotent to load, internally consistent and valid FHIR."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from fhir_server.demo import (
    APPOINTMENT_ID_SYSTEM,
    CANONICAL_BASE,
    REGISTRY_POTENTIAL_URL,
    build_demo_bundle,
)
from fhir_server.demo.history import EPISODES
from fhir_server.norway.identifiers import (
    FNR_SYSTEM,
    HPR_SYSTEM,
    ORGNR_SYSTEM,
    RESH_SYSTEM,
    birth_date_of,
    is_synthetic,
    is_valid_fnr,
    is_valid_hpr,
    is_valid_orgnr,
    sex_of,
)

TODAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return build_demo_bundle(2026, today=TODAY)


def resources(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def by_url(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def identifier_value(resource: dict[str, Any], system: str) -> str:
    (value,) = [i["value"] for i in resource["identifier"] if i["system"] == system]
    return value


class TestShape:
    def test_transaction(self, bundle: dict[str, Any]) -> None:
        assert bundle["resourceType"] == "Bundle"
        assert bundle["type"] == "transaction"

    def test_counts(self, bundle: dict[str, Any]) -> None:
        types = ("Patient", "Appointment", "Organization", "Location", "EpisodeOfCare")
        counts = {t: len(resources(bundle, t)) for t in types}
        episodes = sum(EPISODES.values())  # the registry history: one patient each
        assert counts == {
            "Patient": 40 + episodes,
            "Appointment": 40,
            "Organization": 4,
            "Location": 3,
            "EpisodeOfCare": episodes,
        }
        assert len(resources(bundle, "QuestionnaireResponse")) > 2 * episodes
        assert len(resources(bundle, "Practitioner")) == len(resources(bundle, "PractitionerRole")) >= 3

    def test_every_entry_is_a_conditional_create(self, bundle: dict[str, Any]) -> None:
        for entry in _created(bundle):
            resource, request = entry["resource"], entry["request"]
            assert request["method"] == "POST"
            assert request["url"] == resource["resourceType"]
            identifier = resource["identifier"]
            identifier = identifier if isinstance(identifier, dict) else identifier[0]  # QuestionnaireResponse: one
            assert request["ifNoneExist"] == f"identifier={identifier['system']}|{identifier['value']}"

    def test_the_data_release_is_put_by_its_well_known_id(self, bundle: dict[str, Any]) -> None:
        (release,) = [e for e in bundle["entry"] if e["request"]["method"] == "PUT"]
        assert release["request"]["url"] == "ResearchStudy/demo-study" == f"ResearchStudy/{release['resource']['id']}"
        assert release["resource"]["objective"][0]["name"]  # P10: it states its research question

    def test_business_identifiers_are_unique(self, bundle: dict[str, Any]) -> None:
        conditions = [(e["request"]["url"], e["request"]["ifNoneExist"]) for e in _created(bundle)]
        assert len(conditions) == len(set(conditions))

    def test_full_urls_are_unique_uuids(self, bundle: dict[str, Any]) -> None:
        urls = [e["fullUrl"] for e in bundle["entry"]]
        assert len(urls) == len(set(urls))
        for url in urls:
            assert url.startswith("urn:uuid:")
            assert str(uuid.UUID(url.removeprefix("urn:uuid:"))) == url.removeprefix("urn:uuid:")

    def test_every_reference_resolves_inside_the_bundle(self, bundle: dict[str, Any]) -> None:
        urls = set(by_url(bundle))
        found = list(references(bundle))
        assert found
        assert set(found) <= urls

    def test_references_point_to_entries_before_them(self, bundle: dict[str, Any]) -> None:
        seen: set[str] = set()
        for entry in bundle["entry"]:
            assert set(references(entry["resource"])) <= seen
            seen.add(entry["fullUrl"])

    def test_json_round_trip(self, bundle: dict[str, Any]) -> None:
        assert json.loads(json.dumps(bundle)) == bundle


class TestValidR4:
    def test_every_resource_parses(self, bundle: dict[str, Any]) -> None:
        for entry in bundle["entry"]:
            resource = entry["resource"]
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)

    def test_bundle_parses(self, bundle: dict[str, Any]) -> None:
        get_fhir_model_class("Bundle").model_validate(bundle)


class TestDeterminism:
    def test_same_seed_and_day(self, bundle: dict[str, Any]) -> None:
        assert build_demo_bundle(2026, today=TODAY) == bundle

    def test_other_seed_differs(self, bundle: dict[str, Any]) -> None:
        other = build_demo_bundle(7, today=TODAY)
        fnrs = {identifier_value(p, FNR_SYSTEM) for p in resources(bundle, "Patient")}
        other_fnrs = {identifier_value(p, FNR_SYSTEM) for p in resources(other, "Patient")}
        assert fnrs != other_fnrs
        assert not {e["fullUrl"] for e in bundle["entry"]} & {e["fullUrl"] for e in other["entry"]}

    def test_later_day_keeps_people_and_identifiers(self, bundle: dict[str, Any]) -> None:
        later = build_demo_bundle(2026, today=TODAY + timedelta(days=45))
        assert [e["request"] for e in later["entry"]] == [e["request"] for e in bundle["entry"]]
        assert [e["fullUrl"] for e in later["entry"]] == [e["fullUrl"] for e in bundle["entry"]]
        assert resources(later, "Patient") == resources(bundle, "Patient")
        assert resources(later, "Appointment") != resources(bundle, "Appointment")

    def test_more_patients_extend_fewer(self) -> None:
        small = build_demo_bundle(3, today=TODAY, patients=5)
        large = build_demo_bundle(3, today=TODAY, patients=12)
        assert large["entry"][: len(small["entry"])] == small["entry"]

    def test_sizes(self) -> None:
        assert not resources(build_demo_bundle(1, today=TODAY, patients=0, history=False), "Patient")
        assert len(resources(build_demo_bundle(1, today=TODAY, patients=0), "Patient")) == sum(EPISODES.values())
        assert len(resources(build_demo_bundle(1, today=TODAY, patients=3), "Appointment")) == 3
        with pytest.raises(ValueError):
            build_demo_bundle(1, today=TODAY, patients=-1)

    def test_default_today(self) -> None:
        assert build_demo_bundle(patients=2)["type"] == "transaction"


class TestPatients:
    def test_fnr_valid_and_consistent(self, bundle: dict[str, Any]) -> None:
        for patient in resources(bundle, "Patient"):
            (identifier,) = [i for i in patient["identifier"] if i["system"] == FNR_SYSTEM]
            fnr = identifier["value"]
            assert identifier["use"] == "official"
            assert is_valid_fnr(fnr)
            assert is_synthetic(fnr)
            assert birth_date_of(fnr).isoformat() == patient["birthDate"]
            assert sex_of(fnr) == patient["gender"]

    def test_adults(self, bundle: dict[str, Any]) -> None:
        for patient in resources(bundle, "Patient"):
            born = date.fromisoformat(patient["birthDate"])
            assert date(1930, 1, 1) < born <= date(2008, 1, 1)

    def test_name_and_address(self, bundle: dict[str, Any]) -> None:
        for patient in resources(bundle, "Patient"):
            (name,) = patient["name"]
            assert name["use"] == "official" and name["family"] and name["given"]
            (address,) = patient["address"]
            assert len(address["postalCode"]) == 4 and address["postalCode"].isdigit()
            assert address["city"] and address["line"]

    def test_both_sexes(self, bundle: dict[str, Any]) -> None:
        assert {p["gender"] for p in resources(bundle, "Patient")} == {"female", "male"}


class TestUnitsAndStaff:
    def test_health_trust_and_clinics(self, bundle: dict[str, Any]) -> None:
        trusts = [
            (url, org)
            for url, org in by_url(bundle).items()
            if org["resourceType"] == "Organization" and "partOf" not in org
        ]
        assert len(trusts) == 1
        trust_url, trust = trusts[0]
        assert is_valid_orgnr(identifier_value(trust, ORGNR_SYSTEM))
        clinics = [o for o in resources(bundle, "Organization") if "partOf" in o]
        assert len(clinics) == 3
        for clinic in clinics:
            assert clinic["partOf"]["reference"] == trust_url
            assert identifier_value(clinic, RESH_SYSTEM).isdigit()
            assert clinic["name"].startswith(trust["name"] + ", ")
        assert sum("Smerte" in c["name"] for c in clinics) == 1

    def test_practitioners(self, bundle: dict[str, Any]) -> None:
        for practitioner in resources(bundle, "Practitioner"):
            assert is_valid_hpr(identifier_value(practitioner, HPR_SYSTEM))
            assert practitioner["name"][0]["family"]

    def test_roles_link_practitioner_to_clinic(self, bundle: dict[str, Any]) -> None:
        entries = by_url(bundle)
        for role in resources(bundle, "PractitionerRole"):
            assert entries[role["practitioner"]["reference"]]["resourceType"] == "Practitioner"
            clinic = entries[role["organization"]["reference"]]
            assert clinic["resourceType"] == "Organization" and "partOf" in clinic
            for location in role["location"]:
                assert entries[location["reference"]]["managingOrganization"] == role["organization"]


class TestAppointments:
    def test_dates_and_status(self, bundle: dict[str, Any]) -> None:
        statuses = set()
        for appointment in resources(bundle, "Appointment"):
            start = datetime.fromisoformat(appointment["start"])
            end = datetime.fromisoformat(appointment["end"])
            assert start.utcoffset() is not None and start < end
            assert date.fromisoformat(appointment["created"]) <= min(start.date(), TODAY)
            statuses.add(appointment["status"])
            if appointment["status"] == "booked":
                assert TODAY + timedelta(days=1) <= start.date() <= TODAY + timedelta(days=60)
            else:
                assert appointment["status"] == "fulfilled"
                assert start.date() < TODAY
        assert statuses == {"booked", "fulfilled"}

    def test_participants(self, bundle: dict[str, Any]) -> None:
        entries = by_url(bundle)
        roles = resources(bundle, "PractitionerRole")
        for appointment in resources(bundle, "Appointment"):
            urls = [p["actor"]["reference"] for p in appointment["participant"]]
            actors = {url: entries[url] for url in urls}
            assert sorted(a["resourceType"] for a in actors.values()) == [
                "Location",
                "Patient",
                "Practitioner",
            ]
            practitioner = next(u for u, a in actors.items() if a["resourceType"] == "Practitioner")
            location = next(u for u, a in actors.items() if a["resourceType"] == "Location")
            # The practitioner works at the clinic that runs the location.
            assert any(
                r["practitioner"]["reference"] == practitioner
                and r["organization"] == entries[location]["managingOrganization"]
                for r in roles
            )

    def test_identifier_and_flag(self, bundle: dict[str, Any]) -> None:
        flags = []
        for appointment in resources(bundle, "Appointment"):
            assert identifier_value(appointment, APPOINTMENT_ID_SYSTEM)
            found = [e for e in appointment.get("extension", []) if e["url"] == REGISTRY_POTENTIAL_URL]
            flags.append(found[0]["valueCoding"]["code"] if found else None)
        assert {"nnrr", "opr", None} <= set(flags)  # flagged for either registry, and some not flagged

    def test_each_clinic_flags_for_its_own_registry_and_owns_its_data(self, bundle: dict[str, Any]) -> None:
        entries = by_url(bundle)
        for appointment in resources(bundle, "Appointment"):
            (location,) = [
                entries[p["actor"]["reference"]]
                for p in appointment["participant"]
                if entries[p["actor"]["reference"]]["resourceType"] == "Location"
            ]
            clinic = entries[location["managingOrganization"]["reference"]]
            flag = [e["valueCoding"]["code"] for e in appointment.get("extension", [])]
            assert flag == ["opr"] if "Smerte" in clinic["name"] else flag in ([], ["nnrr"])
            orgnr = next(i["value"] for i in clinic["identifier"] if i["system"].endswith(".101"))
            assert appointment["meta"]["security"] == [
                {"system": "https://ryggrad.no/fhir/CodeSystem/owner", "code": orgnr}
            ]


class TestHistory:
    def test_episodes_belong_to_the_nnrr_clinics(self, bundle: dict[str, Any]) -> None:
        entries = by_url(bundle)
        for episode in resources(bundle, "EpisodeOfCare"):
            clinic = entries[episode["managingOrganization"]["reference"]]
            assert "Smerte" not in clinic["name"]
            orgnr = identifier_value(clinic, ORGNR_SYSTEM)
            assert episode["meta"]["security"] == [
                {"system": "https://ryggrad.no/fhir/CodeSystem/owner", "code": orgnr}
            ]
            assert episode["meta"]["profile"] == [f"{CANONICAL_BASE}/StructureDefinition/registry-episode-of-care"]
            assert entries[episode["patient"]["reference"]]["meta"]["security"] == episode["meta"]["security"]
            assert episode["status"] == "finished"
            visit = date.fromisoformat(_extension(episode, "visit-date")["valueDate"])
            assert visit < TODAY and visit.weekday() < 5
            referral = _extension(episode, "referral-date")
            assert referral is None or date.fromisoformat(referral["valueDate"]) < visit

    def test_every_form_names_its_episode_and_patient(self, bundle: dict[str, Any]) -> None:
        entries = by_url(bundle)
        forms: dict[str, list[str]] = {}
        for response in resources(bundle, "QuestionnaireResponse"):
            episode = entries[_extension(response, "episode")["valueReference"]["reference"]]
            assert response["subject"] == episode["patient"]
            assert response["status"] == "completed"
            assert response["meta"]["security"] == episode["meta"]["security"]
            authored = datetime.fromisoformat(response["authored"])
            assert authored.utcoffset() is not None and authored.date() < TODAY
            name = response["questionnaire"].removeprefix(f"{CANONICAL_BASE}/Questionnaire/")
            forms.setdefault(episode["identifier"][0]["value"], []).append(name)
        assert len(forms) == sum(EPISODES.values())
        for names in forms.values():
            assert names.count("nnrr-clinician|1.0.0") == 1
            assert len(names) == len(set(names))
            if "nnrr-follow-up-12m|1.0.0" in names:
                assert "nnrr-clinician|1.0.0" in names

    def test_answers_vary(self, bundle: dict[str, Any]) -> None:
        def answers(link_id: str) -> set[str]:
            found = set()
            for response in resources(bundle, "QuestionnaireResponse"):
                stack = list(response["item"])
                while stack:
                    item = stack.pop()
                    stack.extend(item.get("item", []))
                    if item["linkId"] == link_id:
                        found |= {a["valueCoding"]["code"] for a in item["answer"]}
            return found

        assert len(answers("gpe")) == 7
        assert len(answers("pain-rest")) >= 9
        assert {"yes", "no"} == answers("coping-talk") == answers("specialist-treatment")
        assert {"working", "sick-leave", "aap", "pension"} <= answers("work-status")


def _extension(resource: dict[str, Any], name: str) -> dict[str, Any] | None:
    url = f"{CANONICAL_BASE}/StructureDefinition/{name}"
    return next((e for e in resource.get("extension", []) if e["url"] == url), None)


def _created(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries created by their business identifier (all but the data release, PUT by its id)."""
    return [e for e in bundle["entry"] if e["resource"]["resourceType"] != "ResearchStudy"]
