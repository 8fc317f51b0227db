"""Sending ready forms to patients (the dispatch subscriber): each ready registry Task goes out through every
configured channel that can reach the patient (``channels``), and each sending is recorded as a Communication
(completed, or not-done with the reason) based on the Task — which is also how nothing is sent twice: a channel
with a record for the Task is skipped when the Task is heard of again.

A channel that is down fails the event, so the delivery machinery retries it with backoff and the internal
Subscription's ``$status`` shows the reason; channels that succeeded meanwhile are not repeated. Only a crash
between a channel taking the message and its record being written can send it twice — Helsenorge recognises a
repeat by the Task's GUID identifier — which is also why a reminder (P1) goes there as an update of the task it
holds (PUT, priority ``asap``), and by e-mail as a second message.

A form already sent to Helsenorge that the registry then changes — its deadline moves, it is cancelled (N11, N12,
N19, R4), it expires or is answered — is brought in step there by the sync subscriber (``sync_task``), which hears
of every change of a form Task. What Helsenorge was last told (status and deadline) is kept on the Communications:
the sending's, then one update record per Task, so a change Helsenorge already has is not sent again.
"""

from __future__ import annotations

from typing import Any

from fhir_server.auth.ownership import owners
from fhir_server.rest.context import Context
from fhir_server.rest.versioning import instant
from fhir_server.subscriptions.channels import DeliveryFailed
from fhir_server.subscriptions.channels.task import subscriber
from fhir_server.subscriptions.outbox import record
from workers.registry.channels import Channel, Dispatch, Permanent, Transient
from workers.registry.channels.email import EmailChannel
from workers.registry.channels.helsenorge import OPEN, HelsenorgeChannel, remote_status, state
from workers.registry.definitions import TIMEPOINT_SYSTEM
from workers.registry.forms import REMINDER_AT
from workers.registry.records import create, extension_values, find, update

NAME = "ryggrad.registry.dispatch"
SYNC_NAME = "ryggrad.registry.dispatch-sync"
UPDATE = "update"  # the kind of the record of what Helsenorge was last told after the sending
CHANNEL_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/dispatch-channel"
KIND_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/dispatch-kind"  # form | reminder
MODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
ON_SITE = "on-site"  # the channel of a form handed over at the clinic (Task/$issue-code)


def channels(server: Any) -> list[Channel]:
    settings = server.settings
    known: dict[str, Channel] = {
        "helsenorge": HelsenorgeChannel.from_settings(settings),
        "email": EmailChannel(settings),
    }
    return [known[name] for name in settings.registry_dispatch_channels if name in known]


@subscriber(NAME)
def on_ready_task(server: Any, payload: dict[str, Any]) -> None:
    dispatch_task(server, payload["id"])


@subscriber(SYNC_NAME)
def on_task_change(server: Any, payload: dict[str, Any]) -> None:
    sync_task(server, payload["id"])


def _is_registry_form(task: dict[str, Any]) -> bool:
    codings = (task.get("code") or {}).get("coding") or []
    return any(c.get("system") == TIMEPOINT_SYSTEM for c in codings)


def dispatch_task(server: Any, task_id: str) -> dict[str, str]:
    """Send a ready Task through each channel not yet recorded for it; channel name → what happened."""
    with server.db.reading() as conn:
        ctx = Context(server, conn)
        current = ctx.store.current("Task", task_id)
        task = current.content if current is not None and not current.deleted else None
        if task is None or task.get("status") != "ready" or not _is_registry_form(task):
            return {}
        patient, questionnaire = _patient_and_form(ctx, task)
        done = {
            _sent_as(communication.content or {})
            for communication in find(ctx, "Communication", [("based-on", f"Task/{task_id}")])
        }
    if any(channel == ON_SITE for channel, _ in done):
        return {}  # handed over at the clinic with a one-time code (N8): the patient is not told anywhere else
    reminding = task.get("priority") in ("asap", "stat") and bool(extension_values(task, REMINDER_AT, "valueDateTime"))
    dispatch = Dispatch(task, patient, questionnaire, "reminder" if reminding else "form")
    outcome: dict[str, str] = {}
    for channel in channels(server):
        if (channel.name, dispatch.kind) in done or not channel.applies(dispatch):
            continue
        try:
            channel.send(dispatch)
        except Transient as failure:
            raise DeliveryFailed(f"{channel.name}: {failure}") from None
        except Permanent as failure:
            _record(server, task_id, task, channel, str(failure), dispatch.kind)
            outcome[channel.name] = f"not sent: {failure}"
            continue
        _record(server, task_id, task, channel, None, dispatch.kind, state(task))
        outcome[channel.name] = "sent"
    if "helsenorge" in outcome:
        sync_task(server, task_id)  # changed while it was being sent
    return outcome


def helsenorge(server: Any) -> HelsenorgeChannel | None:
    """The Helsenorge channel when it is one of the configured channels."""
    return next((c for c in channels(server) if isinstance(c, HelsenorgeChannel)), None)


