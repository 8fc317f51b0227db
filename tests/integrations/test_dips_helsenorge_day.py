"""A clinic's traffic end to end, DIPS in and Helsenorge out: 500 appointments booked, moved and cancelled at random
over the working days, pushed to the DIPS intake as DIPS Arena sends them — some pushes repeated, some arriving
after a newer version — while the registry's clock runs from day to day. Every form must reach the Helsenorge
stand-in exactly when and as often as the rules say: sent at its due time (N6, N9), left alone by a small move
after it was sent (N10), cancelled there by a large move (N11, with a new form) or a cancellation (N12), cancelled
there when it expires unanswered; never anything else.

The expected traffic comes from a model of the rules written here, from the DIPS side's own record of what it
pushed — not from the server. The registry's workers run in-process at the points a worker would: the appointment
subscriber at the end of each working day, the scheduler (activation, expiry) and the dispatch subscribers at the
daily send hour."""

from __future__ import annotations

import copy
import json
import os
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import astuple, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

import workers.registry.appointments  # registers the subscribers in this process
import workers.registry.dispatch  # noqa: F401
from fhir_server.http.app import create_app
from fhir_server.norway.identifiers import ORGNR_SYSTEM, synthetic_fnr
from fhir_server.server import FhirServer
from fhir_server.subscriptions.delivery import deliver
from tests.conftest import bearer
from tests.standins.helsenorge import Helsenorge, problems
from workers.registry.activation import activate_due, expire_due
from workers.registry.channels.helsenorge import GUID_SYSTEM
from workers.registry.subscriptions import INTERNAL, ensure_subscriptions

