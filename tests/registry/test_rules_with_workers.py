"""The registry's rules, one row each, through the HTTP API with real workers: a worker process with its scheduler
(``ryggrad worker --beat``) reacts to what an EHR pushes, on both set-ups (SQLite + filesystem transport, and
PostgreSQL + Redis when reachable).

All rows share one timeline, as a clinic's day does: the clock travels (forward only) to a morning 20 days before a
change to or from summer time, the EHR pushes the day's appointments in one transaction, the clock moves on, forms
fall due and go out to a Helsenorge-like task endpoint, appointments move and are cancelled. The timeline runs
once per set-up; each row is a test of what it left behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from fhir_server.definitions.registry import Definitions
from fhir_server.http.app import create_app
from fhir_server.norway.identifiers import FNR_SYSTEM, ORGNR_SYSTEM, RESH_SYSTEM
from tests.conftest import _PG_SKIP, bearer
from tests.registry.conftest import consent, pre_consultation_answers, reservation
from tests.registry.test_appointment_workflow import OSLO, UNIT, as_oslo
from tests.standins.helsenorge import Helsenorge
from tests.subscriptions.conftest import _REDIS_SKIP, Deployment
from workers.registry.subscriptions import ensure_subscriptions

SD = "https://ryggrad.no/fhir/StructureDefinition/"
REGISTRY = "https://ryggrad.no/fhir/CodeSystem/registry"
EXCLUSIONS = "https://ryggrad.no/fhir/CodeSystem/registry-exclusion"
OPENED_BY = "https://ryggrad.no/fhir/sid/opening-appointment"
FNR = "13097248022"


def _next_dst_change(after: datetime) -> date:
    """The first day after ``after`` on which Oslo's UTC offset changes."""
    day = after.astimezone(OSLO).date()
    while True:
        day += timedelta(days=1)
        before = datetime.combine(day, datetime.min.time(), OSLO).utcoffset()
        after_day = datetime.combine(day + timedelta(days=1), datetime.min.time(), OSLO).utcoffset()
        if before != after_day:
            return day


@dataclass
class Row:
    """One case: an appointment (days after the first day ``D``, local time), its registry and its patient."""

    name: str
    day: int
    hour: int = 10
    minute: int = 0
    registry: str = "nnrr"
    patient: dict[str, Any] = field(default_factory=dict)
    phase: str = "morning"  # pushed at D 08:00 ("morning") or D 12:00 ("noon")


ROWS = [
    Row("n6-twenty-days", 20),
    Row("n6-exactly-16-days-before-nine", 16, hour=9),
    Row("n6-exactly-16-days-after-nine", 16, hour=9, phase="noon"),
    Row("n6-ten-days-left-after-nine", 10, phase="noon"),
    Row("n6-across-a-clock-change", 22),
    Row("n9-moved-before-sent", 40),
    Row("n10-moved-30-days-after-sent", 20),
    Row("n11-moved-31-days-after-sent", 20),
    Row("n12-cancelled-after-sent", 20),
    Row("n12-no-show", 20),
    Row("repeated-pushes", 20),
    Row("p1-reminder", 20, registry="opr"),
    Row("p4-under-18-at-the-due-date", 20, registry="opr"),
    Row("p4-18-by-the-due-date", 20, registry="opr"),
    Row("r4-reserved", 20),
]


