"""The scheduler's part, run every ``registry_activation_interval_s`` by the beat and safe to run twice: forms whose
time has come go from ``requested`` to ``ready`` (which the dispatch subscriber hears of and sends), unanswered
ones are reminded of (P1) and, at the end of their period, expire."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from fhir_server.rest.context import Context
from fhir_server.rest.versioning import instant
from fhir_server.storage.store import IdTaken, VersionConflict
from fhir_server.subscriptions.outbox import record
from workers.registry.channels.helsenorge import answered_there
from workers.registry.definitions import TIMEPOINT_SYSTEM
from workers.registry.followups import FollowUps
from workers.registry.forms import REMINDER_AT
from workers.registry.records import episode_ids, find, first_extension_value, parse_instant, update

BATCH = 500


def activate_due(server: Any, now: datetime | None = None) -> list[str]:
    """Make every registry Task due by ``now`` (default the server's clock) ``ready``; their ids."""
    now = now or server.clock()
    activated: list[str] = []
    while True:
        with server.db.writing() as conn:
            ctx = Context(server, conn, now=now)
            params = [("status", "requested"), ("available", f"le{instant(now)}"), ("code", f"{TIMEPOINT_SYSTEM}|")]
            due = find(ctx, "Task", params, limit=BATCH)
            episodes: set[str] = set()
            follow_ups = FollowUps(ctx, now)
            for task in due:
                excluded = follow_ups.excluded_now(task)
                if excluded is not None:  # P4/R4 recorded since it was scheduled: recorded as excluded, not sent
                    follow_ups.exclude(task, excluded)
                    continue
                content = copy.deepcopy(task.content or {})
                content["status"] = "ready"  # sent: the dispatch subscriber records each sending (Communication)
                try:
                    update(ctx, task, content)
                except (VersionConflict, IdTaken):  # changed meanwhile: the next run looks again
                    continue
                activated.append(task.id)
                episodes.update(episode_ids(content))
            for episode_id in sorted(episodes):  # a repeating form's next occurrence, once this one has gone
                follow_ups.ensure(episode_id)
            wake = record(ctx)
        server.wake(wake)
        if len(due) < BATCH:
            return activated


def remind_due(server: Any, now: datetime | None = None) -> list[str]:
    """P1: forms still unanswered at their reminder time get priority ``asap`` (how Helsenorge reminds, too);
    the dispatch subscriber sends the reminder once per channel. Not those Helsenorge says are answered while the
    response is awaited (the readback). Their ids."""
    now = now or server.clock()
    reminded = []
    with server.db.writing() as conn:
        ctx = Context(server, conn, now=now)
        params = [("status", "ready,in-progress"), ("code", f"{TIMEPOINT_SYSTEM}|baseline")]
        for task in find(ctx, "Task", params, limit=10_000):
            content = task.content or {}
            reminder = parse_instant(first_extension_value(content, REMINDER_AT, "valueDateTime"))
            if content.get("priority") in ("asap", "stat") or reminder is None or reminder > now:
                continue
            if answered_there(content):  # Helsenorge says it is answered; the response is on its way
                continue
            update(ctx, task, {**copy.deepcopy(content), "priority": "asap"})
            reminded.append(task.id)
        wake = record(ctx)
    server.wake(wake)
    return reminded


def expire_due(server: Any, now: datetime | None = None) -> list[str]:
    """Forms not answered by the end of their period (``registry_task_expiry_days`` after they were sent) are
    ``failed`` with the reason: due and unanswered, as response rates count them. Their ids."""
    now = now or server.clock()
    expired = []
    with server.db.writing() as conn:
        ctx = Context(server, conn, now=now)
        params = [("status", "ready,in-progress"), ("code", f"{TIMEPOINT_SYSTEM}|"), ("due", f"le{instant(now)}")]
        for task in find(ctx, "Task", params, limit=10_000):
            content = copy.deepcopy(task.content or {})
            content["status"] = "failed"
            content["statusReason"] = {"text": "not answered before the form expired"}
            content["businessStatus"] = {"text": "expired"}
            update(ctx, task, content)
            expired.append(task.id)
        wake = record(ctx)
    server.wake(wake)
    return expired
