"""Delivering one Subscription's events, in order, at least once, never giving up.

A worker first takes the Subscription's lease (one deliverer at a time, across every worker process). Holding it,
it numbers the Subscription's new outbox rows in the order they became visible (commit order), then sends them
in number order; ``delivered_through`` moves only after the channel took them, and only while the lease is still
this worker's. A worker that dies mid-way leaves its lease to expire; the next one sends again what was not
recorded as sent — receivers de-duplicate by event id.

A failure sets the next attempt after an exponential backoff with jitter. After ``subscription_error_after_s`` of
failures the Subscription's status becomes ``error`` with the reason; attempts go on (at the longest interval),
and the first success makes it ``active`` again and catches up with everything since.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, bindparam, delete, exists, or_, select, update

from fhir_server.auth.ownership import Ownership
from fhir_server.rest.context import utc_now
from fhir_server.storage.schema import resource_history, subscription_event, subscription_state
from fhir_server.subscriptions.channels import DeliveryFailed
from fhir_server.subscriptions.channels import task as task_channel
from fhir_server.subscriptions.lifecycle import set_status
from fhir_server.subscriptions.notifications import Event, notification_bundle
from fhir_server.subscriptions.outbox import ownership_of
from fhir_server.subscriptions.spec import SubscriptionSpec

if TYPE_CHECKING:
    from fhir_server.server import FhirServer

log = logging.getLogger(__name__)
s = subscription_state.c
e = subscription_event.c

NUMBER_BATCH = 1000
READ_AHEAD = 100  # events read at once, then sent one request (or one bundle of max_count) at a time


class LeaseLost(Exception):
    """Another worker holds the Subscription now (this one was too slow)."""


def backoff(attempts: int, base_s: float, max_s: float) -> float:
    """Exponential backoff with "equal jitter": half the step fixed, half random — never zero, never in step
    with other failing subscribers."""
    step = min(max_s, base_s * 2 ** max(0, attempts - 1))
    return step / 2 + random.uniform(0, step / 2)


def deliver(server: FhirServer, subscription_id: str, worker: str | None = None) -> str:
    """Deliver what is pending for the Subscription; the outcome (``done``, ``busy``, ``waiting``, ``off``)."""
    me = worker or uuid.uuid4().hex[:16]
    outcome = "busy"
    for _ in range(100):  # released and taken again while work keeps arriving; the sweep takes over after that
        if not _lease(server, subscription_id, me):
            return outcome
        try:
            outcome = _deliver_leased(server, subscription_id, me)
        except LeaseLost:
            return "busy"
        finally:
            _release(server, subscription_id, me)
        if outcome != "done" or not _has_work(server, subscription_id):
            return outcome
    return outcome


def _lease(server: FhirServer, sid: str, me: str) -> bool:
    now = utc_now()
    if _leased_to_another(server, sid, me, now):
        return False  # found by a read: a busy Subscription's wake-ups take no write transaction each
    until = now + timedelta(seconds=server.settings.subscription_lease_s)
    with server.db.writing() as conn:
        result = conn.execute(
            update(subscription_state)
            .where(
                s.id == sid, s.status != "off", or_(s.lease_owner.is_(None), s.lease_until < now, s.lease_owner == me)
            )
            .values(lease_owner=me, lease_until=until)
        )
        return result.rowcount == 1


def _leased_to_another(server: FhirServer, sid: str, me: str, now: datetime) -> bool:
    """Whether another worker holds the Subscription's lease. Safe to act on: that worker looks for work again
    after releasing it (``deliver``), so it sees the events of any wake-up that found the lease taken."""
    with server.db.reading() as conn:
        held = conn.execute(
            select(s.id).where(s.id == sid, s.lease_owner.is_not(None), s.lease_owner != me, s.lease_until >= now)
        ).first()
    return held is not None


def _release(server: FhirServer, sid: str, me: str) -> None:
    with server.db.writing() as conn:
        conn.execute(
            update(subscription_state)
            .where(s.id == sid, s.lease_owner == me)
            .values(lease_owner=None, lease_until=None)
        )


def _has_work(server: FhirServer, sid: str) -> bool:
    now = utc_now()
    with server.db.reading() as conn:
        return conn.execute(select(s.id).where(s.id == sid, _due(now), _pending_work())).first() is not None


def _due(now: datetime) -> Any:
    return and_(s.status != "off", or_(s.next_attempt_at.is_(None), s.next_attempt_at <= now))


def _pending_work() -> Any:
    unnumbered = exists().where(e.subscription_id == s.id, e.number.is_(None))
    return or_(s.status == "requested", s.delivered_through < s.events_since_start, unnumbered)


def _state(server: FhirServer, sid: str) -> Any:
    with server.db.reading() as conn:
        return conn.execute(select(subscription_state).where(s.id == sid)).first()


def _deliver_leased(server: FhirServer, sid: str, me: str) -> str:
    with server.db.reading() as conn:
        spec = server.active_subscriptions.spec(conn, sid)
    state = _state(server, sid)
    if spec is None or state is None or state.status == "off":
        return "off"
    now = utc_now()
    if spec.end is not None and spec.end <= now:
        set_status(server, sid, "off")
        return "off"
    if state.next_attempt_at is not None and state.next_attempt_at > now:
        return "waiting"
    if state.status == "requested":
        try:
            _handshake(server, spec, state)
        except DeliveryFailed as failure:
            return _failed(server, spec, state, me, str(failure))
        set_status(server, sid, "active")
    while True:
        number_new_events(server, sid, me)
        state = _state(server, sid)
        per_request = _batch_size(spec)
        events = read_events(
            server, spec, state.delivered_through, None, max(per_request, READ_AHEAD), _needs_content(spec)
        )
        if not events:
            _heartbeat_if_due(server, spec, state, me)
            return "done"
        for start in range(0, len(events), per_request):
            chunk = events[start : start + per_request]
            try:
                _send(server, spec, state, chunk)
            except DeliveryFailed as failure:
                return _failed(server, spec, state, me, str(failure))
            _sent(server, sid, me, chunk[-1].number)
            if state.status == "error":
                set_status(server, sid, "active")
                state = _state(server, sid)
                log.info("Subscription/%s delivers again", sid)


def number_new_events(server: FhirServer, sid: str, me: str) -> int:
    """Number the Subscription's committed, unnumbered events after its last number, in outbox order."""
    numbered = 0
    while True:
        if not _unnumbered(server, sid, me):
            return numbered  # found by a read: no write transaction when there is nothing to number
        with server.db.writing() as conn:
            owner = conn.execute(select(s.lease_owner, s.events_since_start).where(s.id == sid)).first()
            if owner is None or owner.lease_owner != me:
                raise LeaseLost(sid)
            seqs = (
                conn.execute(
                    select(e.seq)
                    .where(e.subscription_id == sid, e.number.is_(None))
                    .order_by(e.seq)
                    .limit(NUMBER_BATCH)
                )
                .scalars()
                .all()
            )
            if not seqs:
                return numbered
            start = owner.events_since_start
            conn.execute(
                update(subscription_event).where(e.seq == bindparam("b_seq")).values(number=bindparam("b_number")),
                [{"b_seq": seq, "b_number": start + i} for i, seq in enumerate(seqs, 1)],
            )
            conn.execute(
                update(subscription_state)
                .where(s.id == sid, s.lease_owner == me)
                .values(events_since_start=start + len(seqs))
            )
            numbered += len(seqs)