OSLO = ZoneInfo("Europe/Oslo")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dips"
UNIT = "921234563"  # the sending unit's orgnr (this test's own, so no other test's Tasks count)
APPOINTMENTS = int(os.environ.get("RYGGRAD_DAY_APPOINTMENTS", "500"))
FIRST_DAY = date(2026, 11, 2)  # a Monday
BOOKING_DAYS = 15  # bookings come in over the first working days
LAST_START = FIRST_DAY + timedelta(days=60)  # no appointment later than this, before or after a move
SEND_HOUR, DAYS_BEFORE, EXPIRY_DAYS, MOVE_THRESHOLD = 9, 16, 30, 30


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """``day`` at the local time, as naive UTC (as the server keeps instants)."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=OSLO).astimezone(UTC).replace(tzinfo=None)


def local_day(instant: datetime) -> date:
    return instant.replace(tzinfo=UTC).astimezone(OSLO).date()


def iso(instant: datetime) -> str:
    return instant.replace(tzinfo=UTC).astimezone(OSLO).isoformat()


# -- the DIPS side: what happens to each appointment, and the pushes that tell the registry -------------------------
@dataclass
class Push:
    at: datetime
    dips_id: str
    version: int
    start: datetime
    status: str


@dataclass
class Booking:
    dips_id: str
    fnr: str
    registry: bool
    versions: list[Push] = field(default_factory=list)


def working_moment(rng: random.Random, day: date) -> datetime:
    """Some time in the office day (after the send hour, before 16:00), to the second."""
    return local(day, rng.randint(SEND_HOUR, 15), rng.randint(0, 59), rng.randint(1, 59))


def consultation(rng: random.Random, earliest: date) -> datetime:
    day = earliest + timedelta(days=rng.randint(0, max(0, (LAST_START - earliest).days)))
    return local(min(day, LAST_START), rng.randint(8, 14), rng.choice((0, 15, 30, 45)))


def plan(rng: random.Random, count: int) -> tuple[list[Booking], list[Push]]:
    """The appointments' lives at DIPS, and the pushes in the order they reach the registry: each a new DIPS
    version; one in ten repeated at once; one in four held up and arriving after the next version (out of order)."""
    bookings: list[Booking] = []
    pushes: list[Push] = []
    births = [date(1940, 1, 1) + timedelta(days=rng.randint(0, 60 * 365)) for _ in range(count)]
    for n in range(count):
        booking = Booking(f"{rng.randint(10**8, 10**9 - 1)}{n:04d}", synthetic_fnr(births[n], rng), rng.random() < 0.8)
        day = FIRST_DAY + timedelta(days=rng.randint(0, BOOKING_DAYS - 1))
        at = working_moment(rng, day)
        start = consultation(rng, day + timedelta(days=1))
        booking.versions.append(Push(at, booking.dips_id, 1, start, "booked"))
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):  # moves
            day = local_day(at) + timedelta(days=rng.randint(0, 20))
            if day >= local_day(start) - timedelta(days=1) or day > LAST_START:
                break
            at = working_moment(rng, day)
            start = consultation(rng, day + timedelta(days=1))
            booking.versions.append(Push(at, booking.dips_id, len(booking.versions) + 1, start, "booked"))
        if rng.random() < 0.2:  # cancelled, some time before the consultation
            day = local_day(at) + timedelta(days=rng.randint(0, 25))
            if day < local_day(start):
                at = working_moment(rng, day)
                booking.versions.append(Push(at, booking.dips_id, len(booking.versions) + 1, start, "cancelled"))
        bookings.append(booking)
        for index, push in enumerate(booking.versions):
            if index + 1 < len(booking.versions) and rng.random() < 0.25:  # held up: arrives after the next one
                push = Push(booking.versions[index + 1].at + timedelta(seconds=1), *astuple(push)[1:])
            pushes.append(push)
            if rng.random() < 0.1:  # sent twice
                pushes.append(Push(push.at + timedelta(milliseconds=1), *astuple(push)[1:]))
    pushes.sort(key=lambda p: p.at)
    return bookings, pushes


def dips_appointment(template: dict[str, Any], booking: Booking, push: Push) -> dict[str, Any]:
    """The Appointment as DIPS sends it for ``push``: its own id and version, the patient's FNR, the time on the
    contained Slot."""
    dips = copy.deepcopy(template)
    dips["id"] = booking.dips_id
    dips["meta"]["versionId"] = str(push.version)
    dips["meta"]["lastUpdated"] = iso(push.at)
    dips["status"] = push.status
    dips["appointmentType"]["coding"][0]["code"] = "nnrr-first" if booking.registry else "ordinary"
    dips["participant"][0]["actor"]["identifier"]["value"] = booking.fnr
    dips["participant"][0]["actor"].pop("display", None)
    slot = next(c for c in dips["contained"] if c["resourceType"] == "Slot")
    slot["start"], slot["end"] = iso(push.start), iso(push.start + timedelta(minutes=45))
    if push.status == "cancelled":
        dips["cancelationReason"] = {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason", "code": "pat"}
            ]
        }
    return dips


# -- the rules, as a model: what Helsenorge should see --------------------------------------------------------------
@dataclass
class Form:
    due: datetime
    scheduled_start: datetime
    state: str = "scheduled"  # scheduled | sent | expired | cancelled
    number: int = 0  # its number among the appointment's forms that reached Helsenorge

    @property
    def end(self) -> datetime:
        return max(self.due + timedelta(days=EXPIRY_DAYS), self.scheduled_start)


def due_time(start: datetime, now: datetime) -> datetime:
    """N6: 16 calendar days before the consultation's day at 09:00 Oslo; if that has passed, the next forenoon."""
    due = local(local_day(start) - timedelta(days=DAYS_BEFORE), SEND_HOUR)
    return due if due >= now else local(local_day(now) + timedelta(days=1), SEND_HOUR)


