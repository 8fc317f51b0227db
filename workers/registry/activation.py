"""The scheduler's part, run every ``registry_activation_interval_s`` by the beat and safe to run twice: forms whose
time has come go from ``requested`` to ``ready`` (which the dispatch subscriber hears of and sends), unanswered
ones are reminded of (P1) and, at the end of their period, expire."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from fhir_server.rest.context import Context
from fhir_server.rest.versioning import instant
from fhir_server.search.dates import as_naive_utc
from fhir_server.storage.store import IdTaken, VersionConflict
from fhir_server.subscriptions.outbox import record
from workers.registry.definitions import TIMEPOINT_SYSTEM
from workers.registry.followups import EPISODE_EXTENSION, FollowUps
from workers.registry.forms import REMINDER_AT
from workers.registry.records import find, update

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
            follow_ups = FollowUps(ctx)
            follow_ups.now = now
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
                episodes.update(_episode_ids(content))
            for episode_id in sorted(episodes):  # a repeating form's next occurrence, once this one has gone
                follow_ups.ensure(episode_id)
            wake = record(ctx)
        server.wake(wake)
        if len(due) < BATCH:
            return activated


def _episode_ids(task: dict[str, Any]) -> list[str]:
    references = [
        str((e.get("valueReference") or {}).get("reference") or "")
        for e in task.get("extension") or []
        if e.get("url") == EPISODE_EXTENSION
    ]
    return [r.split("/", 1)[1] for r in references if r.startswith("EpisodeOfCare/")]


def _instant_text(content: dict[str, Any], url: str) -> str | None:
    for extension in content.get("extension") or []:
        if extension.get("url") == url and isinstance(extension.get("valueDateTime"), str):
            return str(extension["valueDateTime"])
    return None


def _before(text: str | None, now: datetime) -> bool:
    """Whether a FHIR instant ``text`` is at or before ``now`` (naive UTC)."""
    if not text:
        return False
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return as_naive_utc(moment) <= now


def remind_due(server: Any, now: datetime | None = None) -> list[str]:
    """P1: forms still unanswered at their reminder time get priority ``asap`` (how Helsenorge reminds, too);
    the dispatch subscriber sends the reminder once per channel. Their ids."""
    now = now or server.clock()
    reminded = []
    with server.db.writing() as conn:
        ctx = Context(server, conn, now=now)
        params = [("status", "ready,in-progress"), ("code", f"{TIMEPOINT_SYSTEM}|baseline")]
        for task in find(ctx, "Task", params, limit=10_000):
            content = task.content or {}
            if content.get("priority") in ("asap", "stat") or not _before(_instant_text(content, REMINDER_AT), now):
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
