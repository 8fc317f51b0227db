"""Reading back from Helsenorge, run every ``registry_helsenorge_readback_interval_s`` by the beat and safe to run
twice: for the forms sent there that the registry still awaits (``ready``, ``in-progress``), where the citizen is
with each, asked by its GUID (``HelsenorgeChannel.status``), brings the registry in step:

- opened there (``in-progress``) while ``ready`` here: the Task goes ``in-progress``;
- answered there (``completed``) while the response has not arrived: the Task's ``businessStatus`` says so
  (``ANSWERED``), so staff see it and no reminder goes out (``remind_due``); the Task completes only when the
  QuestionnaireResponse arrives through the API.

What Helsenorge then holds is recorded on the Task's update Communication, as the sync subscriber records what it
tells, so nothing is sent back to Helsenorge for it. Nothing is written when nothing changed.

Politely: at most ``registry_helsenorge_readback_batch`` Tasks per run, one request at a time; the next run goes on
after the last Task looked at (a cursor per process, starting again from the first when it reaches the end). A
Helsenorge that is away ends the run; the next one tries again.
"""

from __future__ import annotations

import copy
import logging
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import select

from fhir_server.rest.context import Context
from fhir_server.storage.schema import resource
from fhir_server.storage.store import CURRENT_COLUMNS, IdTaken, VersionConflict, current_version
from fhir_server.subscriptions.outbox import record
from workers.registry.channels import Permanent, Transient
from workers.registry.channels.helsenorge import ANSWERED, HelsenorgeChannel, answered_there, guid, state
from workers.registry.definitions import TIMEPOINT_SYSTEM
from workers.registry.dispatch import helsenorge, remember_held, told_to
from workers.registry.records import update

log = logging.getLogger(__name__)
AWAITED = "ready,in-progress"
_cursor = {"rid": 0}  # the last Task looked at in this process
_cursor_lock = threading.Lock()


def read_back(server: Any, now: datetime | None = None) -> dict[str, str]:
    """Look at the next batch of awaited forms sent to Helsenorge; Task id → what changed (``in-progress``,
    ``answered``) for those brought in step."""
    channel = helsenorge(server)
    if channel is None or not channel.url:
        return {}
    changed: dict[str, str] = {}
    for task_id, identifier in _sent_and_awaited(server, channel, server.settings.registry_helsenorge_readback_batch):
        try:
            remote = channel.status(identifier)
        except Transient as failure:
            log.warning("Helsenorge readback stopped at Task/%s: %s", task_id, failure)
            break
        except Permanent as failure:
            log.warning("Helsenorge readback of Task/%s refused: %s", task_id, failure)
            continue
        outcome = _bring_in_step(server, channel, task_id, remote, now)
        if outcome is not None:
            changed[task_id] = outcome
    return changed


def _sent_and_awaited(server: Any, channel: HelsenorgeChannel, batch: int) -> list[tuple[str, str]]:
    """The next ``batch`` awaited registry form Tasks after the cursor: (id, GUID) of those Helsenorge holds and
    has not said are answered."""
    with _cursor_lock:
        after = _cursor["rid"]
    found: list[tuple[str, str]] = []
    with server.db.reading() as conn:
        ctx = Context(server, conn)
        plan = server.search_plan("Task", [("status", AWAITED), ("code", f"{TIMEPOINT_SYSTEM}|")], strict=True)
        query = (
            select(*CURRENT_COLUMNS)
            .where(*plan.conditions, resource.c.rid > after)
            .order_by(resource.c.rid)
            .limit(max(batch, 1))
        )
        tasks = [current_version(row) for row in conn.execute(query)]
        for task in tasks:
            content = task.content or {}
            identifier = guid(content)
            if identifier is None or answered_there(content):
                continue
            sent, _ = told_to(ctx, channel, task.id)
            if sent:
                found.append((task.id, identifier))
    with _cursor_lock:  # a full batch: the next run goes on after it; else from the first again
        _cursor["rid"] = (tasks[-1].rid or 0) if tasks and len(tasks) >= batch else 0
    return found


def _bring_in_step(
    server: Any, channel: HelsenorgeChannel, task_id: str, remote: str | None, now: datetime | None
) -> str | None:
    """Record what Helsenorge says of the Task's form, if it changes anything; what changed."""
    if remote not in ("in-progress", "completed"):
        return None
    with server.db.writing() as conn:
        ctx = Context(server, conn, now=now)
        current = ctx.store.current("Task", task_id)
        task = current.content if current is not None and not current.deleted else None
        if current is None or task is None or task.get("status") not in AWAITED.split(",") or answered_there(task):
            return None  # changed meanwhile (answered, withdrawn) or recorded already
        content = copy.deepcopy(task)
        if remote == "completed":
            content["businessStatus"] = {"text": ANSWERED}
            outcome = "answered"
        elif task.get("status") == "ready":
            content["status"] = "in-progress"
            outcome = "in-progress"
        else:
            return None  # in progress here and there
        try:
            update(ctx, current, content)
        except (VersionConflict, IdTaken):  # changed meanwhile: the next run looks again
            return None
        remember_held(ctx, channel, task_id, content, state(content, remote))
        wake = record(ctx)
    server.wake(wake)
    return outcome
