"""Appointments in, episodes and PROM Tasks out (N5, N6, N9-N12), through the REST API as an EHR sends them, with
the registry's internal subscriber run in-process (``deliver``) and the clock set by the test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

import workers.registry.appointments  # noqa: F401 - registers the subscriber in this process
from fhir_server.norway.identifiers import ORGNR_SYSTEM, RESH_SYSTEM
from fhir_server.server import FhirServer
from fhir_server.subscriptions.delivery import deliver
from tests.conftest import bearer
from workers.registry.subscriptions import ensure_subscriptions

OSLO = ZoneInfo("Europe/Oslo")
UNIT, OTHER_UNIT = "974589095", "983974899"
SD = "https://ryggrad.no/fhir/StructureDefinition/"
SUB = "registry-appointments"
_ids = itertools.count()


def oslo(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=OSLO).astimezone(UTC).replace(tzinfo=None)


def as_oslo(text: str) -> str:
    """A FHIR instant (UTC) as local Oslo time, minutes precision."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(OSLO)
    return moment.strftime("%Y-%m-%dT%H:%M")


class World:
    def __init__(self, client: TestClient, server: FhirServer) -> None:
        self.client, self.server = client, server
        self.now = oslo("2026-11-01T12:00")
        self.ehr = bearer(server, "ehr", org=UNIT)
        n = next(_ids)
        self.patient = f"wf-patient-{n}"
        self.appointment_id = f"wf-appt-{n}"
        client.put(
            "/fhir/Organization/wf-unit",
            json={
                "resourceType": "Organization",
                "id": "wf-unit",
                "name": "Workflow clinic",
                "identifier": [{"system": ORGNR_SYSTEM, "value": UNIT}, {"system": RESH_SYSTEM, "value": "4001"}],
            },
        )
        assert client.put(
            f"/fhir/Patient/{self.patient}", json={"resourceType": "Patient", "id": self.patient}, headers=self.ehr
        ).status_code in (200, 201)

    def push(self, start: str, status: str = "booked", registry: str | None = "nnrr", **extra: Any) -> int:
        body: dict[str, Any] = {
            "resourceType": "Appointment",
            "id": self.appointment_id,
            "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.2.1234.9", "value": self.appointment_id}],
            "status": status,
            "start": datetime.fromisoformat(start).replace(tzinfo=OSLO).isoformat(),
            "participant": [{"status": "accepted", "actor": {"reference": f"Patient/{self.patient}"}}],
            **extra,
        }
        if registry:
            coding = {"system": "https://ryggrad.no/fhir/CodeSystem/registry", "code": registry}
            body["extension"] = [{"url": SD + "registry-potential", "valueCoding": coding}]
        response = self.client.put(f"/fhir/Appointment/{self.appointment_id}", json=body, headers=self.ehr)
        assert response.status_code in (200, 201), response.json()
        self.run()
        return response.status_code

    def run(self) -> None:
        self.now += timedelta(seconds=1)  # the server's clock (which stamps versions too) moves on between steps
        self.server.clock = lambda: self.now  # type: ignore[method-assign]
        try:
            assert deliver(self.server, SUB) in ("done", "busy")
        finally:
            del self.server.clock

    def episodes(self) -> list[dict[str, Any]]:
        query = {"identifier": f"https://ryggrad.no/fhir/sid/opening-appointment|Appointment/{self.appointment_id}"}
        bundle = self.client.get("/fhir/EpisodeOfCare", params={**query, "_sort": "_lastUpdated"}).json()
        return [e["resource"] for e in bundle.get("entry", [])]

    def tasks(self, episode: dict[str, Any]) -> list[dict[str, Any]]:
        bundle = self.client.get("/fhir/Task", params={"episode": f"EpisodeOfCare/{episode['id']}"}).json()
        return [e["resource"] for e in bundle.get("entry", [])]

    def drafts(self, episode: dict[str, Any]) -> list[dict[str, Any]]:
        """The episode's clinician form drafts (N5)."""
        bundle = self.client.get(
            "/fhir/QuestionnaireResponse", params={"episode": f"EpisodeOfCare/{episode['id']}"}
        ).json()
        return [e["resource"] for e in bundle.get("entry", [])]

    def mark_sent(self, task: dict[str, Any]) -> None:
        self.client.put(f"/fhir/Task/{task['id']}", json={**task, "status": "ready"})