class Rules:
    """The registry as the rules describe it, one form per episode: Helsenorge's expected traffic per DIPS id, as
    (when, method, status, the form's number) — the number standing for the form's GUID."""

    def __init__(self) -> None:
        self.forms: dict[str, list[Form]] = defaultdict(list)  # DIPS id → its forms, the live one last
        self.live: dict[str, bool] = {}
        self.expected: dict[str, list[tuple[datetime, str, str, int]]] = defaultdict(list)

    def _cancel(self, dips_id: str, now: datetime) -> None:
        form = self.forms[dips_id][-1]
        if form.state == "sent":
            self.expected[dips_id].append((now, "PUT", "cancelled", form.number))
        if form.state in ("scheduled", "sent"):
            form.state = "cancelled"
        self.live[dips_id] = False

    def _open(self, dips_id: str, start: datetime, now: datetime) -> None:
        self.forms[dips_id].append(Form(due_time(start, now), start))
        self.live[dips_id] = True

    def appointment(self, dips_id: str, registry: bool, start: datetime, status: str, now: datetime) -> None:
        """The appointment subscriber at ``now`` sees this current state of the appointment."""
        live = self.live.get(dips_id, False)
        if status != "booked" or not registry:
            if live:
                self._cancel(dips_id, now)  # N12
            return
        if not live:
            self._open(dips_id, start, now)  # N5/N6
            return
        form = self.forms[dips_id][-1]
        if form.scheduled_start == start:
            return
        if form.state == "scheduled":  # N9
            form.due, form.scheduled_start = due_time(start, now), start
            return
        if abs((local_day(start) - local_day(form.scheduled_start)).days) <= MOVE_THRESHOLD:
            return  # N10
        self._cancel(dips_id, now)  # N11: the old episode goes, a new one starts
        self._open(dips_id, start, now)

    def send_hour(self, now: datetime) -> None:
        """The scheduler at the send hour: due forms go out; unanswered ones past their period expire."""
        for dips_id, forms in self.forms.items():
            form = forms[-1]
            if form.state == "scheduled" and form.due <= now:
                form.state = "sent"
                form.number = 1 + sum(1 for f in forms if f.number)
                self.expected[dips_id].append((now, "POST", "ready", form.number))
            elif form.state == "sent" and form.end <= now:
                form.state = "expired"
                self.expected[dips_id].append((now, "PUT", "cancelled", form.number))


# -- the run --------------------------------------------------------------------------------------------------------
@pytest.fixture
def helsenorge(server: FhirServer, client: TestClient) -> Iterator[Helsenorge]:
    standin = Helsenorge()
    settings = server.settings
    saved = settings.registry_helsenorge_task_url, settings.registry_dispatch_channels
    settings.registry_helsenorge_task_url, settings.registry_dispatch_channels = standin.url, ["helsenorge"]
    client.put(
        "/fhir/Organization/day-unit",
        json={
            "resourceType": "Organization",
            "id": "day-unit",
            "name": "Ryggpoliklinikken (dagstest)",
            "identifier": [{"system": ORGNR_SYSTEM, "value": UNIT}],
        },
    )
    ensure_subscriptions(server)
    try:
        yield standin
    finally:
        settings.registry_helsenorge_task_url, settings.registry_dispatch_channels = saved
        standin.stop()
        for sid, *_ in INTERNAL:
            client.delete(f"/fhir/Subscription/{sid}")


class Registry:
    """The server under a clock the test sets, its workers run where a worker would run them."""

    def __init__(self, server: FhirServer, client: TestClient, standin: Helsenorge) -> None:
        self.server, self.client, self.standin = server, client, standin
        self.seen = 0  # Helsenorge requests accounted for
        self.guids: dict[str, tuple[str, int]] = {}  # GUID → (DIPS id, the form's ordinal number)
        self.actual: dict[str, list[tuple[datetime, str, str, int]]] = defaultdict(list)

    def at(self, now: datetime) -> None:
        self.server.clock = lambda: now  # type: ignore[method-assign]

    def drain(self, subscription: str) -> None:
        for _ in range(50):
            if deliver(self.server, subscription) == "done":
                return
        raise AssertionError(f"{subscription} did not finish")

    def appointments(self, now: datetime) -> None:
        self.at(now)
        self.drain("registry-appointments")
        self.drain("registry-dispatch-sync")
        self.account(now)

    def send_hour(self, now: datetime) -> None:
        self.at(now)
        activate_due(self.server, now)
        expire_due(self.server, now)
        self.drain("registry-dispatch")
        self.drain("registry-dispatch-sync")
        self.account(now)

    def account(self, now: datetime) -> None:
        """Helsenorge's new requests, each put down to the DIPS appointment and form it concerns."""
        new, self.seen = self.standin.requests[self.seen :], len(self.standin.requests)
        for request in new:
            if request.method == "GET":
                continue
            assert 200 <= request.status < 300 and problems(request.body) == [], (request.status, request.body)
            guid = next(i["value"] for i in request.body["identifier"] if i["system"] == GUID_SYSTEM)
            if guid not in self.guids:
                found = self._form_of(guid)
                if found is None:
                    continue  # another test's form
                self.guids[guid] = found
            dips_id, ordinal = self.guids[guid]
            self.actual[dips_id].append((now, request.method, request.body["status"], ordinal))

    def _form_of(self, guid: str) -> tuple[str, int] | None:
        """(DIPS id, the form's number among those of the appointment that reached Helsenorge), None for a form
        of another test's."""
        (task,) = self._search("Task", identifier=f"{GUID_SYSTEM}|{guid}")
        based_on = [str(r.get("reference")) for r in task.get("basedOn", [])]
        source = next((r for r in based_on if r.startswith("Appointment/dips-")), None)
        if source is None or UNIT not in json.dumps(task.get("meta", {})):
            return None
        dips_id = source.split("/")[1].removeprefix("dips-")
        number = 1 + sum(1 for known, _ in self.guids.values() if known == dips_id)
        return dips_id, number

    def _search(self, resource_type: str, **params: str) -> list[dict[str, Any]]:
        bundle = self.client.get(f"/fhir/{resource_type}", params={**params, "_count": "100"}).json()
        return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode", "match") == "match"]