def _unnumbered(server: FhirServer, sid: str, me: str) -> bool:
    """Whether the Subscription has events to number (``LeaseLost`` when this worker no longer holds it)."""
    with server.db.reading() as conn:
        owner = conn.execute(select(s.lease_owner).where(s.id == sid)).scalar()
        if owner != me:
            raise LeaseLost(sid)
        return (
            conn.execute(select(e.seq).where(e.subscription_id == sid, e.number.is_(None)).limit(1)).first() is not None
        )


def read_events(
    server: FhirServer, spec: SubscriptionSpec, after: int, until: int | None, limit: int, with_content: bool
) -> list[Event]:
    """The Subscription's numbered events after ``after`` (through ``until``), with their versions' content when
    asked (as the Subscription's owner may see it), read with them."""
    query = _with_content(select(subscription_event)) if with_content else select(subscription_event)
    query = query.where(e.subscription_id == spec.id, e.number > after)
    if until is not None:
        query = query.where(e.number <= until)
    with server.db.reading() as conn:
        rows = conn.execute(query.order_by(e.number).limit(limit)).all()
        ownership = ownership_of(spec)
        events = []
        for row in rows:
            content = None
            if with_content and row.action != "delete":
                content = _shown(ownership, row.version_content)
            events.append(
                Event(
                    spec.id,
                    row.number,
                    row.event_id,
                    row.resource_type,
                    row.resource_id,
                    row.version_id,
                    row.action,
                    row.recorded,
                    content,
                )
            )
    return events