@pytest.fixture
def world(client: TestClient, server: FhirServer) -> Iterator[World]:
    ensure_subscriptions(server)
    yield World(client, server)
    client.delete(f"/fhir/Subscription/{SUB}")


def test_a_flagged_appointment_opens_an_episode_and_schedules_the_form(world: World):
    assert world.push("2026-12-20T10:00") == 201
    (episode,) = world.episodes()
    assert episode["status"] == "planned"
    planned = next(e["valueDateTime"] for e in episode["extension"] if e["url"] == SD + "planned-consultation")
    assert as_oslo(planned) == "2026-12-20T10:00"  # N5: the planned consultation
    (draft,) = world.drafts(episode)  # N5: the clinician form starts as a draft
    assert draft["status"] == "in-progress" and "author" not in draft
    assert draft["questionnaire"] == "https://ryggrad.no/fhir/Questionnaire/nnrr-clinician|1.0.0"
    assert draft["subject"] == {"reference": f"Patient/{world.patient}"}
    unit = world.client.get(f"/fhir/{episode['managingOrganization']['reference']}").json()
    assert {"system": ORGNR_SYSTEM, "value": UNIT} in unit["identifier"]  # the appointment's unit
    (task,) = world.tasks(episode)
    assert task["status"] == "requested"
    assert as_oslo(task["restriction"]["period"]["start"]) == "2026-12-04T09:00"  # N6
    assert task["focus"]["reference"] == "https://ryggrad.no/fhir/Questionnaire/nnrr-pre-consultation"
    assert task["for"] == {"reference": f"Patient/{world.patient}"}
    assert task["basedOn"] == [{"reference": f"Appointment/{world.appointment_id}/_history/1"}]
    # the unit owns what follows from its appointment; another unit sees none of it
    mine = world.client.get(f"/fhir/Task/{task['id']}", headers=bearer(world.server, "clinician", org=UNIT))
    theirs = world.client.get(f"/fhir/Task/{task['id']}", headers=bearer(world.server, "clinician", org=OTHER_UNIT))
    assert mine.status_code == 200 and theirs.status_code == 404


def test_repeated_and_out_of_order_pushes_change_nothing(world: World):
    world.push("2026-12-20T10:00")
    assert world.push("2026-12-20T10:00") == 200  # the same push again: no new version, no event
    world.push("2026-12-20T10:00", comment="a note")  # a new version, same date
    world.push("2026-12-22T10:00")
    world.push("2026-12-20T10:00")  # an older push arriving late: the current version decides
    (episode,) = world.episodes()
    (task,) = world.tasks(episode)
    assert as_oslo(task["restriction"]["period"]["start"]) == "2026-12-04T09:00"


def test_a_move_before_the_form_is_sent_moves_the_due_time(world: World):
    world.push("2026-12-20T10:00")
    world.now = oslo("2026-11-20T15:00")
    world.push("2026-12-01T10:00")  # N9, and fewer than 16 days left: the next forenoon
    (episode,) = world.episodes()
    (task,) = world.tasks(episode)
    assert as_oslo(task["restriction"]["period"]["start"]) == "2026-11-21T09:00"
    assert task["basedOn"][0]["reference"].endswith("/_history/2")
    planned = next(e["valueDateTime"] for e in episode["extension"] if e["url"] == SD + "planned-consultation")
    assert as_oslo(planned) == "2026-12-01T10:00"  # the episode follows its appointment