def test_a_clinics_appointments_reach_helsenorge_exactly_as_the_rules_say(
    server: FhirServer, client: TestClient, helsenorge: Helsenorge
):
    rng = random.Random(20261207)
    bookings, pushes = plan(rng, APPOINTMENTS)
    by_id = {b.dips_id: b for b in bookings}
    template = json.loads((FIXTURES / "booked.json").read_text("utf-8"))
    registry = Registry(server, client, helsenorge)
    rules = Rules()
    applied: dict[str, Push] = {}  # the newest version the registry has of each appointment
    outcomes: dict[str, int] = defaultdict(int)
    last_day = LAST_START + timedelta(days=EXPIRY_DAYS + 1)
    queue = list(pushes)
    try:
        with TestClient(create_app(server=server), headers=bearer(server, "ehr", org=UNIT)) as dips:
            day = FIRST_DAY
            while day <= last_day:
                send = local(day, SEND_HOUR)
                registry.send_hour(send)
                rules.send_hour(send)
                touched: set[str] = set()
                while queue and local_day(queue[0].at) == day:
                    push = queue.pop(0)
                    registry.at(push.at)
                    body = dips_appointment(template, by_id[push.dips_id], push)
                    response = dips.put(f"/intake/dips/Appointment/{push.dips_id}", json=body)
                    assert response.status_code in (200, 201), response.text
                    newer = push.dips_id not in applied or push.version > applied[push.dips_id].version
                    if newer:
                        applied[push.dips_id] = push
                        touched.add(push.dips_id)
                    outcomes["applied" if newer else "ignored"] += 1
                    held = response.json()  # what the registry holds now: an older push never wins
                    assert held["status"] == applied[push.dips_id].status
                    assert datetime.fromisoformat(held["start"]) == applied[push.dips_id].start.replace(tzinfo=UTC)
                end_of_day = local(day, 16, 30)
                registry.appointments(end_of_day)
                for dips_id in sorted(touched):
                    now_held = applied[dips_id]
                    rules.appointment(dips_id, by_id[dips_id].registry, now_held.start, now_held.status, end_of_day)
                day += timedelta(days=1)
    finally:
        del server.clock
    assert not queue
    expected = {k: v for k, v in rules.expected.items() if v}
    actual = {k: v for k, v in registry.actual.items() if v}
    mismatched = {
        k: (expected.get(k), actual.get(k)) for k in set(expected) | set(actual) if expected.get(k) != actual.get(k)
    }
    assert not mismatched, f"{len(mismatched)} appointments differ, e.g. {list(mismatched.items())[:3]}"
    # the run covered every rule, so the comparison above means something
    kinds = {(method, status) for traffic in expected.values() for _, method, status, _ in traffic}
    assert kinds == {("POST", "ready"), ("PUT", "cancelled")}
    assert sum(1 for t in expected.values() for e in t if e[1] == "POST") > APPOINTMENTS // 2
    assert any(len(rules.forms[i]) > 1 for i in rules.forms)  # N11 happened
    assert outcomes["ignored"] > 0 and outcomes["applied"] > APPOINTMENTS
    traffic = [e for t in actual.values() for e in t]
    print(  # shown with -s: the figures of the run
        f"{len(pushes)} pushes ({outcomes['applied']} applied, {outcomes['ignored']} repeated or late); Helsenorge: "
        f"{sum(e[1] == 'POST' for e in traffic)} forms sent, {sum(e[1] == 'PUT' for e in traffic)} cancelled; "
        f"{sum(len(f) > 1 for f in rules.forms.values())} appointments moved on after their form was sent (N11)"
    )