def _with_content(query: Select[Any]) -> Select[Any]:
    """``query`` on events, with the content of each event's version (``version_content``)."""
    h = resource_history.c
    version = and_(h.resource_type == e.resource_type, h.id == e.resource_id, h.version_id == e.version_id)
    return query.add_columns(h.content.label("version_content")).outerjoin(resource_history, version)


def _shown(ownership: Ownership, content: dict[str, Any] | None) -> dict[str, Any] | None:
    return ownership.shown(content) if content is not None else None


def _batch_size(spec: SubscriptionSpec) -> int:
    if spec.channel == "websocket":
        return NUMBER_BATCH
    if spec.channel == "task" and task_channel.takes_batches(spec.task_name):
        return READ_AHEAD
    return spec.max_count if spec.sends_bundles else 1


def _needs_content(spec: SubscriptionSpec) -> bool:
    if spec.channel == "task":
        return True
    if spec.sends_bundles:
        return spec.content == "full-resource"
    return spec.payload_mime is not None


def _send(server: FhirServer, spec: SubscriptionSpec, state: Any, events: list[Event]) -> None:
    base = server.settings.base_url.rstrip("/")
    if spec.channel == "websocket":
        return  # the API processes ping bound clients as the event count grows (http/websocket.py)
    if spec.channel == "task":
        name = spec.task_name or ""
        if task_channel.takes_batches(name):
            task_channel.run(server, name, [event.as_task_payload(spec.topic) for event in events])
            return
        for event in events:
            task_channel.run(server, name, event.as_task_payload(spec.topic))
        return
    hook = server.rest_hook
    ids = [event.event_id for event in events]
    if spec.sends_bundles:
        body = notification_bundle(spec, base, "event-notification", events[-1].number, events, utc_now(), "active")
        hook.send(spec, state.secret, "POST", str(spec.endpoint), body, ids)
        return
    (event,) = events
    endpoint = str(spec.endpoint).rstrip("/")
    if spec.payload_mime is None:
        hook.send(spec, state.secret, "POST", str(spec.endpoint), None, ids)
    elif event.action == "delete" or event.content is None:
        hook.send(spec, state.secret, "DELETE", f"{endpoint}/{event.reference}", None, ids)
    else:
        hook.send(spec, state.secret, "PUT", f"{endpoint}/{event.reference}", event.content, ids)


def _handshake(server: FhirServer, spec: SubscriptionSpec, state: Any) -> None:
    """Topic-based rest-hooks get a handshake before the first event: is the endpoint there and willing?"""
    if spec.channel != "rest-hook" or not spec.is_topic:
        return
    base = server.settings.base_url.rstrip("/")
    body = notification_bundle(spec, base, "handshake", state.events_since_start, [], utc_now(), status="requested")
    server.rest_hook.send(spec, state.secret, "POST", str(spec.endpoint), body, [])


def _heartbeat_if_due(server: FhirServer, spec: SubscriptionSpec, state: Any, me: str) -> None:
    if spec.heartbeat_s is None or spec.channel != "rest-hook" or not spec.is_topic:
        return
    now = utc_now()
    if state.last_sent_at is not None and state.last_sent_at + timedelta(seconds=spec.heartbeat_s) > now:
        return
    base = server.settings.base_url.rstrip("/")
    body = notification_bundle(spec, base, "heartbeat", state.events_since_start, [], now, status="active")
    try:
        server.rest_hook.send(spec, state.secret, "POST", str(spec.endpoint), body, [])
    except DeliveryFailed as failure:
        _failed(server, spec, state, me, str(failure))
        return
    with server.db.writing() as conn:
        conn.execute(update(subscription_state).where(s.id == spec.id, s.lease_owner == me).values(last_sent_at=now))


