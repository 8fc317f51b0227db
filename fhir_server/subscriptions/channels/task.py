"""The task channel: the server's own subscribers, functions run in the worker that delivers (so they get the
same ordering, retries and error status as any rest-hook). A subscriber is registered by name with
``@subscriber("ryggrad.…")``; its Subscription's endpoint is ``urn:ryggrad:task:<name>``.

``exactly_once`` gives a subscriber exactly-once effect: its writes and the record that it handled the event
commit together, and a redelivered event finds the record and does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from fhir_server.rest.context import Context, utc_now
from fhir_server.storage.schema import handled_event
from fhir_server.subscriptions.channels import DeliveryFailed

if TYPE_CHECKING:
    from fhir_server.server import FhirServer

Subscriber = Callable[["FhirServer", Any], None]
SUBSCRIBERS: dict[str, Subscriber] = {}
BATCHES: set[str] = set()  # subscribers that take a list of events at once (in order), in one transaction


def subscriber(name: str, *, batch: bool = False) -> Callable[[Subscriber], Subscriber]:
    """Register ``function(server, payload)`` — or, with ``batch``, ``function(server, payloads)``, which gets up
    to a hundred events in order and can act on them in one transaction."""

    def register(function: Subscriber) -> Subscriber:
        SUBSCRIBERS[name] = function
        if batch:
            BATCHES.add(name)
        return function

    return register


def takes_batches(name: str | None) -> bool:
    return name in BATCHES


def run(server: FhirServer, name: str, payload: Any) -> None:
    """Run subscriber ``name`` on one event's payload (or, for a batch subscriber, a list of them)."""
    function = SUBSCRIBERS.get(name)
    if function is None:
        raise DeliveryFailed(f"no subscriber named {name} is loaded in this worker")
    try:
        function(server, payload)
    except DeliveryFailed:
        raise
    except Exception as exc:
        raise DeliveryFailed(f"subscriber {name} failed ({type(exc).__name__})") from exc


@contextmanager
def exactly_once_each(
    server: FhirServer, payloads: list[dict[str, Any]]
) -> Iterator[tuple[Context, list[dict[str, Any]]]]:
    """One write transaction for a batch of events: (the Context, the events not handled before, in order).
    Whatever is written commits with the records that they were handled."""
    from fhir_server.subscriptions.outbox import record

    with server.db.writing() as conn:
        fresh = _claim(conn, payloads, utc_now())
        ctx = Context(server, conn)
        yield ctx, fresh
        wake = record(ctx)
    server.wake(wake)


def _key(payload: dict[str, Any]) -> tuple[str, str]:
    return payload["subscription"], payload["event_id"]


def _handled(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"subscription_id": payload["subscription"], "event_id": payload["event_id"], "handled": now}


def _claim(conn: Connection, payloads: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The events not handled before (each once, in order), recorded as handled: one read and one insert for the
    batch; event by event only when a racer recorded some of them meanwhile (another worker, PostgreSQL)."""
    handled = conn.execute(
        select(handled_event.c.subscription_id, handled_event.c.event_id).where(
            handled_event.c.subscription_id.in_(sorted({p["subscription"] for p in payloads})),
            handled_event.c.event_id.in_([p["event_id"] for p in payloads]),
        )
    ).all()
    seen = {(row.subscription_id, row.event_id) for row in handled}
    fresh = []
    for payload in payloads:
        if _key(payload) not in seen:
            seen.add(_key(payload))
            fresh.append(payload)
    if not fresh:
        return []
    try:
        with conn.begin_nested():
            conn.execute(insert(handled_event), [_handled(p, now) for p in fresh])
        return fresh
    except IntegrityError:
        return [p for p in fresh if _claim_one(conn, p, now)]


def _claim_one(conn: Connection, payload: dict[str, Any], now: datetime) -> bool:
    try:
        with conn.begin_nested():
            conn.execute(insert(handled_event).values(**_handled(payload, now)))
    except IntegrityError:
        return False
    return True


@contextmanager
def exactly_once(server: FhirServer, payload: dict[str, Any]) -> Iterator[Context | None]:
    """``exactly_once_each`` for one event: its Context, or None when it was handled before."""
    with exactly_once_each(server, [payload]) as (ctx, fresh):
        yield ctx if fresh else None
