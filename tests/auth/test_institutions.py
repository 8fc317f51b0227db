"""Per-institution isolation (N20): a unit's users see and change only their unit's data, through every
interaction — reads, histories, searches and their totals, includes, chains, _has, compartments, conditional
interactions, transactions — and another unit's resource is not found. Roles bound what each may do."""

from __future__ import annotations

import random

import pytest

from fhir_server.auth.ownership import OWNER_SYSTEM, owners
from fhir_server.norway.identifiers import FNR_SYSTEM
from tests.conftest import bearer
from tests.rest.helpers import unique, unique_fnr

JSON_PATCH = {"Content-Type": "application/json-patch+json"}
STAFF = ("clinician", "local-lead", "clerk", "ehr")


def _unit() -> str:
    return str(random.Random(unique("unit")).randrange(800_000_000, 999_999_999))  # a fresh orgnr per test


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {e["resource"]["id"] for e in response.json().get("entry", []) if e["search"]["mode"] == "match"}


def _included(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {e["resource"]["id"] for e in response.json().get("entry", []) if e["search"]["mode"] == "include"}


def _made(response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


class World:
    """Units A and B. One person is a patient of both (registered by A, claimed by B by FNR); each unit has an
    appointment, an episode, a Task and a completed response for that person, written by its own staff. A's
    Task focuses B's response (a reference across units, as a careless client might write it)."""

    def __init__(self, client, server) -> None:
        self.client, self.server = client, server
        self.a, self.b = _unit(), _unit()
        self.fnr = unique_fnr()
        self.tag = unique("tag")  # on everything here: searches below count only this world's resources
        person = {"resourceType": "Patient", "identifier": [{"system": FNR_SYSTEM, "value": self.fnr}]}
        person = self.tagged(person)
        self.patient = _made(client.post("/fhir/Patient", json=person, headers=self.staff("clerk", self.a)))
        claimed = client.post(
            "/fhir/Patient",
            json=person,
            headers=self.staff("clerk", self.b) | {"If-None-Exist": f"identifier={FNR_SYSTEM}|{self.fnr}"},
        )
        assert claimed.status_code == 200 and claimed.json()["id"] == self.patient["id"], claimed.text
        self.made: dict[str, dict[str, dict]] = {}
        for unit in (self.a, self.b):
            self.made[unit] = self._unit_data(unit)
        a_task = self.made[self.a]["Task"]
        focus = {"reference": f"QuestionnaireResponse/{self.made[self.b]['QuestionnaireResponse']['id']}"}
        self.made[self.a]["Task"] = _made(
            client.put(
                f"/fhir/Task/{a_task['id']}", json={**a_task, "focus": focus}, headers=self.staff("clinician", self.a)
            )
        )

    def tagged(self, resource: dict) -> dict:
        return {**resource, "meta": {"tag": [{"system": "urn:test", "code": self.tag}]}}

    def staff(self, role: str, unit: str) -> dict[str, str]:
        return bearer(self.server, role, org=unit)

    def _unit_data(self, unit: str) -> dict[str, dict]:
        """An appointment (pushed by the unit's EHR), an episode, a completed response and a Task (its clinician's)."""
        subject = {"reference": f"Patient/{self.patient['id']}"}
        bodies = {
            "Appointment": {
                "status": "booked",
                "identifier": [{"system": "urn:test:appointment", "value": unique("appt")}],
                "participant": [{"actor": subject, "status": "accepted"}],
            },
            "EpisodeOfCare": {"status": "active", "patient": subject},
            "QuestionnaireResponse": {"status": "completed", "subject": subject},
            "Task": {
                "status": "ready",
                "intent": "order",
                "for": subject,
                "identifier": [{"system": "urn:test:task", "value": unique("task")}],
            },
        }
        made: dict[str, dict] = {}
        for kind, body in bodies.items():
            writer = self.staff("ehr" if kind == "Appointment" else "clinician", unit)
            made[kind] = _made(
                self.client.post(f"/fhir/{kind}", json=self.tagged({"resourceType": kind, **body}), headers=writer)
            )
        return made

    def id(self, unit: str, kind: str) -> str:
        return self.made[unit][kind]["id"]


@pytest.fixture
def world(client, server) -> World:
    return World(client, server)


def test_writes_are_labelled_with_the_writers_unit(client, world):
    a, b = world.a, world.b
    for kind in ("Appointment", "EpisodeOfCare", "QuestionnaireResponse", "Task"):
        assert owners(world.made[a][kind]) == {a}, kind
        assert owners(world.made[b][kind]) == {b}, kind
    assert owners(client.get(f"/fhir/Patient/{world.patient['id']}").json()) == {a, b}  # claimed by B
    # a client can neither give its resource to another unit nor take one
    label = {"system": OWNER_SYSTEM, "code": b}
    task = {"resourceType": "Task", "status": "draft", "intent": "order", "meta": {"security": [label]}}
    made = _made(client.post("/fhir/Task", json=task, headers=world.staff("clinician", a)))
    assert owners(made) == {a}
    stolen = client.put(
        f"/fhir/Task/{made['id']}", json={**made, "meta": {"security": [label]}}, headers=world.staff("clinician", a)
    )
    assert owners(_made(stolen)) == {a}
    # repeated pushes of the same content stay one version, labels and all
    appointment = world.made[a]["Appointment"]
    pushed = {k: v for k, v in appointment.items() if k != "meta"} | {"meta": {"tag": appointment["meta"]["tag"]}}
    again = client.put(f"/fhir/Appointment/{appointment['id']}", json=pushed, headers=world.staff("ehr", a))
    assert _made(again)["meta"]["versionId"] == appointment["meta"]["versionId"]


@pytest.mark.parametrize("role", STAFF)
def test_another_units_resource_is_not_found(client, world, role):
    a, b = world.a, world.b
    me = world.staff(role, a)
    kind = "Task" if role != "clerk" else "EpisodeOfCare"
    mine, theirs = world.id(a, kind), world.id(b, kind)
    assert client.get(f"/fhir/{kind}/{mine}", headers=me).status_code == 200
    for url in (f"/fhir/{kind}/{theirs}", f"/fhir/{kind}/{theirs}/_history/1", f"/fhir/{kind}/{theirs}/_history"):
        refused = client.get(url, headers=me)
        assert refused.status_code == 404, (url, refused.text)
    assert _ids(client.get(f"/fhir/{kind}?_tag={world.tag}&_count=100", headers=me)) == {mine}
    counted = client.get(f"/fhir/{kind}?_tag={world.tag}&_total=accurate&_count=0", headers=me).json()
    assert counted["total"] == 1  # totals count the unit's rows only
    assert _ids(client.get(f"/fhir/Patient?_tag={world.tag}", headers=me)) == {world.patient["id"]}


#: A type each staff role may update, patch and delete (the clinician deletes episodes only).
WRITABLE = {"ehr": "Appointment", "clerk": "EpisodeOfCare", "clinician": "EpisodeOfCare", "local-lead": "Task"}


@pytest.mark.parametrize("role", STAFF)
def test_each_role_changes_its_own_units_resources_only(client, world, role):
    a, b = world.a, world.b
    me, kind = world.staff(role, a), WRITABLE[role]
    if role == "clerk":  # clerks change episodes but do not delete them
        kind = "EpisodeOfCare"
    mine, theirs = world.made[a][kind], world.made[b][kind]
    remark = [{"op": "add", "path": "/language", "value": "nb"}]
    for target, expected in ((theirs, 404), (mine, 200)):
        path = f"/fhir/{kind}/{target['id']}"
        changed = client.put(path, json={k: v for k, v in target.items() if k != "meta"}, headers=me)
        assert changed.status_code == expected, (role, kind, changed.text)
        assert client.patch(path, json=remark, headers=me | JSON_PATCH).status_code == expected, (role, kind)
    assert client.get(f"/fhir/{kind}/{theirs['id']}").json()["meta"]["versionId"] == theirs["meta"]["versionId"]
    if role != "clerk":
        assert client.delete(f"/fhir/{kind}/{theirs['id']}", headers=me).status_code == 404
        assert client.delete(f"/fhir/{kind}/{mine['id']}", headers=me).status_code == 204
        assert client.get(f"/fhir/{kind}/{theirs['id']}").status_code == 200  # B's is still there


def test_changes_to_another_units_resource_are_not_found_and_change_nothing(client, world):
    a, b = world.a, world.b
    me = world.staff("local-lead", a)
    theirs = world.made[b]["Task"]
    path = f"/fhir/Task/{theirs['id']}"
    assert client.put(path, json={**theirs, "status": "cancelled"}, headers=me).status_code == 404
    patch = [{"op": "test", "path": "/status", "value": "ready"}]  # a patch's test op must not probe content
    assert client.patch(path, json=patch, headers=me | JSON_PATCH).status_code == 404
    assert client.delete(path, headers=me).status_code == 404
    # conditional interactions look only at the unit's own resources
    criteria = f"identifier=urn:test:task|{theirs['identifier'][0]['value']}"
    assert client.delete(f"/fhir/Task?{criteria}", headers=me).status_code == 204
    assert client.patch(f"/fhir/Task?{criteria}", json=patch, headers=me | JSON_PATCH).status_code == 404
    unchanged = client.get(path).json()
    assert unchanged["meta"]["versionId"] == theirs["meta"]["versionId"] and unchanged["status"] == "ready"
    # a conditional update that finds none of the unit's own creates the unit's own (never touches B's)
    copy = {k: v for k, v in theirs.items() if k not in ("id", "meta")} | {"status": "draft"}
    created = client.put(f"/fhir/Task?{criteria}", json=copy, headers=me)
    assert created.status_code == 201 and created.json()["id"] != theirs["id"]
    assert owners(created.json()) == {a}


def test_includes_chains_and_has_never_reach_another_unit(client, world):
    a, b = world.a, world.b
    me = world.staff("clinician", a)
    task_a, response_b = world.id(a, "Task"), world.id(b, "QuestionnaireResponse")
    found = client.get(f"/fhir/Task?_id={task_a}&_include=Task:focus", headers=me)
    assert _ids(found) == {task_a} and _included(found) == set()
    assert _included(client.get(f"/fhir/Task?_id={task_a}&_include=Task:focus", headers=None)) == {response_b}
    patient = world.patient["id"]
    revinclude = client.get(f"/fhir/Patient?_id={patient}&_revinclude=Task:patient", headers=me)
    assert _included(revinclude) == {task_a}
    iterate = client.get(
        f"/fhir/Patient?_id={patient}&_revinclude=Task:patient&_include:iterate=Task:focus", headers=me
    )
    assert response_b not in _included(iterate)
    # a chain through B's response: A's Task points at it, but A cannot see what it says
    assert _ids(client.get("/fhir/Task?focus:QuestionnaireResponse.status=completed", headers=me)) == set()
    assert _ids(client.get("/fhir/Task?focus:QuestionnaireResponse.status=completed")) >= {task_a}
    # _has through B's rows: the shared patient has a completed response at each unit; A sees its own only
    client.put(
        f"/fhir/QuestionnaireResponse/{world.id(a, 'QuestionnaireResponse')}",
        json={**world.made[a]["QuestionnaireResponse"], "status": "amended"},
    )
    has = f"/fhir/Patient?_tag={world.tag}&_has:QuestionnaireResponse:subject:status=completed"
    assert _ids(client.get(has, headers=me)) == set()
    assert _ids(client.get(has)) == {patient}
    episode_a = world.id(a, "EpisodeOfCare")
    compartment = client.get(f"/fhir/Patient/{patient}/EpisodeOfCare", headers=me)
    assert _ids(compartment) == {episode_a}
    everything = _ids(client.get(f"/fhir/Patient/{patient}/*?_count=100", headers=me))
    assert everything >= {patient, episode_a, world.id(a, "Appointment")}
    assert not everything & {world.id(b, kind) for kind in world.made[b]}
    across = _ids(client.get(f"/fhir?_type=Task,EpisodeOfCare&_tag={world.tag}", headers=me))
    assert across == {task_a, world.id(a, "EpisodeOfCare")}


def test_histories_show_only_the_units_own(client, world):
    a, b = world.a, world.b
    me = world.staff("local-lead", a)
    for path in ("/fhir/Task/_history?_count=500", "/fhir/_history?_count=500"):
        seen = {e["resource"]["id"] for e in client.get(path, headers=me).json().get("entry", []) if "resource" in e}
        assert world.id(a, "Task") in seen
        assert not seen & {world.id(b, kind) for kind in world.made[b]}, path


def _transaction(*entries: tuple[dict, str, str]) -> dict:
    """A transaction Bundle of (resource, method, url) entries."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": r, "request": {"method": m, "url": u}} for r, m, u in entries],
    }


def _draft_task(**extra) -> dict:
    return {"resourceType": "Task", "status": "draft", "intent": "order", **extra}


def test_transactions_cannot_reach_another_unit(client, world):
    a, b = world.a, world.b
    me = world.staff("local-lead", a)
    theirs = world.made[b]["Task"]
    marker = unique("tx")
    mine = _draft_task(identifier=[{"system": "urn:test:task", "value": marker}])
    bundle = _transaction((mine, "POST", "Task"), ({**theirs, "status": "cancelled"}, "PUT", f"Task/{theirs['id']}"))
    refused = client.post("/fhir", json=bundle, headers=me)
    assert refused.status_code == 404, refused.text
    assert not client.get(f"/fhir/Task?identifier=urn:test:task|{marker}").json().get("entry")  # nothing written
    assert client.get(f"/fhir/Task/{theirs['id']}").json()["status"] == "ready"
    # a conditional reference by something other than the national number finds only the unit's own
    b_only = _made(
        client.post(
            "/fhir/Patient",
            json={"resourceType": "Patient", "identifier": [{"system": "urn:test:mrn", "value": marker}]},
            headers=world.staff("clerk", b),
        )
    )
    linked = _draft_task(**{"for": {"reference": f"Patient?identifier=urn:test:mrn|{marker}"}})
    assert client.post("/fhir", json=_transaction((linked, "POST", "Task")), headers=me).status_code == 412
    assert owners(client.get(f"/fhir/Patient/{b_only['id']}").json()) == {b}  # not claimed


def test_roles_bound_what_a_unit_user_does(client, server, world):
    a = world.a
    questionnaire = {"resourceType": "Questionnaire", "status": "active", "url": f"urn:test:{unique('q')}"}
    assert client.post("/fhir/Questionnaire", json=questionnaire).status_code == 201  # the registry admin
    for role in STAFF:
        me = world.staff(role, a)
        assert client.get("/fhir/Questionnaire?_count=1", headers=me).status_code == 200, role  # shared
        assert client.post("/fhir/Questionnaire", json=questionnaire, headers=me).status_code == 403, role
    clerk, ehr, clinician = (world.staff(r, a) for r in ("clerk", "ehr", "clinician"))
    assert client.get("/fhir/Observation", headers=clerk).status_code == 403  # no clinical findings
    assert client.get("/fhir/QuestionnaireResponse", headers=ehr).status_code == 403
    assert client.get("/fhir/Task?_include=Task:focus:QuestionnaireResponse", headers=ehr).status_code == 403
    assert client.delete(f"/fhir/Task/{world.id(a, 'Task')}", headers=clinician).status_code == 403
    assert client.delete(f"/fhir/EpisodeOfCare/{world.id(a, 'EpisodeOfCare')}", headers=clinician).status_code == 204
    assert client.delete(f"/fhir/Task/{world.id(a, 'Task')}", headers=world.staff("local-lead", a)).status_code == 204
    unbound = bearer(server, "clinician")  # acts for no unit
    refused = client.get("/fhir/Task", headers=unbound)
    assert refused.status_code == 403 and "names none" in refused.text


def test_the_registry_administration_sees_every_unit(client, world):
    found = _ids(client.get(f"/fhir/Task?_tag={world.tag}"))
    assert found == {world.id(world.a, "Task"), world.id(world.b, "Task")}


def test_a_unit_never_learns_which_other_units_treat_a_person(client, world):
    """The shared patient is owned by A and B; A's user sees only A's label — in a read, a search, an include, a
    history, a write's answer, a transaction's — and cannot search or sort by labels."""
    a, b = world.a, world.b
    me = world.staff("clerk", a)
    patient = world.patient["id"]
    assert owners(client.get(f"/fhir/Patient/{patient}").json()) == {a, b}  # the administration sees both
    read = client.get(f"/fhir/Patient/{patient}", headers=me).json()
    assert owners(read) == {a}
    found = client.get(
        f"/fhir/EpisodeOfCare?_id={world.id(a, 'EpisodeOfCare')}&_include=EpisodeOfCare:patient", headers=me
    )
    assert all(owners(e["resource"]) <= {a} for e in found.json()["entry"]) and len(found.json()["entry"]) == 2
    history = client.get(f"/fhir/Patient/{patient}/_history", headers=me).json()
    assert all(owners(e["resource"]) <= {a} for e in history["entry"] if "resource" in e)
    updated = client.put(f"/fhir/Patient/{patient}", json={**read, "gender": "female"}, headers=me)
    assert owners(_made(updated)) == {a}
    assert owners(client.get(f"/fhir/Patient/{patient}").json()) == {a, b}  # B still owns it
    person = {"resourceType": "Patient", "identifier": [{"system": FNR_SYSTEM, "value": world.fnr}]}
    bundle = _transaction((person, "POST", "Patient"))
    bundle["entry"][0]["request"]["ifNoneExist"] = f"identifier={FNR_SYSTEM}|{world.fnr}"
    claimed = client.post("/fhir", json=bundle, headers=me | {"Prefer": "return=representation"})
    assert claimed.status_code == 200, claimed.text
    answered = claimed.json()["entry"][0]
    assert answered["response"]["status"].startswith("200") and owners(answered["resource"]) == {a}
    for query in (
        f"_security={OWNER_SYSTEM}|{b}",
        f"_security={b}",
        f"subject:Patient._security={b}",
        "_sort=_security",
    ):
        kind = "EpisodeOfCare" if "subject" not in query else "QuestionnaireResponse"
        assert client.get(f"/fhir/{kind}?{query}", headers=me).status_code == 403, query
    probe = {"If-None-Exist": f"identifier={FNR_SYSTEM}|{world.fnr}&_security={b}"}
    assert client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=me | probe).status_code == 403