def _sent(server: FhirServer, sid: str, me: str, through: int) -> None:
    now = utc_now()
    until = now + timedelta(seconds=server.settings.subscription_lease_s)
    with server.db.writing() as conn:
        result = conn.execute(
            update(subscription_state)
            .where(s.id == sid, s.lease_owner == me, s.delivered_through < through)
            .values(
                delivered_through=through,
                attempts=0,
                next_attempt_at=None,
                failing_since=None,
                last_error=None,
                last_sent_at=now,
                lease_until=until,
            )
        )
    if result.rowcount != 1:
        raise LeaseLost(sid)


def _failed(server: FhirServer, spec: SubscriptionSpec, state: Any, me: str, reason: str) -> str:
    settings = server.settings
    now = utc_now()
    state = _state(server, spec.id)  # the attempts so far, as the last success left them
    attempts = state.attempts + 1
    delay = backoff(attempts, settings.subscription_retry_base_s, settings.subscription_retry_max_s)
    failing_since = state.failing_since or now
    with server.db.writing() as conn:
        conn.execute(
            update(subscription_state)
            .where(s.id == spec.id, s.lease_owner == me)
            .values(
                attempts=attempts,
                next_attempt_at=now + timedelta(seconds=delay),
                failing_since=failing_since,
                last_error=reason[:1000],
            )
        )
    log.info("Subscription/%s: delivery failed (%s); attempt %d again in %.1f s", spec.id, reason, attempts, delay)
    failing_for = (now - failing_since).total_seconds()
    if failing_for >= settings.subscription_error_after_s and state.status != "error":
        since = failing_since.replace(microsecond=0).isoformat() + "Z"
        set_status(server, spec.id, "error", f"Notifications fail since {since}: {reason}; retrying")
    return "waiting"


def retry_in(server: FhirServer, subscription_id: str) -> float | None:
    """Seconds until the Subscription's next attempt after a failure (None: not waiting)."""
    with server.db.reading() as conn:
        when = conn.execute(select(s.next_attempt_at).where(s.id == subscription_id)).scalar()
    return None if when is None else max(0.0, (when - utc_now()).total_seconds())


def due_subscriptions(server: FhirServer, limit: int = 1000) -> list[str]:
    """Subscriptions with work and nobody on it: events not yet numbered or sent, a request to activate, a due
    retry or heartbeat. What the scheduler's sweep wakes workers for."""
    now = utc_now()
    free = or_(s.lease_owner.is_(None), s.lease_until < now)
    with server.db.reading() as conn:
        ids = conn.execute(select(s.id).where(free, _due(now), _pending_work()).limit(limit)).scalars().all()
        idle = conn.execute(
            select(s.id, s.last_sent_at).where(free, s.status == "active", s.delivered_through == s.events_since_start)
        ).all()
        due_beats = []
        for sid, last_sent in idle:
            spec = server.active_subscriptions.spec(conn, sid)
            if spec is None:
                continue
            if (
                (spec.heartbeat_s and spec.is_topic and spec.channel == "rest-hook")
                and (last_sent is None or last_sent + timedelta(seconds=spec.heartbeat_s) <= now)
            ) or (spec.end is not None and spec.end <= now):
                due_beats.append(sid)
    return sorted({*ids, *due_beats})


def prune(server: FhirServer) -> int:
    """Delete delivered events older than the retention time; how many."""
    cutoff = utc_now() - timedelta(days=server.settings.subscription_event_retention_days)
    delivered = select(s.delivered_through).where(s.id == e.subscription_id).scalar_subquery()
    with server.db.writing() as conn:
        result = conn.execute(
            delete(subscription_event).where(e.recorded < cutoff, e.number.is_not(None), e.number <= delivered)
        )
    return result.rowcount
