"""Follow-up forms (N21; P3, P5) with their exclusions (P4) and reservations (R4), from the registries'
PlanDefinitions, driven through the REST API with the internal subscribers run in-process."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

import workers.registry.followups  # noqa: F401 - registers the subscribers in this process
from fhir_server.server import FhirServer
from fhir_server.subscriptions.delivery import deliver
from tests.indicators.cohort import form, response
from tests.registry.conftest import reservation
from tests.registry.test_appointment_workflow import World, as_oslo, oslo
from workers.registry.activation import activate_due
from workers.registry.subscriptions import INTERNAL, ensure_subscriptions

SD = "https://ryggrad.no/fhir/StructureDefinition/"
EXCLUSIONS = "https://ryggrad.no/fhir/CodeSystem/registry-exclusion"


class FollowUpWorld(World):
    def run(self) -> None:
        self.now += timedelta(seconds=1)
        self.server.clock = lambda: self.now  # type: ignore[method-assign]
        try:
            for _ in range(3):  # appointments → episodes → follow-ups, each a subscriber of the last one's writes
                for sid, *_ in INTERNAL:
                    deliver(self.server, sid)
        finally:
            del self.server.clock

    def episode(self) -> dict[str, Any]:
        live = [e for e in self.episodes() if e["status"] != "entered-in-error"]
        assert len(live) == 1
        return live[0]

    def follow_ups(self) -> dict[str, dict[str, Any]]:
        """Follow-up Tasks by their key (action[/anchor][/n])."""
        found = {}
        for task in self.tasks(self.episode()):
            for identifier in task.get("identifier", []):
                if identifier["system"] == "https://ryggrad.no/fhir/sid/registry-form":
                    found[identifier["value"].split("/", 1)[1]] = task
        return found

    def change_episode(self, **changes: Any) -> None:
        episode = copy.deepcopy(self.episode())
        episode.update(changes)
        assert self.client.put(f"/fhir/EpisodeOfCare/{episode['id']}", json=episode).status_code == 200
        self.run()

    def reserve(self) -> None:
        """R4: the patient opts out of further questionnaires (a Consent denying them)."""
        consent = reservation(f"Patient/{self.patient}")
        assert self.client.post("/fhir/Consent", json=consent).status_code == 201

    def set_patient(self, **fields: Any) -> None:
        body = {"resourceType": "Patient", "id": self.patient, **fields}
        assert self.client.put(f"/fhir/Patient/{self.patient}", json=body, headers=self.ehr).status_code == 200


@pytest.fixture
def world(client: TestClient, server: FhirServer) -> Iterator[FollowUpWorld]:
    ensure_subscriptions(server)
    yield FollowUpWorld(client, server)
    for sid, *_ in INTERNAL:
        client.delete(f"/fhir/Subscription/{sid}")


def _due(task: dict[str, Any]) -> str:
    return as_oslo(task["restriction"]["period"]["start"])


def test_nnrr_follow_ups_six_and_twelve_months_after_the_visit(world: FollowUpWorld):
    world.push("2026-12-20T10:00")
    assert world.follow_ups() == {}  # no visit yet, no follow-ups
    world.now = oslo("2026-12-20T11:00")
    world.push("2026-12-20T10:00", status="fulfilled")  # the patient came: visit date, episode active
    episode = world.episode()
    assert episode["status"] == "active"
    assert {"url": SD + "visit-date", "valueDate": "2026-12-20"} in episode["extension"]
    tasks = world.follow_ups()
    assert {k: (_due(t), t["status"]) for k, t in tasks.items()} == {
        "follow-up-6m": ("2027-06-20T09:00", "requested"),
        "follow-up-12m": ("2027-12-20T09:00", "requested"),
    }
    assert tasks["follow-up-6m"]["focus"]["reference"].endswith("/nnrr-follow-up-6m")
    world.run()
    assert len(world.follow_ups()) == 2  # once only
    extensions = [e for e in episode["extension"] if e["url"] != SD + "visit-date"]
    world.change_episode(extension=[*extensions, {"url": SD + "visit-date", "valueDate": "2026-12-22"}])
    assert _due(world.follow_ups()["follow-up-6m"]) == "2027-06-22T09:00"  # not sent yet: follows the visit date


def _procedure(world: FollowUpWorld, pid: str, day: str) -> None:
    body = {
        "resourceType": "Procedure",
        "id": pid,
        "extension": [
            {"url": SD + "episode", "valueReference": {"reference": f"EpisodeOfCare/{world.episode()['id']}"}}
        ],
        "status": "completed",
        "subject": {"reference": f"Patient/{world.patient}"},
        "performedDateTime": day,
    }
    assert world.client.put(f"/fhir/Procedure/{pid}", json=body).status_code in (200, 201)
    world.run()


def test_opr_follow_ups_after_procedures_in_treatment_and_after_the_end(world: FollowUpWorld):
    world.push("2026-12-20T10:00", registry="opr")
    world.change_episode(status="active", period={"start": "2026-12-20"})
    assert {k: _due(t) for k, t in world.follow_ups().items()} == {"in-treatment-yearly/1": "2027-12-20T09:00"}
    _procedure(world, f"rf-{world.patient}", "2027-01-10")
    keys = {k.split("/")[0]: _due(t) for k, t in world.follow_ups().items()}
    assert keys == {
        "in-treatment-yearly": "2027-12-20T09:00",
        "procedure-3m": "2027-04-10T09:00",
        "procedure-6m": "2027-07-10T09:00",
        "procedure-12m": "2028-01-10T09:00",
    }
    world.now = oslo("2027-12-21T10:00")  # a year in treatment: the yearly form goes, and the next one is scheduled
    activate_due(world.server, world.now)
    world.run()
    assert _due(world.follow_ups()["in-treatment-yearly/2"]) == "2028-12-20T09:00"
    world.change_episode(status="finished", period={"start": "2026-12-20", "end": "2028-03-01"})  # P5: closed
    tasks = world.follow_ups()
    assert _due(tasks["episode-end-12m"]) == "2029-03-01T09:00"
    assert tasks["in-treatment-yearly/2"]["status"] == "cancelled"  # not sent: withdrawn with the end
    assert tasks["in-treatment-yearly/2"]["statusReason"]["text"] == "the episode has ended"


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("child", "under-18"),
        ("interpreter", "interpreter"),
        ("reservation", "reservation"),
    ],
)
def test_excluded_follow_ups_are_recorded_not_sent(world: FollowUpWorld, setup: str, code: str):
    if setup == "child":
        world.set_patient(birthDate="2010-06-01")  # 17 on the due dates in 2027
    if setup == "reservation":
        world.reserve()
    world.push("2026-12-20T10:00", registry="opr")
    extension = world.episode()["extension"]
    if setup == "interpreter":
        extension = [
            *extension,
            {"url": SD + "follow-up-exclusion", "valueCoding": {"system": EXCLUSIONS, "code": "interpreter"}},
        ]
    world.change_episode(status="active", period={"start": "2026-12-20"}, extension=extension)
    (task,) = world.follow_ups().values()
    assert task["status"] == "cancelled" and task["businessStatus"]["text"] == "excluded"
    assert task["statusReason"]["coding"][0] == {"system": EXCLUSIONS, "code": code}


def test_an_episode_deleted_by_staff_withdraws_its_forms(world: FollowUpWorld):
    """N19: the patient declines at the consultation; the clinician deletes the episode (as N11): its forms — the
    sent baseline too — are cancelled, and the clinician form's draft withdrawn."""
    world.push("2026-12-20T10:00")
    world.push("2026-12-20T10:00", status="fulfilled")
    baseline = next(t for t in world.tasks(world.episodes()[0]) if t["code"]["coding"][0]["code"] == "baseline")
    world.mark_sent(baseline)
    world.change_episode(status="entered-in-error")
    tasks = world.tasks(world.episodes()[0])
    assert len(tasks) > 1 and all(t["status"] == "cancelled" for t in tasks)
    assert [d["status"] for d in world.drafts(world.episodes()[0])] == ["entered-in-error"]


