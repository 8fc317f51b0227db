"""The units' work lists: the office's call list of unanswered baseline forms (P1, ``Task/$call-list``) and the
unfinished clinician forms with their age (N13, ``QuestionnaireResponse/$unfinished-forms``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from fhir_server.norway.identifiers import HPR_SYSTEM
from fhir_server.server import FhirServer
from tests.conftest import bearer
from tests.registry.test_appointment_workflow import OTHER_UNIT, UNIT, World, oslo
from workers.registry.activation import activate_due
from workers.registry.subscriptions import ensure_subscriptions

CLINICIAN_FORM = "https://ryggrad.no/fhir/Questionnaire/nnrr-clinician|1.0.0"
PATIENT_FORM = "https://ryggrad.no/fhir/Questionnaire/nnrr-pre-consultation|1.0.0"
_hpr = itertools.count(9_100_001)


@pytest.fixture
def worlds(client: TestClient, server: FhirServer) -> Iterator[list[World]]:
    ensure_subscriptions(server)
    yield [World(client, server) for _ in range(4)]
    client.delete("/fhir/Subscription/registry-appointments")


def _at(server: FhirServer, moment: datetime) -> None:
    server.clock = lambda: moment  # type: ignore[method-assign]


def _ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [
        f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"] if e["search"]["mode"] == mode
    ]


def _baseline(world: World) -> dict[str, Any]:
    (task,) = [t for t in world.tasks(world.episodes()[0]) if t["code"]["coding"][0]["code"] == "baseline"]
    return task


def test_the_call_list_holds_the_units_unanswered_baseline_forms_soonest_first(worlds, server, client):
    late, soon, answered, not_yet_sent = worlds
    late.push("2026-12-22T10:00", registry="opr")  # OPR: the baseline goes out at booking (P1)
    soon.push("2026-12-15T08:00", registry="opr")
    answered.push("2026-12-16T10:00", registry="opr")
    not_yet_sent.push("2027-02-01T10:00")  # NNRR: due 16 days before
    activate_due(server, oslo("2026-11-01T12:05"))
    done = _baseline(answered)
    client.put(f"/fhir/Task/{done['id']}", json={**done, "status": "completed"})
    soon_task, late_task = _baseline(soon), _baseline(late)
    clerk = bearer(server, "clerk", org=UNIT)
    _at(server, oslo("2026-12-08T09:00"))
    try:
        listed = client.get("/fhir/Task/$call-list", headers=clerk).json()
        mine = [t for t in _ids(listed) if t in (f"Task/{soon_task['id']}", f"Task/{late_task['id']}")]
        assert mine == [f"Task/{soon_task['id']}", f"Task/{late_task['id']}"]  # soonest consultation first
        assert f"Task/{done['id']}" not in _ids(listed)
        included = _ids(listed, "include")
        assert f"Patient/{soon.patient}" in included and f"Appointment/{soon.appointment_id}" in included
        assert [t for t in _ids(listed) if t.endswith(tuple(w.patient for w in worlds))] == []
        within = client.get("/fhir/Task/$call-list", params={"within": "8"}, headers=clerk).json()
        assert f"Task/{soon_task['id']}" in _ids(within) and f"Task/{late_task['id']}" not in _ids(within)
        nnrr = client.get("/fhir/Task/$call-list", params={"registry": "nnrr"}, headers=clerk).json()
        assert f"Task/{soon_task['id']}" not in _ids(nnrr)
        other = client.get("/fhir/Task/$call-list", headers=bearer(server, "clerk", org=OTHER_UNIT)).json()
        assert f"Task/{soon_task['id']}" not in _ids(other)
        named = client.get("/fhir/Task/$call-list", params={"unit": OTHER_UNIT}, headers=clerk)
        assert named.status_code == 403
        admin = client.get("/fhir/Task/$call-list", params={"unit": UNIT}).json()
        assert f"Task/{soon_task['id']}" in _ids(admin)
        _at(server, oslo("2026-12-15T08:00"))  # the consultation has begun: too late to phone
        assert f"Task/{soon_task['id']}" not in _ids(client.get("/fhir/Task/$call-list", headers=clerk).json())
    finally:
        del server.clock
    assert (
        client.get("/fhir/Task/$call-list", headers=bearer(server, "patient", patient="13097248022")).status_code == 403
    )


def _practitioner(client: TestClient, hpr: str) -> str:
    body = {"resourceType": "Practitioner", "identifier": [{"system": HPR_SYSTEM, "value": hpr}]}
    return client.post("/fhir/Practitioner", json=body).json()["id"]


def _draft(client: TestClient, headers: dict[str, str], world: World, author: str, form: str = CLINICIAN_FORM) -> str:
    body = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": form,
        "status": "in-progress",
        "subject": {"reference": f"Patient/{world.patient}"},
        "author": {"reference": f"Practitioner/{author}"},
    }
    if form == CLINICIAN_FORM:
        body["item"] = [{"linkId": "visit-date", "answer": [{"valueDate": "2026-12-01"}]}]  # a draft's minimum (N14)
    response = client.post("/fhir/QuestionnaireResponse", json=body, headers=headers)
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _forms(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {part["name"]: next(v for k, v in part.items() if k.startswith("value")) for part in form["part"]}
        for form in parameters.get("parameter", [])
        if form["name"] == "form"
    ]


def test_unfinished_clinician_forms_per_clinician_and_unit_with_their_age(worlds, server, client):
    first, second, third, _ = worlds
    hpr_a, hpr_b = str(next(_hpr)), str(next(_hpr))
    a, b = _practitioner(client, hpr_a), _practitioner(client, hpr_b)
    as_a = bearer(server, "clinician", org=UNIT, hpr=hpr_a)
    as_b = bearer(server, "clinician", org=UNIT, hpr=hpr_b)
    _at(server, oslo("2026-11-02T10:00"))
    try:
        old = _draft(client, as_a, first, a)
    finally:
        del server.clock
    _at(server, oslo("2026-11-20T10:00"))
    try:
        newer = _draft(client, as_b, second, b)
        patients = _draft(client, as_a, third, a, PATIENT_FORM)  # a patient form is not a clinician form
        deleted = _draft(client, as_a, third, a)
        lead = bearer(server, "local-lead", org=UNIT)
        assert client.delete(f"/fhir/QuestionnaireResponse/{deleted}", headers=lead).status_code in (200, 204)
    finally:
        del server.clock
    _at(server, oslo("2026-12-02T11:00"))
    try:
        unit = _forms(client.get("/fhir/QuestionnaireResponse/$unfinished-forms", headers=as_b).json())
        mine = _forms(client.get("/fhir/QuestionnaireResponse/$unfinished-forms?mine=true", headers=as_a).json())
        theirs = client.get(
            "/fhir/QuestionnaireResponse/$unfinished-forms", params={"author": f"Practitioner/{b}"}, headers=as_a
        ).json()
        other = client.get(
            "/fhir/QuestionnaireResponse/$unfinished-forms", headers=bearer(server, "clinician", org=OTHER_UNIT)
        ).json()
    finally:
        del server.clock
    responses = [f["response"]["reference"] for f in unit]
    ours = [r for r in responses if r in (f"QuestionnaireResponse/{old}", f"QuestionnaireResponse/{newer}")]
    assert ours == [f"QuestionnaireResponse/{old}", f"QuestionnaireResponse/{newer}"]  # oldest first
    assert f"QuestionnaireResponse/{patients}" not in responses and f"QuestionnaireResponse/{deleted}" not in responses
    by_id = {f["response"]["reference"]: f for f in unit}
    assert by_id[f"QuestionnaireResponse/{old}"]["ageDays"] == 30
    assert by_id[f"QuestionnaireResponse/{newer}"]["ageDays"] == 12
    assert by_id[f"QuestionnaireResponse/{old}"]["author"] == {"reference": f"Practitioner/{a}"}
    assert [f["response"]["reference"] for f in mine] == [f"QuestionnaireResponse/{old}"]
    assert [f["response"]["reference"] for f in _forms(theirs)] == [f"QuestionnaireResponse/{newer}"]
    assert f"QuestionnaireResponse/{old}" not in [f["response"]["reference"] for f in _forms(other)]
    total = next(p["valueInteger"] for p in theirs["parameter"] if p["name"] == "total")
    assert total == 1


def test_an_episodes_own_draft_is_unfinished_once_its_consultation_has_passed(worlds, server, client):
    """N5 + N13: the clinician form a booked episode starts with is not chased before the consultation."""
    world = worlds[0]
    world.push("2026-12-20T10:00")
    (draft,) = world.drafts(world.episodes()[0])
    lead = bearer(server, "local-lead", org=UNIT)

    def listed(at: str) -> dict[str, Any] | None:
        _at(server, oslo(at))
        try:
            forms = _forms(client.get("/fhir/QuestionnaireResponse/$unfinished-forms", headers=lead).json())
        finally:
            del server.clock
        return next((f for f in forms if f["response"]["reference"] == f"QuestionnaireResponse/{draft['id']}"), None)

    assert listed("2026-12-20T09:59") is None
    found = listed("2026-12-27T10:00")
    assert found is not None and found["episode"] == {"reference": f"EpisodeOfCare/{world.episodes()[0]['id']}"}
    assert found["consultation"].startswith("2026-12-20T09:00:00")  # UTC
    assert "author" not in found  # nobody has started it: the unit's, not a clinician's
