"""The transactional outbox: at the end of every write transaction, one ``subscription_event`` row for each
(change, Subscription) that matches — written in that same transaction, so a change and its notifications commit
or vanish together.

A change matches a criteria-based Subscription when the changed resource is found by its search (run by the search
engine, on this resource only, as the Subscription's unit may see it); a topic-based one when a topic trigger fires
on the change and every filter of the trigger's type finds the resource. A deleted resource is matched just before
its index rows go (``matches_before_delete``). Subscriptions see only what their owner may read: another unit's
change never makes a row.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, delete, insert, select, update

from fhir_server.auth.ownership import Ownership
from fhir_server.storage.schema import resource, subscription_event, subscription_state
from fhir_server.subscriptions.spec import Search, SubscriptionSpec

if TYPE_CHECKING:
    from fhir_server.rest.context import Change, Context


def ownership_of(spec: SubscriptionSpec) -> Ownership:
    """What a Subscription may see: its unit's resources, or everything (no owner: the registry's own)."""
    return Ownership(next(iter(spec.owners))) if spec.owners else Ownership(None)


def _searches_for(ctx: Context, spec: SubscriptionSpec, resource_type: str) -> list[Search] | None:
    """The searches a change of ``resource_type`` must pass for ``spec`` (None: the Subscription never looks at
    that type)."""
    if spec.criteria is not None:
        return [spec.criteria] if spec.criteria.resource_type == resource_type else None
    topic = ctx.server.topics.get(spec.topic or "")
    if topic is None or resource_type not in topic.resource_types:
        return None
    return [f for f in spec.filters if f.resource_type == resource_type]


def _found(
    ctx: Context, spec: SubscriptionSpec, searches: list[Search], resource_type: str, ids: list[str]
) -> set[str]:
    """Which of ``ids`` every search finds, as the Subscription's owner may see them."""
    if not ids:
        return set()
    ctx.store.flush()  # queued creates are searched too
    ownership = ownership_of(spec)
    conditions: list[ColumnElement[bool]] = [resource.c.resource_type == resource_type, resource.c.id.in_(ids)]
    visible = ownership.condition(resource_type)
    if visible is not None:
        conditions.append(visible)
    for search in searches:
        plan = ctx.server.search_plan(resource_type, list(search.params), strict=False, ownership=ownership)
        conditions.extend(plan.conditions)
    return set(ctx.conn.execute(select(resource.c.id).where(*conditions)).scalars())


def _active(ctx: Context) -> list[SubscriptionSpec]:
    """The live Subscriptions, read once per transaction."""
    if ctx.active_subscriptions is None:
        ctx.active_subscriptions = ctx.server.active_subscriptions.load(ctx.conn)
    return ctx.active_subscriptions


def matches_before_delete(ctx: Context, current: Any) -> frozenset[str]:
    """The Subscriptions whose searches find ``current`` (about to be deleted) now, while it is indexed."""
    found = set()
    for spec in _active(ctx):
        searches = _searches_for(ctx, spec, current.resource_type)
        if searches is not None and current.id in _found(ctx, spec, searches, current.resource_type, [current.id]):
            found.add(spec.id)
    return frozenset(found)


def _fires(ctx: Context, spec: SubscriptionSpec, change: Change) -> bool:
    """Whether the topic (if any) fires and the owner may see the resource — the parts judged on content."""
    version = change.version
    content = version.content if version.content is not None else change.previous
    if not ownership_of(spec).sees(version.resource_type, content):
        return False
    if spec.topic is None:
        return True  # criteria-based: the search decides
    topic = ctx.server.topics.get(spec.topic)
    return topic is not None and topic.fires(version.resource_type, change.action, change.previous, version.content)


def record(ctx: Context) -> list[str]:
    """Write the outbox rows of ``ctx.changes`` (and keep Subscriptions' delivery state in step with their
    resources); the Subscriptions to wake once the transaction commits. Writes what the store still queues."""
    ctx.store.flush()
    changes, ctx.changes = ctx.changes, []
    if not changes:
        return []
    wake = _sync_states(ctx, [c for c in changes if c.version.resource_type == "Subscription"])
    specs = _active(ctx)
    if not specs:
        return wake
    by_type: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        by_type[change.version.resource_type].append(change)
    order = {id(change): i for i, change in enumerate(changes)}
    matches: list[tuple[int, str, Change, SubscriptionSpec]] = []
    for spec in specs:
        for resource_type, typed in by_type.items():
            searches = _searches_for(ctx, spec, resource_type)
            if searches is None:
                continue
            candidates = [c for c in typed if _fires(ctx, spec, c)]
            if not candidates:
                continue
            live = [c.version.id for c in candidates if c.action != "delete"]
            found = _found(ctx, spec, searches, resource_type, live) if searches or spec.owners else set(live)
            for change in candidates:
                matched = spec.id in (change.matched or ()) if change.action == "delete" else change.version.id in found
                if matched:
                    matches.append((order[id(change)], spec.id, change, spec))
    matches.sort(key=lambda m: m[:2])  # commit order within the transaction: the changes' order
    if matches:
        ctx.conn.execute(insert(subscription_event), [_row(spec, change) for _, _, change, spec in matches])
    return sorted({*wake, *(spec.id for *_, spec in matches)})


def _row(spec: SubscriptionSpec, change: Change) -> dict[str, Any]:
    version = change.version
    return {
        "subscription_id": spec.id,
        "event_id": str(uuid.uuid4()),
        "resource_type": version.resource_type,
        "resource_id": version.id,
        "version_id": version.version_id,
        "action": change.action,
        "recorded": version.last_updated,
    }


def _sync_states(ctx: Context, changes: list[Change]) -> list[str]:
    """Each changed Subscription's delivery state: created with it, its status followed, retries reset when a
    client asks again (``requested``), removed with it (its undelivered events too)."""
    wake = []
    for change in changes:
        version = change.version
        sid = version.id
        if version.content is None:
            ctx.conn.execute(delete(subscription_event).where(subscription_event.c.subscription_id == sid))
            ctx.conn.execute(delete(subscription_state).where(subscription_state.c.id == sid))
            continue
        status = str(version.content.get("status"))
        values: dict[str, Any] = {"status": status}
        if sid in ctx.subscription_secrets:
            values["secret"] = ctx.subscription_secrets.pop(sid)
        if not ctx.subscription_status_write and status == "requested":
            values.update(attempts=0, next_attempt_at=None, failing_since=None, last_error=None)
        result = ctx.conn.execute(update(subscription_state).where(subscription_state.c.id == sid).values(**values))
        if result.rowcount == 0:
            ctx.conn.execute(insert(subscription_state).values(id=sid, **values))
        if status == "requested":
            wake.append(sid)
    return wake