@pytest.mark.parametrize(("moved_days", "new_episode"), [(30, False), (31, True)])
def test_a_move_after_the_form_was_sent(world: World, moved_days: int, new_episode: bool):
    world.push("2026-12-20T10:00")
    (episode,) = world.episodes()
    (task,) = world.tasks(episode)
    world.now = oslo("2026-12-05T10:00")
    world.mark_sent(task)
    new_date = (datetime(2026, 12, 20, 10, 0) + timedelta(days=moved_days)).isoformat()
    world.push(new_date)
    episodes = world.episodes()
    if not new_episode:  # N10: moved 30 days: nothing changes
        assert len(episodes) == 1 and episodes[0]["status"] == "planned"
        assert world.tasks(episodes[0])[0]["status"] == "ready"
        return
    old, new = episodes  # N11: the old one deleted (entered-in-error, Task cancelled with the reason), a new one
    assert old["status"] == "entered-in-error" and new["status"] == "planned"
    (cancelled,) = world.tasks(old)
    assert cancelled["status"] == "cancelled" and "more than 30 days" in cancelled["statusReason"]["text"]
    (fresh,) = world.tasks(new)
    assert fresh["status"] == "requested"
    assert as_oslo(fresh["restriction"]["period"]["start"]) == "2027-01-04T09:00"


@pytest.mark.parametrize("ending", ["cancelled", "noshow", "entered-in-error", "deleted", "unflagged"])
def test_a_cancelled_appointment_removes_its_episode(world: World, ending: str):
    world.push("2026-12-20T10:00")
    if ending == "deleted":
        world.client.delete(f"/fhir/Appointment/{world.appointment_id}", headers=world.ehr)
        world.run()
    elif ending == "unflagged":
        world.push("2026-12-20T10:00", registry=None)
    else:
        world.push("2026-12-20T10:00", status=ending)
    (episode,) = world.episodes()
    assert episode["status"] == "entered-in-error"
    (task,) = world.tasks(episode)
    assert task["status"] == "cancelled" and task["statusReason"]["text"]
    assert [d["status"] for d in world.drafts(episode)] == ["entered-in-error"]  # the clinician draft goes too
    if ending in ("cancelled", "noshow"):  # N12: a new appointment for the referral later starts a new episode
        world.push("2027-01-20T10:00")
        assert [e["status"] for e in world.episodes()] == ["entered-in-error", "planned"]


def test_unflagged_or_unbooked_appointments_open_nothing(world: World):
    world.push("2026-12-20T10:00", registry=None)
    world.push("2026-12-20T10:00", status="proposed")
    assert world.episodes() == []


def test_each_registry_schedules_by_its_own_definition(world: World):
    """OPR's baseline goes out with the appointment letter (anchor: the booking), not 16 days before."""
    world.push("2026-12-20T10:00", registry="opr")
    (episode,) = world.episodes()
    (task,) = world.tasks(episode)
    assert as_oslo(task["restriction"]["period"]["start"]) == "2026-11-01T12:00"
    assert task["focus"]["reference"] == "https://ryggrad.no/fhir/Questionnaire/opr-baseline"
    assert world.drafts(episode) == []  # OPR defines no clinician form (yet)


def test_the_demo_goes_through_the_workflow(client: TestClient, server: FhirServer):
    """``ryggrad demo`` pushes its appointments the way an EHR does; every flagged one opens an episode."""
    from datetime import date

    from fhir_server.demo import build_demo_bundle
    from fhir_server.rest.messages import FhirRequest

    ensure_subscriptions(server)
    try:
        bundle = build_demo_bundle(seed=77, today=date.today(), patients=12, history=False)
        response = server.execute(FhirRequest("POST", "", body=bundle))
        assert deliver(server, SUB) == "done"
        created = {
            entry["response"]["location"].split("/Appointment/")[1].split("/")[0]: request
            for entry, request in zip(response.resource["entry"], bundle["entry"], strict=True)
            if request["resource"]["resourceType"] == "Appointment"
        }
        assert created
        for appointment_id, request in created.items():
            flagged = bool(request["resource"].get("extension"))
            found = client.get(
                "/fhir/EpisodeOfCare",
                params={"identifier": f"https://ryggrad.no/fhir/sid/opening-appointment|Appointment/{appointment_id}"},
            ).json()
            episodes = [e["resource"] for e in found.get("entry", [])]
            assert len(episodes) == (1 if flagged else 0), request["resource"]
            if flagged:
                expected = "active" if request["resource"]["status"] == "fulfilled" else "planned"
                assert episodes[0]["status"] == expected
                assert episodes[0]["meta"]["security"] == request["resource"]["meta"]["security"]  # the unit's
    finally:
        client.delete(f"/fhir/Subscription/{SUB}")