class Timeline:
    """The deployment, the API as HTTP, the clock, and what happened to each row."""

    def __init__(self, deployment: Deployment, helsenorge: Helsenorge) -> None:
        self.deployment = deployment
        self.helsenorge = helsenorge
        self.api = TestClient(create_app(server=deployment.server), base_url="http://testserver")
        self.api.__enter__()
        self.admin = bearer(deployment.server, "registry-admin")
        self.ehr = bearer(deployment.server, "ehr", org=UNIT)
        self.first_day: date = date.min
        self.results: dict[str, Any] = {}

    # the clock
    def now(self) -> datetime:
        return self.deployment.server.clock()

    def travel_to(self, local: datetime) -> None:
        target = local.replace(tzinfo=OSLO).astimezone(UTC).replace(tzinfo=None)
        self.deployment.server.time.travel((target - self.now()).total_seconds())
        time.sleep(0.6)  # every process sees the new offset within half a second

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(self.first_day + timedelta(days=day), datetime.min.time()).replace(
            hour=hour, minute=minute
        )

    # the API
    def get(self, path: str, **params: str) -> dict[str, Any]:
        response = self.api.get(f"/fhir/{path}", params=params, headers=self.admin)
        assert response.status_code == 200, response.text
        return response.json()

    def episodes(self, row: str) -> list[dict[str, Any]]:
        found = self.get("EpisodeOfCare", identifier=f"{OPENED_BY}|Appointment/rule-{row}", _sort="_lastUpdated")
        return [e["resource"] for e in found.get("entry", [])]

    def tasks(self, episode: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.get("Task", episode=f"EpisodeOfCare/{episode['id']}", _sort="_lastUpdated")
        return [e["resource"] for e in found.get("entry", [])]

    def drafts(self, episode: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.get("QuestionnaireResponse", episode=f"EpisodeOfCare/{episode['id']}")
        return [e["resource"] for e in found.get("entry", [])]

    def baseline(self, row: str, episode: int = -1) -> dict[str, Any]:
        tasks = [t for t in self.tasks(self.episodes(row)[episode]) if t["code"]["coding"][0]["code"] == "baseline"]
        assert len(tasks) == 1, tasks
        return tasks[0]

    def wait(self, check: Callable[[], Any], what: str, timeout: float = 90.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = check()
            except (AssertionError, IndexError, KeyError):
                found = None
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.deployment.logs()}")
            time.sleep(0.3)

    def changes(self, task: dict[str, Any]) -> list[Any]:
        """The POSTs and PUTs of the Task that reached Helsenorge, in order."""
        return [
            r
            for r in list(self.helsenorge.requests)
            if r.method in ("POST", "PUT")
            and isinstance(r.body, dict)
            and r.body.get("identifier") == task["identifier"]
        ]

    def sent(self, task: dict[str, Any]) -> list[Any]:
        return [r for r in self.changes(task) if r.method == "POST"]

    # the EHR
    def appointment(self, row: Row, start: datetime, status: str = "booked") -> dict[str, Any]:
        return {
            "resourceType": "Appointment",
            "id": f"rule-{row.name}",
            "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.2.1234.9", "value": f"rule-{row.name}"}],
            "extension": [
                {"url": SD + "registry-potential", "valueCoding": {"system": REGISTRY, "code": row.registry}}
            ],
            "status": status,
            "start": start.replace(tzinfo=OSLO).isoformat(),
            "participant": [{"status": "accepted", "actor": {"reference": f"Patient/rule-{row.name}"}}],
        }

    def push(self, rows: list[Row], moved: dict[str, datetime] | None = None, status: dict[str, str] | None = None):
        """One transaction, as an EHR sends its changes: each row's patient and appointment."""
        entries = []
        for row in rows:
            patient = {
                "resourceType": "Patient",
                "id": f"rule-{row.name}",
                "identifier": [{"system": FNR_SYSTEM, "value": FNR}],
                **row.patient,
            }
            start = (moved or {}).get(row.name) or self.at(row.day, row.hour, row.minute)
            appointment = self.appointment(row, start, (status or {}).get(row.name, "booked"))
            entries += [
                {"resource": patient, "request": {"method": "PUT", "url": f"Patient/rule-{row.name}"}},
                {"resource": appointment, "request": {"method": "PUT", "url": f"Appointment/rule-{row.name}"}},
            ]
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        response = self.api.post("/fhir", json=bundle, headers=self.ehr)
        assert response.status_code == 200, response.text

    def reserve(self, row: Row) -> None:
        consent = reservation(f"Patient/rule-{row.name}")
        patient = {"resourceType": "Patient", "id": f"rule-{row.name}"}
        assert self.api.put(f"/fhir/Patient/rule-{row.name}", json=patient, headers=self.ehr).status_code in (200, 201)
        assert self.api.post("/fhir/Consent", json=consent, headers=self.admin).status_code == 201

    def close(self) -> None:
        self.api.__exit__(None, None, None)


