"""Parameter values for the search queries, drawn from the loaded data: random resources (seeded, by ``rid``) read
from ``resource.content`` — never from the index tables, which may not be filled yet. Every value is taken from an
existing resource, so each query has at least one match."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, text

from fhir_server.norway.identifiers import FNR_SYSTEM

Content = dict[str, Any]
MAX_ATTEMPTS_PER_VALUE = 200


@dataclass(frozen=True)
class PatientFacts:
    id: str
    fnr: str
    family: str


@dataclass
class Sample:
    """``n`` values of each kind; repetition i of a query uses value i (modulo n)."""

    patients: list[PatientFacts] = field(default_factory=list)
    responders: list[PatientFacts] = field(default_factory=list)  # have QuestionnaireResponses
    episode_patients: list[str] = field(default_factory=list)  # have an EpisodeOfCare (and Tasks)
    observed_patients: list[str] = field(default_factory=list)  # have score Observations
    appointment_days: list[date] = field(default_factory=list)
    booked_days: list[date] = field(default_factory=list)  # a booked Appointment starts that day
    ready_owners: list[str] = field(default_factory=list)  # Organization ids owning a ready Task
    responses: list[tuple[str, date]] = field(default_factory=list)  # (Questionnaire url, authored day)
    scores: list[tuple[str, str, int]] = field(default_factory=list)  # (system, code, value)
    appointment_updates: list[datetime] = field(default_factory=list)  # resource.last_updated


def content_sql(dialect: str) -> str:
    """The content column as JSON text (no parsing in the driver)."""
    return "r.content::text" if dialect == "postgresql" else "r.content"


class _Picker:
    def __init__(self, conn: Connection, rng: random.Random) -> None:
        self.conn = conn
        self.rng = rng
        self.dialect = conn.dialect.name
        self.ranges: dict[str, tuple[int, int] | None] = {}

    def _range(self, resource_type: str) -> tuple[int, int] | None:
        if resource_type not in self.ranges:
            row = self.conn.execute(
                text("SELECT min(rid), max(rid) FROM resource WHERE resource_type = :t"), {"t": resource_type}
            ).one()
            self.ranges[resource_type] = (int(row[0]), int(row[1])) if row[0] is not None else None
        return self.ranges[resource_type]

    def one(self, resource_type: str) -> tuple[Content, datetime] | None:
        bounds = self._range(resource_type)
        if bounds is None:
            return None
        sql = text(
            f"SELECT {content_sql(self.dialect)} AS content, r.last_updated FROM resource r "
            "WHERE r.resource_type = :t AND r.rid >= :rid AND NOT r.deleted ORDER BY r.rid LIMIT 1"
        )
        row = self.conn.execute(sql, {"t": resource_type, "rid": self.rng.randint(*bounds)}).first()
        if row is None:
            return None
        last_updated = row.last_updated
        if isinstance(last_updated, str):  # SQLite
            last_updated = datetime.fromisoformat(last_updated)
        return orjson.loads(row.content), last_updated

    def values(self, n: int, resource_type: str, value: Callable[[Content, datetime], Any | None]) -> list[Any]:
        """``n`` values of ``value`` over random resources of the type (those giving None are skipped)."""
        found: list[Any] = []
        for _ in range(n * MAX_ATTEMPTS_PER_VALUE):
            if len(found) == n:
                break
            picked = self.one(resource_type)
            if picked is None:
                break
            result = value(*picked)
            if result is not None:
                found.append(result)
        return found

    def patient(self, patient_id: str) -> PatientFacts | None:
        sql = text(f"SELECT {content_sql(self.dialect)} AS content FROM resource r WHERE r.resource_type = 'Patient' "
                   "AND r.id = :id")  # fmt: skip
        row = self.conn.execute(sql, {"id": patient_id}).first()
        return _patient_facts(orjson.loads(row.content)) if row else None


def _patient_facts(patient: Content) -> PatientFacts | None:
    fnr = next((i["value"] for i in patient.get("identifier", []) if i.get("system") == FNR_SYSTEM), None)
    family = (patient.get("name") or [{}])[0].get("family")
    return PatientFacts(patient["id"], fnr, family) if fnr and family else None


def _target_id(reference: Content | None, resource_type: str) -> str | None:
    value = (reference or {}).get("reference", "")
    prefix = f"{resource_type}/"
    return value[len(prefix) :] if value.startswith(prefix) else None


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


def draw_sample(conn: Connection, seed: int, n: int) -> Sample:
    """``n`` values of each kind, the same for the same data and seed."""
    pick = _Picker(conn, random.Random(f"ryggrad-bench:{seed}:draws"))
    sample = Sample()
    sample.patients = pick.values(n, "Patient", lambda c, _: _patient_facts(c))
    subjects = pick.values(n, "QuestionnaireResponse", lambda c, _: _target_id(c.get("subject"), "Patient"))
    sample.responders = [f for f in (pick.patient(s) for s in subjects) if f is not None]
    sample.episode_patients = pick.values(n, "EpisodeOfCare", lambda c, _: _target_id(c.get("patient"), "Patient"))
    sample.observed_patients = pick.values(n, "Observation", lambda c, _: _target_id(c.get("subject"), "Patient"))
    sample.appointment_days = pick.values(n, "Appointment", lambda c, _: _day(c["start"]))
    sample.booked_days = pick.values(
        n, "Appointment", lambda c, _: _day(c["start"]) if c.get("status") == "booked" else None
    )
    sample.ready_owners = pick.values(
        n, "Task", lambda c, _: _target_id(c.get("owner"), "Organization") if c.get("status") == "ready" else None
    )
    sample.responses = pick.values(
        n,
        "QuestionnaireResponse",
        lambda c, _: (
            (c["questionnaire"].split("|")[0], _day(c["authored"])) if c.get("status") == "completed" else None
        ),
    )
    sample.scores = pick.values(
        n,
        "Observation",
        lambda c, _: (
            c["code"]["coding"][0]["system"],
            c["code"]["coding"][0]["code"],
            int(c["valueQuantity"]["value"]),
        ),
    )
    sample.appointment_updates = pick.values(n, "Appointment", lambda _, updated: updated)
    return sample


def empty_kinds(sample: Sample) -> list[str]:
    return [name for name, values in vars(sample).items() if not values]