def sync_task(server: Any, task_id: str) -> str | None:
    """Bring Helsenorge's copy of a sent form in step with its Task; what it was told (its status and deadline),
    or None when nothing needed telling."""
    channel = helsenorge(server)
    with server.db.reading() as conn:
        ctx = Context(server, conn)
        current = ctx.store.current("Task", task_id)
        task = current.content if current is not None and not current.deleted else None
        if channel is None or not channel.url or task is None or not _is_registry_form(task):
            return None
        sent, told = told_to(ctx, channel, task_id)
        status = remote_status(task)
        if not sent or status is None:
            return None  # never reached Helsenorge, or nothing Helsenorge knows of
        wanted = state(task, status)
        if wanted == told or (_status_of(told) == "completed" and status in OPEN):
            return None  # told already; or answered there (the readback), not to be reopened before the response
        patient, questionnaire = _patient_and_form(ctx, task)
    try:
        updated = channel.update(Dispatch(task, patient, questionnaire, UPDATE), status)
    except Transient as failure:
        raise DeliveryFailed(f"{channel.name}: {failure}") from None
    except Permanent:
        return None  # Helsenorge will not take it; the form's record stays as it was
    if not updated:
        return None
    with server.db.writing() as conn:
        ctx = Context(server, conn)
        remember_held(ctx, channel, task_id, task, wanted)
        wake = record(ctx)
    server.wake(wake)
    return wanted


def remember_held(ctx: Context, channel: Channel, task_id: str, task: dict[str, Any], held: str) -> None:
    """Record what Helsenorge now holds of a sent form (``state``: its status and deadline) on the Task's update
    record, made at the first change; inside the caller's transaction."""
    latest = next(
        (
            c
            for c in find(ctx, "Communication", [("based-on", f"Task/{task_id}")])
            if _sent_as(c.content or {}) == (channel.name, UPDATE) and (c.content or {}).get("status") == "completed"
        ),
        None,
    )
    if latest is not None:
        content = {**(latest.content or {}), "payload": [{"contentString": held}], "sent": instant(ctx.server.clock())}
        update(ctx, latest, content)
    else:
        communication = _communication(ctx.server, task_id, task, channel, None, UPDATE, held)
        create(ctx, "Communication", communication, owners(task))


def told_to(ctx: Context, channel: Channel, task_id: str) -> tuple[bool, str | None]:
    """Whether the Task's form reached Helsenorge, and what the records say Helsenorge holds of it (``state``):
    the update record's, else the sending's."""
    records = [
        c
        for c in find(ctx, "Communication", [("based-on", f"Task/{task_id}")])
        if _sent_as(c.content or {})[0] == channel.name and (c.content or {}).get("status") == "completed"
    ]
    if not records:
        return False, None
    latest = next((r for r in records if _sent_as(r.content or {})[1] == UPDATE), None)
    sending = next((r for r in records if _sent_as(r.content or {})[1] == "form"), records[0])
    return True, _told((latest or sending).content or {})


def _told(communication: dict[str, Any]) -> str | None:
    return next((p.get("contentString") for p in communication.get("payload") or []), None)


def _status_of(told: str | None) -> str | None:
    """The status part of a recorded ``state``."""
    return told.split(" ", 1)[0] if told else None


def _patient_and_form(ctx: Context, task: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    patient_ref = str((task.get("for") or {}).get("reference") or "")
    patient = None
    if patient_ref.startswith("Patient/"):
        found = ctx.store.current("Patient", patient_ref.split("/", 1)[1])
        patient = found.content if found is not None else None
    focus = str((task.get("focus") or {}).get("reference") or "")
    return patient, ctx.server.definitions.resource("Questionnaire", focus) if focus else None


def _sent_as(communication: dict[str, Any]) -> tuple[str | None, str]:
    """(channel, kind) a Communication records."""
    codes = {
        c.get("system"): c.get("code")
        for concept in communication.get("category") or []
        for c in concept.get("coding") or []
    }
    return codes.get(CHANNEL_SYSTEM), codes.get(KIND_SYSTEM) or "form"


def _record(
    server: Any,
    task_id: str,
    task: dict[str, Any],
    channel: Channel,
    failure: str | None,
    kind: str,
    told: str | None = None,
) -> None:
    with server.db.writing() as conn:
        ctx = Context(server, conn)
        communication = _communication(server, task_id, task, channel, failure, kind, told)
        create(ctx, "Communication", communication, owners(task))
        wake = record(ctx)
    server.wake(wake)


def _communication(
    server: Any,
    task_id: str,
    task: dict[str, Any],
    channel: Channel,
    failure: str | None,
    kind: str,
    told: str | None,
) -> dict[str, Any]:
    """The record of a sending (``told``: what the other side now holds of the form, where it keeps it)."""
    communication: dict[str, Any] = {
        "resourceType": "Communication",
        "status": "not-done" if failure else "completed",
        "basedOn": [{"reference": f"Task/{task_id}"}],
        "category": [
            {"coding": [{"system": CHANNEL_SYSTEM, "code": channel.name}]},
            {"coding": [{"system": KIND_SYSTEM, "code": kind}]},
        ],
        "medium": [{"coding": [{"system": MODE_SYSTEM, "code": channel.medium}]}],
        "subject": task.get("for"),
        "recipient": [task.get("for")] if task.get("for") else [],
        "sent": instant(server.clock()),
    }
    if failure:
        communication["statusReason"] = {"text": failure}
        communication.pop("sent")
    elif told and channel.name == "helsenorge":
        communication["payload"] = [{"contentString": told}]
    return communication