def _run(timeline: Timeline) -> None:
    by_name = {row.name: row for row in ROWS}
    change = _next_dst_change(timeline.now() + timedelta(days=25))
    timeline.first_day = change - timedelta(days=20)
    assert timeline.first_day + timedelta(days=22) > change  # the row across the clock change is due before it
    unit = {
        "resourceType": "Organization",
        "id": "rules-unit",
        "name": "Rules clinic",
        "identifier": [{"system": ORGNR_SYSTEM, "value": UNIT}, {"system": RESH_SYSTEM, "value": "4777"}],
    }
    assert timeline.api.put("/fhir/Organization/rules-unit", json=unit, headers=timeline.admin).status_code in (
        200,
        201,
    )
    by_name["p4-under-18-at-the-due-date"].patient = {
        "birthDate": (timeline.first_day.replace(year=timeline.first_day.year - 17) + timedelta(days=60)).isoformat()
    }  # 17 at the yearly follow-up
    by_name["p4-18-by-the-due-date"].patient = {
        "birthDate": (timeline.first_day.replace(year=timeline.first_day.year - 17) - timedelta(days=60)).isoformat()
    }  # 17 when booked, 18 when the follow-up falls due

    timeline.travel_to(timeline.at(0, 8))
    timeline.reserve(by_name["r4-reserved"])
    morning = [row for row in ROWS if row.phase == "morning"]
    timeline.push(morning)
    timeline.push([by_name["repeated-pushes"]])  # the same again, twice
    timeline.push([by_name["repeated-pushes"]])
    for row in morning:
        timeline.wait(lambda row=row: timeline.tasks(timeline.episodes(row.name)[0]), f"{row.name}'s Task")
    timeline.results["booked"] = {row.name: timeline.baseline(row.name) for row in morning}

    timeline.travel_to(timeline.at(0, 12))
    noon = [row for row in ROWS if row.phase == "noon"]
    timeline.push(noon)
    for row in noon:
        timeline.wait(lambda row=row: timeline.tasks(timeline.episodes(row.name)[0]), f"{row.name}'s Task")
    timeline.results["booked"].update({row.name: timeline.baseline(row.name) for row in noon})

    # the day the forms of appointments 20 days ahead fall due: the scheduler sends them
    timeline.travel_to(timeline.at(4, 9, 30))
    sent_rows = [r.name for r in ROWS if r.day == 20 and r.registry == "nnrr" and r.name != "r4-reserved"]
    for name in sent_rows:
        timeline.wait(lambda name=name: timeline.sent(timeline.baseline(name)), f"{name}'s form at Helsenorge")
    timeline.results["sent"] = {name: timeline.baseline(name) for name in sent_rows}

    # the EHR moves and cancels
    moves = {
        "n9-moved-before-sent": timeline.at(50, 10),
        "n10-moved-30-days-after-sent": timeline.at(50, 10),
        "n11-moved-31-days-after-sent": timeline.at(51, 10),
    }
    statuses = {"n12-cancelled-after-sent": "cancelled", "n12-no-show": "noshow"}
    changed = [by_name[name] for name in [*moves, *statuses]]
    timeline.push(changed, moved=moves, status=statuses)
    timeline.wait(lambda: len(timeline.episodes("n11-moved-31-days-after-sent")) == 2, "N11's new episode")
    timeline.wait(
        lambda: all(timeline.episodes(n)[0]["status"] == "entered-in-error" for n in statuses), "N12's removals"
    )
    timeline.wait(
        lambda: (
            as_oslo(timeline.baseline("n9-moved-before-sent")["restriction"]["period"]["start"])
            != as_oslo(timeline.results["booked"]["n9-moved-before-sent"]["restriction"]["period"]["start"])
        ),
        "N9's new due time",
    )
    time.sleep(1.0)  # anything still on its way (nothing should be: N10 changes nothing)
    timeline.results["moved"] = {name: timeline.episodes(name) for name in [*moves, *statuses]}

    # the patient answers one form; another is reminded of 7 days before the consultation (P1)
    answered = timeline.results["sent"]["n6-twenty-days"]
    consent(timeline.api, "Patient/rule-n6-twenty-days", headers=timeline.admin)  # N2
    response = {
        "resourceType": "QuestionnaireResponse",
        **pre_consultation_answers(),
        "basedOn": [{"reference": f"Task/{answered['id']}"}],
        "status": "completed",
        "subject": {"reference": "Patient/rule-n6-twenty-days"},
        "authored": timeline.now().isoformat() + "Z",
    }
    assert timeline.api.post("/fhir/QuestionnaireResponse", json=response, headers=timeline.admin).status_code == 201
    timeline.travel_to(timeline.at(13, 9, 30))
    reminded = timeline.baseline("p1-reminder")
    timeline.wait(lambda: any(r.method == "PUT" for r in timeline.changes(reminded)), "P1's reminder")
    timeline.results["answered"] = timeline.get(f"Task/{answered['id']}")
    timeline.results["reminded"] = timeline.changes(reminded)