def test_a_patient_who_opted_out_gets_no_new_forms(world: FollowUpWorld):
    """R4: a reservation stops new forms — the baseline too — and forms already scheduled but not yet sent."""
    world.push("2026-12-20T10:00")  # scheduled before the reservation
    (scheduled,) = world.tasks(world.episode())
    world.reserve()
    assert scheduled["id"] not in activate_due(world.server, oslo("2026-12-04T09:00"))
    withdrawn = world.client.get(f"/fhir/Task/{scheduled['id']}").json()
    assert withdrawn["status"] == "cancelled" and withdrawn["statusReason"]["coding"][0]["code"] == "reservation"
    world.push("2027-03-01T10:00", status="cancelled")
    world.appointment_id += "-new"
    world.push("2027-03-01T10:00")  # a new appointment: its baseline is recorded as excluded, not sent
    (baseline,) = world.tasks(world.episode())
    assert baseline["status"] == "cancelled" and baseline["businessStatus"]["text"] == "excluded"


def test_a_follow_up_already_answered_is_not_sent_again(world: FollowUpWorld):
    """The episode holds the patient's 6-month answers (a paper form keyed in, a registry's history loaded): only
    the 12-month form is scheduled."""
    world.push("2026-12-20T10:00")
    episode = world.episode()
    answers = response(form("nnrr-follow-up-6m"), {"gpe": [2]})
    answers |= {
        "subject": {"reference": f"Patient/{world.patient}"},
        "authored": "2027-06-18T10:00:00+02:00",
        "extension": [{"url": SD + "episode", "valueReference": {"reference": f"EpisodeOfCare/{episode['id']}"}}],
    }
    assert world.client.post("/fhir/QuestionnaireResponse", json=answers).status_code == 201
    world.now = oslo("2026-12-20T11:00")
    world.push("2026-12-20T10:00", status="fulfilled")
    assert set(world.follow_ups()) == {"follow-up-12m"}
