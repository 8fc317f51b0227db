"""Follow-up forms (N21; P3, P5): each follow-up action of the registry's PlanDefinition is due at its anchor plus
its offset — NNRR 6 and 12 months after the visit date; OPR 3, 6 and 12 months after each RF/SCS procedure, 12
months after the episode ends, and every 12 months while it is still in treatment.

``ensure(episode)`` is idempotent: every form has a key (episode, action, anchor, occurrence) kept as a Task
identifier, so a form is created once; one not yet sent follows its anchor when that moves (a corrected visit
date). A form whose applicability conditions fail (P4: under 18 on the due date, an exclusion recorded on the
episode) or whose patient has opted out of questionnaires (R4) is recorded as excluded with the reason instead of
being sent. Ending the episode withdraws the unsent in-treatment forms; deleting it (``entered-in-error``)
withdraws every unsent form.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import fhirpathpy

from fhir_server.auth.ownership import owners
from fhir_server.rest.context import Context
from fhir_server.rest.versioning import instant
from fhir_server.storage.locks import serialise
from fhir_server.storage.store import StoredVersion
from fhir_server.subscriptions.channels.task import exactly_once, exactly_once_each, subscriber
from workers.registry.definitions import REGISTRY_EXTENSION, Condition, FormAction, Offset, RegistryDefinition
from workers.registry.forms import FORM_KEY, excluded_fields, form_task, open_period, withdraw_episode_forms
from workers.registry.records import (
    RESERVATION,
    UNSENT,
    episode_ids,
    extension_values,
    find,
    first_extension_value,
    parse_instant,
    reserved_patients,
    update,
)
from workers.registry.registries import registries
from workers.registry.rules import Rules
from workers.registry.timing import add, at_hour, due_from_date, local_date

EPISODES = "ryggrad.registry.episode"
PROCEDURES = "ryggrad.registry.procedure"
SD = "https://ryggrad.no/fhir/StructureDefinition/"
VISIT_DATE = SD + "visit-date"
FOLLOW_UP_EXCLUSION = SD + "follow-up-exclusion"
_compiled: dict[str, Any] = {}

#: A completed response this long before a follow-up's due time (or later, within its answering time) answers it:
#: the form is not sent again.
ANSWERED_BEFORE = timedelta(days=30)


@subscriber(EPISODES, batch=True)
def on_episodes(server: Any, payloads: list[dict[str, Any]]) -> None:
    with exactly_once_each(server, payloads) as (ctx, fresh):
        follow_ups = FollowUps(ctx)
        for episode_id in dict.fromkeys(p["id"] for p in fresh):
            follow_ups.ensure(episode_id)


@subscriber(PROCEDURES)
def on_procedure(server: Any, payload: dict[str, Any]) -> None:
    with exactly_once(server, payload) as ctx:
        if ctx is None:
            return
        for episode_id in episode_ids(payload.get("resource") or {}):
            FollowUps(ctx).ensure(episode_id)


def _date(text: Any) -> date | None:
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class Occurrence:
    key: str
    due: datetime  # when it is sent: its time, or the next forenoon if that has passed when it is scheduled
    time: datetime  # its time by the rule (anchor + offset at the send hour)


class FollowUps:
    def __init__(self, ctx: Context, now: datetime | None = None) -> None:
        self.ctx = ctx
        self.rules = Rules.of(ctx.server.settings)
        self.zone, self.hour = self.rules.zone, self.rules.send_hour
        self.now = now or ctx.server.clock()
        self._reserved: set[str] | None = None  # patients who opted out (R4), read once

    def registry_of(self, episode: dict[str, Any]) -> RegistryDefinition | None:
        codes = [c.get("code") for c in extension_values(episode, REGISTRY_EXTENSION, "valueCoding") if c]
        return registries(self.ctx.server).get(str(codes[0])) if codes else None

    @staticmethod
    def action_of(task: StoredVersion, registry: RegistryDefinition) -> FormAction | None:
        """The PlanDefinition action a Task is the form of (its ``code.text``)."""
        action_id = ((task.content or {}).get("code") or {}).get("text")
        return next((a for a in registry.actions if a.id == action_id), None)

    def ensure(self, episode_id: str) -> None:
        # the episodes' and procedures' subscribers and the scheduler may all look at one episode at once: one at a
        # time, each seeing the forms the one before it scheduled (a form key must not get two Tasks)
        serialise(self.ctx.conn, self.ctx.server.db.is_postgres, f"registry-follow-ups:EpisodeOfCare/{episode_id}")
        episode = self.ctx.store.current("EpisodeOfCare", episode_id)
        if episode is None or episode.deleted or episode.content is None:
            return
        content = episode.content
        registry = self.registry_of(content)
        if registry is None:
            return
        status = content.get("status")
        if status == "entered-in-error":  # deleted by staff (N19) or by the appointment workflow (N11, N12)
            withdraw_episode_forms(self.ctx, episode_id, "the episode was deleted")
            return
        due = [(a, o) for a in registry.actions if a.kind == "follow-up" for o in self.occurrences(episode, a)]
        if status != "finished" and not due:
            return  # nothing to withdraw or schedule (an episode before its visit, say): its Tasks are not read
        tasks = self.tasks(episode_id)
        if status == "finished":
            in_treatment = [t for t in tasks if (a := self.action_of(t, registry)) and a.anchor == "episode-start"]
            self.withdraw(in_treatment, "the episode has ended")
        by_key = {key: t for t in tasks for key in self._keys(t)}
        for action, occurrence in due:
            existing = by_key.get(occurrence.key)
            if existing is None:
                self.create(episode, registry, action, occurrence)
            elif (existing.content or {}).get("status") in UNSENT:
                excluded = self.exclusion(episode, action, occurrence.due)
                if excluded is not None:  # recorded after the form was scheduled
                    self.exclude(existing, excluded)
                else:
                    self.follow_anchor(existing, occurrence)

    def tasks(self, episode_id: str) -> list[StoredVersion]:
        """The episode's forms."""
        return find(self.ctx, "Task", [("episode", f"EpisodeOfCare/{episode_id}")], limit=1000)

    # -- when -------------------------------------------------------------------------------------------------------
    def occurrences(self, episode: StoredVersion, action: FormAction) -> list[Occurrence]:
        content = episode.content or {}
        status = content.get("status")
        period = content.get("period") or {}
        base = f"{episode.id}/{action.id}"
        if action.anchor == "visit-date":
            visit = _date(first_extension_value(content, VISIT_DATE, "valueDate"))
            return [self.occurrence(base, visit, action.offset)] if visit else []
        if action.anchor == "procedure-date":
            found = []
            for procedure in find(self.ctx, "Procedure", [("episode", f"EpisodeOfCare/{episode.id}")]):
                performed = (procedure.content or {}).get("performedDateTime") or (
                    (procedure.content or {}).get("performedPeriod") or {}
                ).get("start")
                day = _date(performed)
                if day and (procedure.content or {}).get("status") == "completed":
                    found.append(self.occurrence(f"{base}/{procedure.id}", day, action.offset))
            return found
        if action.anchor == "episode-end":
            end = _date(period.get("end"))
            return [self.occurrence(base, end, action.offset)] if status == "finished" and end else []
        if action.anchor == "episode-start":
            start = _date(period.get("start"))
            if start is None or status not in ("planned", "active", "waitlist", "onhold"):
                return []
            found = [self.occurrence(f"{base}/1", start, action.offset)]
            while action.repeat is not None and found[-1].time <= self.now:  # the next once the last one's time came
                n = len(found) + 1
                offset = Offset(action.offset.value + (n - 1) * self._months(action.repeat), "mo")
                found.append(self.occurrence(f"{base}/{n}", start, offset))
            return found
        return []

    @staticmethod
    def _months(offset: Offset) -> int:
        return offset.value * 12 if offset.unit == "a" else offset.value if offset.unit == "mo" else offset.value // 30

    def occurrence(self, key: str, anchor: date, offset: Offset) -> Occurrence:
        time = at_hour(add(anchor, offset), self.hour, self.zone)
        return Occurrence(key, due_from_date(anchor, offset, self.now, self.hour, self.zone), time)

    # -- whether ----------------------------------------------------------------------------------------------------
    def exclusion(self, episode: StoredVersion, action: FormAction, due: datetime) -> tuple[str, str] | None:
        content = episode.content or {}
        patient_ref = str((content.get("patient") or {}).get("reference") or "")
        patient = None
        if patient_ref.startswith("Patient/"):
            found = self.ctx.store.current("Patient", patient_ref.split("/", 1)[1])
            patient = found.content if found is not None and not found.deleted else None
        if self._reserved is None:
            self._reserved = reserved_patients(self.ctx)
        if patient_ref in self._reserved:
            return RESERVATION
        exclusions = [c.get("code") for c in extension_values(content, FOLLOW_UP_EXCLUSION, "valueCoding") if c]
        environment = {
            "age": self.age(patient, local_date(due, self.zone)),
            "exclusions": [str(c) for c in exclusions if c],
            "patient": patient or {},
            "episode": content,
        }
        for condition in action.conditions:
            if not self.holds(condition, environment):
                code = "under-18" if condition.name == "under-18" else (exclusions[0] if exclusions else condition.name)
                return str(code), condition.description
        return None

    def holds(self, condition: Condition, environment: dict[str, Any]) -> bool:
        compiled = _compiled.get(condition.expression)
        if compiled is None:
            compiled = _compiled[condition.expression] = fhirpathpy.compile(condition.expression)
        if condition.name == "under-18" and environment["age"] is None:
            return True  # no birth date: not known to be a child
        return compiled({}, environment) == [True]

    @staticmethod
    def age(patient: dict[str, Any] | None, on: date) -> int | None:
        born = _date((patient or {}).get("birthDate")) if patient else None
        if born is None:
            return None
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    # -- writes -----------------------------------------------------------------------------------------------------
    def create(
        self, episode: StoredVersion, registry: RegistryDefinition, action: FormAction, occurrence: Occurrence
    ) -> None:
        content = episode.content or {}
        if self.answered(episode.id, action, occurrence.due):
            return  # the patient's answers are already there (a paper form keyed in, a registry's history loaded)
        patient = str((content.get("patient") or {}).get("reference") or "")
        form_task(
            self.ctx,
            registry=registry.code,
            episode_id=episode.id,
            action=action,
            patient=patient,
            due=occurrence.due,
            expiry=self.rules.expiry,
            units=owners(content),
            key=occurrence.key,
            excluded=self.exclusion(episode, action, occurrence.due),
        )

    def answered(self, episode_id: str, action: FormAction, due: datetime) -> bool:
        """Whether the episode already holds a completed response to the action's form from around its due time
        (from ``ANSWERED_BEFORE`` before it to the end of its answering time)."""
        form = action.questionnaire.split("|", 1)[0]
        found = find(
            self.ctx,
            "QuestionnaireResponse",
            [("episode", f"EpisodeOfCare/{episode_id}"), ("status", "completed")],
            limit=1000,
        )
        for response in found:
            content = response.content or {}
            authored = parse_instant(content.get("authored"))
            if str(content.get("questionnaire") or "").split("|", 1)[0] != form or authored is None:
                continue
            if due - ANSWERED_BEFORE <= authored <= due + self.rules.expiry:
                return True
        return False

    def follow_anchor(self, task: StoredVersion, occurrence: Occurrence) -> None:
        period = ((task.content or {}).get("restriction") or {}).get("period") or {}
        if period.get("start") == instant(occurrence.due) or str(period.get("start") or "") <= instant(self.now):
            return  # unchanged, or its time has come and the scheduler is about to send it
        content = copy.deepcopy(task.content or {})
        content["restriction"] = open_period(occurrence.due, self.rules.expiry)
        update(self.ctx, task, content)

    def exclude(self, task: StoredVersion, excluded: tuple[str, str]) -> None:
        update(self.ctx, task, {**copy.deepcopy(task.content or {}), **excluded_fields(*excluded)})

    def excluded_now(self, task: StoredVersion) -> tuple[str, str] | None:
        """Whether a form about to be sent has become excluded (the patient opted out, an exclusion was recorded,
        the patient is under 18 on its day): the scheduler asks before sending."""
        for episode_id in episode_ids(task.content or {}):
            episode = self.ctx.store.current("EpisodeOfCare", episode_id)
            registry = self.registry_of(episode.content) if episode is not None and episode.content else None
            action = self.action_of(task, registry) if registry else None
            if episode is not None and action is not None:
                return self.exclusion(episode, action, self.now)
        return None

    def withdraw(self, tasks: list[StoredVersion], reason: str) -> None:
        """Cancel the forms among ``tasks`` not yet sent."""
        for task in tasks:
            content = task.content or {}
            if content.get("status") in UNSENT:
                withdrawn = copy.deepcopy(content)
                withdrawn["status"] = "cancelled"
                withdrawn["statusReason"] = {"text": reason}
                update(self.ctx, task, withdrawn)

    # -- keys ----------------------------------------------------------------------------------------------------
    @staticmethod
    def _keys(task: StoredVersion) -> list[str]:
        return [i["value"] for i in (task.content or {}).get("identifier") or [] if i.get("system") == FORM_KEY]
