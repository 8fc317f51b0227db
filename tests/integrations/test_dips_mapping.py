"""The DIPS → registry Appointment mapping (mappings/dips/ and fhir_server.integrations.dips): each hand-written
DIPS sample maps, conforms to the registry appointment profile as the server judges it, and is accepted in a
transaction that creates its actors by conditional create, repeatably; unknown codes are reported, not guessed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from fhir_server.integrations.dips import AppointmentMapping, MappingError, map_appointment, transaction
from fhir_server.norway.identifiers import DNR_SYSTEM, FNR_SYSTEM

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dips"
SAMPLES = sorted(p.stem for p in FIXTURES.glob("*.json"))
OWNER = "974589095"
POTENTIAL = "https://ryggrad.no/fhir/StructureDefinition/registry-potential"


def sample(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))


def _problems(client: TestClient, content: dict[str, Any]) -> list[str]:
    outcome = client.post(f"/fhir/{content['resourceType']}/$validate", json=content).json()
    return [i["diagnostics"] for i in outcome.get("issue", []) if i["severity"] in ("error", "fatal")]


def _search(client: TestClient, resource_type: str, **params: str) -> list[dict[str, Any]]:
    bundle = client.post(f"/fhir/{resource_type}/_search", data=params).json()
    return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode", "match") == "match"]


def test_there_are_samples_of_each_kind():
    assert {"booked", "rescheduled", "cancelled", "dnr-booked"} <= set(SAMPLES)


@pytest.mark.parametrize("name", SAMPLES)
def test_a_sample_maps_the_same_way_every_time(name: str):
    dips = sample(name)
    untouched = copy.deepcopy(dips)
    first = map_appointment(dips, owner=OWNER)
    assert dips == untouched
    assert map_appointment(dips, owner=OWNER) == first
    assert AppointmentMapping().apply(copy.deepcopy(dips), owner=OWNER) == first
    assert first["id"] == f"dips-{dips['id']}"
    assert first["start"] and first["status"] == dips["status"]
    assert "contained" not in first and "slot" not in first and "versionId" not in first["meta"]
    assert "tag" not in first["meta"]
    patient = first["participant"][0]["actor"]["reference"]
    system = DNR_SYSTEM if name.startswith("dnr") else FNR_SYSTEM
    assert patient.startswith(f"Patient?identifier={system}|") and " " not in patient


def test_start_and_end_come_from_the_contained_slot_when_the_appointment_has_none():
    dips = sample("booked")
    assert "start" not in dips
    mapped = map_appointment(dips)
    slot = next(c for c in dips["contained"] if c["resourceType"] == "Slot")
    assert (mapped["start"], mapped["end"]) == (slot["start"], slot["end"])
    assert "security" not in mapped["meta"]  # no owner given, none invented


def test_unknown_codes_are_reported_all_at_once_not_guessed():
    dips = sample("booked")
    dips["status"] = "postponed"
    dips["meta"]["tag"][0]["code"] = "MaybeBookable"
    dips["appointmentType"]["coding"][0]["code"] = "mystery-visit"
    dips["participant"][1]["type"][0]["coding"][0]["code"] = "WIZARD"
    with pytest.raises(MappingError) as caught:
        map_appointment(dips)
    found = {(u.concept_map, u.code) for u in caught.value.unmapped}
    assert found == {
        ("dips-appointment-status", "postponed"),
        ("dips-permissions", "MaybeBookable"),
        ("dips-registry-potential", "mystery-visit"),
        ("dips-participant-role", "WIZARD"),
    }
    assert "mystery-visit" in str(caught.value)


def test_a_known_type_that_is_no_registry_consultation_maps_without_the_flag():
    dips = sample("booked")
    dips["appointmentType"]["coding"][0]["code"] = "ordinary"
    assert "extension" not in map_appointment(dips)
    flagged = map_appointment(sample("booked"))
    assert flagged["extension"][0]["url"] == POTENTIAL


def test_invalid_identifiers_and_missing_start_are_problems():
    dips = sample("booked")
    dips["participant"][0]["actor"]["identifier"]["value"] = "14836808276"  # a check digit off
    dips["participant"][2]["actor"]["identifier"] = {"system": "urn:example:local", "value": "77"}
    dips["contained"] = [c for c in dips["contained"] if c["resourceType"] != "Slot"]
    with pytest.raises(MappingError) as caught:
        map_appointment(dips)
    problems = "\n".join(caught.value.problems)
    assert "is not valid" in problems and "Location actor carries none" in problems and "start" in problems


@pytest.mark.parametrize("name", SAMPLES)
def test_the_mapped_sample_conforms_to_the_registry_profile(client: TestClient, name: str):
    mapped = map_appointment(sample(name), owner=OWNER)
    assert _problems(client, mapped) == []
    assert _problems(client, {**mapped, "participant": mapped["participant"][1:]})  # the check can fail


@pytest.mark.parametrize("name", SAMPLES)
def test_the_mapped_sample_is_accepted_in_a_transaction_and_repeatable(client: TestClient, name: str):
    dips = sample(name)
    mapped = map_appointment(dips, owner=OWNER)
    bundle = transaction(mapped)
    first = client.post("/fhir", json=bundle)
    assert first.status_code == 200, first.text
    again = client.post("/fhir", json=bundle)
    assert again.status_code == 200, again.text
    repeated = again.json()["entry"]
    assert {e["response"]["status"] for e in repeated} == {"200 OK"}  # nothing created twice
    assert repeated[-1]["response"]["etag"] == first.json()["entry"][-1]["response"]["etag"]  # no new version
    stored = client.get(f"/fhir/Appointment/{mapped['id']}").json()
    assert (stored["status"], stored["start"]) == (mapped["status"], mapped["start"])
    patient = stored["participant"][0]["actor"]["reference"]
    assert patient.startswith("Patient/")
    identifier = dips["participant"][0]["actor"]["identifier"]
    system, value = identifier["system"], "".join(identifier["value"].split())
    patients = _search(client, "Patient", identifier=f"{system}|{value}")
    assert [f"Patient/{p['id']}" for p in patients] == [patient]
    appointments = _search(
        client, "Appointment", identifier=f"https://ryggrad.no/fhir/sid/dips-appointment|{dips['id']}"
    )
    assert [a["id"] for a in appointments] == [mapped["id"]]
    practitioner = stored["participant"][1]["actor"]["reference"]
    assert (
        practitioner.startswith("Practitioner/")
        and len(_search(client, "Practitioner", identifier=("urn:oid:2.16.578.1.12.4.1.4.4|9144900"))) == 1
    )


def test_booked_rescheduled_cancelled_is_one_registry_appointment(client: TestClient):
    for name in ("booked", "rescheduled", "cancelled"):
        response = client.post("/fhir", json=transaction(map_appointment(sample(name), owner=OWNER)))
        assert response.status_code == 200, response.text
    stored = client.get("/fhir/Appointment/dips-4711").json()
    assert stored["status"] == "cancelled"
    assert stored["start"] == sample("rescheduled")["start"]
    assert stored["cancelationReason"]["coding"][0]["code"] == "pat"


@pytest.mark.parametrize("path", sorted(FIXTURES.parents[2].joinpath("mappings", "dips").glob("ConceptMap-*.json")))
def test_the_concept_maps_are_valid_fhir(client: TestClient, path: Path):
    assert _problems(client, json.loads(path.read_text("utf-8"))) == []