@pytest.fixture(scope="module", params=["sqlite-filesystem", "postgresql-redis"])
def timeline(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, definitions: Definitions):
    if request.param == "postgresql-redis" and (_PG_SKIP or _REDIS_SKIP):
        pytest.skip(_PG_SKIP or _REDIS_SKIP)
    helsenorge = Helsenorge()
    settings = {
        "clock_travel": True,
        "registry_activation_interval_s": 0.5,
        "registry_helsenorge_task_url": helsenorge.url,
        "registry_dispatch_channels": ["helsenorge"],
    }
    deployment = Deployment(request.param, tmp_path_factory.mktemp("rules"), definitions, extra=settings)
    ensure_subscriptions(deployment.server)  # as `ryggrad migrate` does: no push may come before them
    deployment.start_worker(beat=True)
    line = Timeline(deployment, helsenorge)
    try:
        _run(line)
        yield line
    finally:
        line.close()
        deployment.close()
        helsenorge.stop()


def _due(task: dict[str, Any]) -> str:
    return as_oslo(task["restriction"]["period"]["start"])


def _day(timeline: Timeline, day: int, hour: int = 9) -> str:
    return timeline.at(day, hour).strftime("%Y-%m-%dT%H:%M")


DUE_TIMES = [  # N6: 16 days before at 09:00 Oslo; if that has passed when booked, the next day at 09:00
    ("n6-twenty-days", 4),
    ("n6-exactly-16-days-before-nine", 0),  # booked 08:00: due at 09:00 the same day
    ("n6-exactly-16-days-after-nine", 1),  # booked 12:00: 09:00 has passed, so the next day
    ("n6-ten-days-left-after-nine", 1),
    ("n6-across-a-clock-change", 6),  # due in one UTC offset, the consultation in the other: 09:00 local still
]


@pytest.mark.parametrize(("row", "due_day"), DUE_TIMES, ids=[r for r, _ in DUE_TIMES])
def test_n6_due_times(timeline: Timeline, row: str, due_day: int):
    task = timeline.results["booked"][row]
    assert task["status"] == "requested"
    assert _due(task) == _day(timeline, due_day)


def test_n5_each_appointment_opens_one_episode_with_its_forms(timeline: Timeline):
    for row in ROWS:
        (episode, *rest) = timeline.episodes(row.name)
        assert episode["managingOrganization"]["reference"] == "Organization/rules-unit"
        drafts = [d for d in timeline.drafts(episode) if d["status"] != "completed"]  # NNRR's clinician form
        assert [d["questionnaire"].split("|")[0].rsplit("/", 1)[1] for d in drafts] == (
            ["nnrr-clinician"] if row.registry == "nnrr" else []
        )
        if row.name == "repeated-pushes":
            assert rest == [] and len(timeline.tasks(episode)) == 1  # idempotent: pushed three times
            assert len(drafts) == 1


