"""Appointments in, episodes and PROM Tasks out (registry rules N5, N6, N9-N12).

An Appointment for a registry clinic carrying the EHR's registry-potential flag opens an episode (forløp) and the
registry's baseline form as a Task, due per its PlanDefinition (NNRR: 16 days before the consultation at 09:00
Europe/Oslo, N6). The handler always works from the appointment's *current* version, so repeated and out-of-order
pushes converge on the same result, and it acts at most once per event (``exactly_once``).

- Moved before the form was sent: the due time follows the new date (N9).
- Moved after it was sent, by at most ``registry_move_threshold_days``: nothing changes (N10); by more: the old
  episode becomes ``entered-in-error`` and its Task ``cancelled`` with the reason, and a new episode and Task
  start (N11).
- Cancelled, no-show, entered in error, deleted, or no longer flagged: the episode and its Task are removed the
  same way (N12); a later appointment for the same referral starts a new episode.

Each Task records the appointment version it was scheduled from (``basedOn``, a versioned reference), which is how
a later move knows how far the appointment went.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from fhir_server.auth.ownership import owners
from fhir_server.auth.units import unit_by_orgnr
from fhir_server.norway.identifiers import ORGNR_SYSTEM
from fhir_server.rest.context import Context
from fhir_server.rest.versioning import instant
from fhir_server.search.values import escape
from fhir_server.storage.store import StoredVersion
from fhir_server.subscriptions.channels.task import exactly_once_each, subscriber
from workers.registry.definitions import (
    REGISTRY_EXTENSION,
    REGISTRY_SYSTEM,
    TIMEPOINT_SYSTEM,
    FormAction,
    RegistryDefinition,
)
from workers.registry.forms import REMINDER_AT, clinician_draft, form_task, open_period, withdraw_episode_forms
from workers.registry.records import (
    RESERVATION,
    UNSENT,
    create,
    find,
    first_extension_value,
    parse_instant,
    reserved_patients,
    update,
)
from workers.registry.registries import registries
from workers.registry.rules import Rules
from workers.registry.timing import add, at_hour, calendar_days_between, due_from_date, due_from_instant, local_date

NAME = "ryggrad.registry.appointment"
SD = "https://ryggrad.no/fhir/StructureDefinition/"
POTENTIAL = SD + "registry-potential"
REFERRAL_DATE = SD + "referral-date"
EPISODE_PROFILE = SD + "registry-episode-of-care"
OPENED_BY = "https://ryggrad.no/fhir/sid/opening-appointment"  # an episode's identifier: Appointment/<id>

LIVE = frozenset({"booked", "arrived", "checked-in", "fulfilled"})
ATTENDED = frozenset({"arrived", "checked-in", "fulfilled"})
VISIT_DATE = SD + "visit-date"
PLANNED = SD + "planned-consultation"
ENDED = frozenset({"cancelled", "noshow", "entered-in-error"})
SEARCH_CHUNK = 100  # appointments whose episodes one search finds (an OR of at most MAX_UNION index lookups)


@subscriber(NAME, batch=True)
def on_appointments(server: Any, payloads: list[dict[str, Any]]) -> None:
    """A batch of appointment events in one transaction; each appointment once (the handler reads its current
    version, so several events of one appointment need one handling)."""
    with exactly_once_each(server, payloads) as (ctx, fresh):
        AppointmentWorkflow(ctx).handle_all(list(dict.fromkeys(p["id"] for p in fresh)))


def _actor(content: dict[str, Any], resource_type: str) -> str | None:
    for participant in content.get("participant") or []:
        reference = str(((participant or {}).get("actor") or {}).get("reference") or "")
        if reference.startswith(f"{resource_type}/"):
            return reference
    return None


class AppointmentWorkflow:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rules = Rules.of(ctx.server.settings)
        self.zone, self.hour = self.rules.zone, self.rules.send_hour
        self.now = ctx.server.clock()
        self.registries = registries(ctx.server)
        self._organizations: dict[str, str | None] = {}  # orgnr → Organization id, for this batch
        self._reserved: set[str] | None = None  # patients who opted out (R4), read once per batch

    # -- what the appointment says ------------------------------------------------------------------------------
    def registry_of(self, appointment: dict[str, Any]) -> RegistryDefinition | None:
        coding = first_extension_value(appointment, POTENTIAL, "valueCoding")
        if not isinstance(coding, dict) or coding.get("system") != REGISTRY_SYSTEM:
            return None
        return self.registries.get(str(coding.get("code")))

    def units(self, appointment: dict[str, Any]) -> set[str]:
        """The units the appointment belongs to: its owners (the EHR's unit), or its location's organisation."""
        found = owners(appointment)
        if found:
            return found
        location = _actor(appointment, "Location")
        if location:
            current = self.ctx.store.current("Location", location.split("/", 1)[1])
            managing = ((current.content or {}).get("managingOrganization") or {}) if current else {}
            reference = str(managing.get("reference") or "")
            if reference.startswith("Organization/"):
                organization = self.ctx.store.current("Organization", reference.split("/", 1)[1])
                for identifier in (organization.content or {}).get("identifier") or [] if organization else []:
                    if identifier.get("system") == ORGNR_SYSTEM and identifier.get("value"):
                        return {str(identifier["value"])}
        return set()

    # -- the rules ------------------------------------------------------------------------------------------------
    def handle_all(self, appointment_ids: list[str]) -> None:
        """Each appointment (once), their live episodes found first, by one search for the batch: handling one
        appointment touches no other appointment's episodes."""
        episodes = self.live_episodes(appointment_ids)
        for appointment_id in appointment_ids:
            self.handle(appointment_id, episodes.get(appointment_id))

    def handle(self, appointment_id: str, episode: StoredVersion | None) -> None:
        """The rules for one appointment, whose live episode (if any) is ``episode``."""
        current = self.ctx.store.current("Appointment", appointment_id)
        appointment = current.content if current is not None and not current.deleted else None
        registry = self.registry_of(appointment) if appointment else None
        status = (appointment or {}).get("status")
        if appointment is None or status in ENDED or registry is None:
            if episode is not None:
                reason = "the appointment was deleted" if appointment is None else f"the appointment is {status}"
                self.remove(episode, f"{reason} (N12)" if registry else "the appointment is no longer flagged")
            return
        start = parse_instant(appointment.get("start"))
        if status not in LIVE or start is None or _actor(appointment, "Patient") is None:
            return
        assert current is not None
        if episode is None:
            opened = self.open(current, registry, start)
            if status in ATTENDED:  # pushed only once the patient had come
                self.record_visit(opened, start)
            return
        if status in ATTENDED:
            self.record_visit(episode, start)
        task = self.baseline_task(episode)
        moved_to = start  # the episode keeps the planned date while it stands (N9, N10)
        if task is None:
            return
        scheduled_from = self.scheduled_start(task)
        if scheduled_from is None or scheduled_from == start:
            return
        if task.content and task.content.get("status") in UNSENT:  # N9: not sent yet: the new date decides
            self.reschedule(task, current, registry, start)
            self.plan_consultation(episode, moved_to)
            return
        threshold = self.rules.move_threshold_days
        if calendar_days_between(scheduled_from, start, self.zone) <= threshold:
            self.plan_consultation(episode, moved_to)
            return  # N10: sent, moved a little: the forms stay as they are
        self.remove(episode, f"the appointment moved more than {threshold} days after the form was sent (N11)")
        self.open(current, registry, start)

    def live_episodes(self, appointment_ids: list[str]) -> dict[str, StoredVersion]:
        """Appointment id → the last episode it opened that is not ``entered-in-error`` (where there is one)."""
        live: dict[str, StoredVersion] = {}
        for start in range(0, len(appointment_ids), SEARCH_CHUNK):
            chunk = appointment_ids[start : start + SEARCH_CHUNK]
            values = ",".join(f"{escape(OPENED_BY)}|{escape(f'Appointment/{a}')}" for a in chunk)
            for episode in find(self.ctx, "EpisodeOfCare", [("identifier", values)], limit=100 * len(chunk)):
                content = episode.content or {}
                if content.get("status") == "entered-in-error":
                    continue
                for identifier in content.get("identifier") or []:
                    value = str(identifier.get("value") or "")
                    if identifier.get("system") == OPENED_BY and value.startswith("Appointment/"):
                        live[value.split("/", 1)[1]] = episode  # found in rid order: the last one stays
        return live

    def baseline_task(self, episode: StoredVersion) -> StoredVersion | None:
        tasks = find(
            self.ctx, "Task", [("episode", f"EpisodeOfCare/{episode.id}"), ("code", f"{TIMEPOINT_SYSTEM}|baseline")]
        )
        live = [t for t in tasks if (t.content or {}).get("status") not in ("cancelled", "entered-in-error")]
        return live[-1] if live else None

    def scheduled_start(self, task: StoredVersion) -> datetime | None:
        """The start of the appointment version the Task was scheduled from."""
        for based_on in (task.content or {}).get("basedOn") or []:
            parts = str(based_on.get("reference") or "").split("/")
            if len(parts) == 4 and parts[0] == "Appointment" and parts[2] == "_history" and parts[3].isdigit():
                version = self.ctx.store.version("Appointment", parts[1], int(parts[3]))
                if version is not None and version.content is not None:
                    return parse_instant(version.content.get("start"))
        return None

    def reminder_at(self, action: FormAction, start: datetime, due: datetime) -> datetime | None:
        """P1: the reminder, counted from the appointment's start at the send hour; none when that is not after
        the form itself goes out."""
        if action.reminder is None:
            return None
        at = at_hour(add(local_date(start, self.zone), action.reminder), self.hour, self.zone)
        return at if at > due and at > self.now else None

    def due(self, action: FormAction, start: datetime) -> datetime:
        if action.anchor == "booking":
            return due_from_instant(self.now, action.offset, self.now)
        return due_from_date(local_date(start, self.zone), action.offset, self.now, self.hour, self.zone)

    # -- writes ----------------------------------------------------------------------------------------------------
    def open(self, appointment: StoredVersion, registry: RegistryDefinition, start: datetime) -> StoredVersion:
        """N5: an episode and the baseline form's Task, both owned by the appointment's unit."""
        content = appointment.content or {}
        units = self.units(content)
        organization = None
        for unit in sorted(units):
            if unit not in self._organizations:
                found = unit_by_orgnr(self.ctx.conn, unit)
                self._organizations[unit] = found.organization_id if found is not None else None
            if self._organizations[unit]:
                organization = f"Organization/{self._organizations[unit]}"
                break
        patient = _actor(content, "Patient")
        registry_coding = {"system": REGISTRY_SYSTEM, "code": registry.code}
        extensions = [{"url": REGISTRY_EXTENSION, "valueCoding": registry_coding}]
        referral = first_extension_value(content, REFERRAL_DATE, "valueDate")
        if isinstance(referral, str):
            extensions.append({"url": REFERRAL_DATE, "valueDate": referral})
        extensions.append({"url": PLANNED, "valueDateTime": instant(start)})
        episode: dict[str, Any] = {
            "resourceType": "EpisodeOfCare",
            "meta": {"profile": [EPISODE_PROFILE]} if organization else {},
            "extension": extensions,
            "identifier": [{"system": OPENED_BY, "value": f"Appointment/{appointment.id}"}],
            "status": "planned",
            "patient": {"reference": patient},
            "period": {"start": referral if isinstance(referral, str) else local_date(self.now, self.zone).isoformat()},
        }
        if organization:
            episode["managingOrganization"] = {"reference": organization}
        else:
            episode.pop("meta")
        created = create(self.ctx, "EpisodeOfCare", episode, units)
        action = registry.baseline()
        if action is not None:
            self.create_task(created, appointment, registry, action, start, units)
        clinician = registry.clinician_form()
        if clinician is not None and patient is not None:
            clinician_draft(
                self.ctx, registry=registry.code, episode_id=created.id, action=clinician, patient=patient, units=units
            )
        return created

    def create_task(
        self,
        episode: StoredVersion,
        appointment: StoredVersion,
        registry: RegistryDefinition,
        action: FormAction,
        start: datetime,
        units: set[str],
    ) -> StoredVersion:
        patient = str(_actor(appointment.content or {}, "Patient"))
        if self._reserved is None:
            self._reserved = reserved_patients(self.ctx)
        reserved = patient in self._reserved
        due = self.due(action, start)
        return form_task(
            self.ctx,
            registry=registry.code,
            episode_id=episode.id,
            action=action,
            patient=patient,
            due=due,
            expiry=self.rules.expiry,
            units=units,
            based_on=f"Appointment/{appointment.id}/_history/{appointment.version_id}",
            reminder_at=self.reminder_at(action, start, due),
            open_until=start,
            excluded=RESERVATION if reserved else None,
        )

    def reschedule(
        self, task: StoredVersion, appointment: StoredVersion, registry: RegistryDefinition, start: datetime
    ) -> None:
        action = registry.baseline()
        if action is None or task.content is None:
            return
        due = self.due(action, start)
        content = copy.deepcopy(task.content)
        content["basedOn"] = [{"reference": f"Appointment/{appointment.id}/_history/{appointment.version_id}"}]
        content["restriction"] = open_period(due, self.rules.expiry, start)
        content["extension"] = [e for e in content.get("extension") or [] if e.get("url") != REMINDER_AT]
        reminder = self.reminder_at(action, start, due)
        if reminder is not None:
            content["extension"].append({"url": REMINDER_AT, "valueDateTime": instant(reminder)})
        update(self.ctx, task, content)

    def record_visit(self, episode: StoredVersion, start: datetime) -> None:
        """The patient came: the episode gets its visit date (follow-ups count from it, N21) and is active."""
        content = copy.deepcopy(episode.content or {})
        if any(e.get("url") == VISIT_DATE for e in content.get("extension") or []):
            return
        content.setdefault("extension", []).append(
            {"url": VISIT_DATE, "valueDate": local_date(start, self.zone).isoformat()}
        )
        content["status"] = "active"
        update(self.ctx, episode, content)

    def plan_consultation(self, episode: StoredVersion, start: datetime) -> None:
        """The episode's planned consultation follows its appointment (read afresh: the visit may be recorded)."""
        current = self.ctx.store.current("EpisodeOfCare", episode.id) or episode
        content = copy.deepcopy(current.content or {})
        planned = {"url": PLANNED, "valueDateTime": instant(start)}
        extensions = [e for e in content.get("extension") or [] if e.get("url") != PLANNED]
        if planned in (content.get("extension") or []):
            return
        content["extension"] = [*extensions, planned]
        update(self.ctx, current, content)

    def remove(self, episode: StoredVersion, reason: str) -> None:
        """N11/N12's "deleted": the episode ``entered-in-error``, its open Tasks ``cancelled`` with the reason, its
        clinician form's draft ``entered-in-error``."""
        withdraw_episode_forms(self.ctx, episode.id, reason)
        content = copy.deepcopy(episode.content or {})
        content["status"] = "entered-in-error"
        update(self.ctx, episode, content)