def test_dispatch_sends_each_due_form_once(timeline: Timeline):
    for name, task in timeline.results["sent"].items():
        assert task["status"] == "ready", name
        (sent,) = timeline.sent(task)
        assert sent.body["identifier"] == task["identifier"]
        assert sent.body["for"]["identifier"] == {"system": FNR_SYSTEM, "value": FNR}


def test_n9_a_form_not_yet_sent_follows_its_moved_appointment(timeline: Timeline):
    (episode,) = timeline.results["moved"]["n9-moved-before-sent"]
    assert episode["status"] != "entered-in-error"
    assert _due(timeline.baseline("n9-moved-before-sent")) == _day(timeline, 34)


def test_n10_a_sent_form_stays_when_moved_by_30_days(timeline: Timeline):
    (episode,) = timeline.results["moved"]["n10-moved-30-days-after-sent"]
    assert episode["status"] != "entered-in-error"
    task = timeline.baseline("n10-moved-30-days-after-sent")
    assert task["id"] == timeline.results["sent"]["n10-moved-30-days-after-sent"]["id"]
    assert task["status"] == "ready" and _due(task) == _day(timeline, 4)


def test_n11_a_sent_form_moved_by_more_than_30_days_starts_again(timeline: Timeline):
    old, new = timeline.results["moved"]["n11-moved-31-days-after-sent"]
    assert old["status"] == "entered-in-error"
    withdrawn = timeline.baseline("n11-moved-31-days-after-sent", 0)
    assert withdrawn["status"] == "cancelled" and withdrawn["statusReason"]["text"]
    assert new["status"] != "entered-in-error"
    assert _due(timeline.baseline("n11-moved-31-days-after-sent", 1)) == _day(timeline, 35)


@pytest.mark.parametrize("row", ["n12-cancelled-after-sent", "n12-no-show"])
def test_n12_a_cancelled_or_missed_appointment_removes_its_episode(timeline: Timeline, row: str):
    (episode,) = timeline.results["moved"][row]
    assert episode["status"] == "entered-in-error"
    task = timeline.baseline(row)
    assert task["status"] == "cancelled" and task["statusReason"]["text"]
    assert [d["status"] for d in timeline.drafts(episode)] == ["entered-in-error"]


def test_completion_records_when_the_form_was_answered(timeline: Timeline):
    task = timeline.results["answered"]
    assert task["status"] == "completed"
    assert task["output"][0]["valueReference"]["reference"].startswith("QuestionnaireResponse/")
    assert task["executionPeriod"]["end"]


def test_p1_one_reminder_seven_days_before_the_consultation(timeline: Timeline):
    """At Helsenorge the reminder is the same task PUT again with priority asap (a second POST would be a repeat)."""
    form, reminder = timeline.results["reminded"]
    assert (form.method, form.body["priority"]) == ("POST", "routine")
    assert (reminder.method, reminder.body["priority"], reminder.status) == ("PUT", "asap", 200)


@pytest.mark.parametrize(("row", "excluded"), [("p4-under-18-at-the-due-date", True), ("p4-18-by-the-due-date", False)])
def test_p4_no_follow_up_for_a_child_on_its_due_date(timeline: Timeline, row: str, excluded: bool):
    (yearly,) = [t for t in timeline.tasks(timeline.episodes(row)[0]) if t["code"]["coding"][0]["code"] == "follow-up"]
    if excluded:
        assert yearly["status"] == "cancelled" and yearly["statusReason"]["coding"][0]["code"] == "under-18"
    else:
        assert yearly["status"] == "requested"


def test_r4_a_reserved_patient_gets_no_form(timeline: Timeline):
    task = timeline.results["booked"]["r4-reserved"]
    assert task["status"] == "cancelled" and task["statusReason"]["coding"][0]["code"] == "reservation"
    assert timeline.sent(task) == []
