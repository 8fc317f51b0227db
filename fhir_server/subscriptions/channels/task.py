"""The task channel: the server's own subscribers, functions run in the worker that delivers (so they get the
same ordering, retries and error status as any rest-hook). A subscriber is registered by name with
``@subscriber("ryggrad.…")``; its Subscription's endpoint is ``urn:ryggrad:task:<name>``.

``exactly_once`` gives a subscriber exactly-once effect: its writes and the record that it handled the event
commit together, and a redelivered event finds the record and does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
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
        fresh = []
        now = utc_now()
        for payload in payloads:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(handled_event).values(
                            subscription_id=payload["subscription"], event_id=payload["event_id"], handled=now
                        )
                    )
                fresh.append(payload)
            except IntegrityError:
                continue
        ctx = Context(server, conn)
        yield ctx, fresh
        wake = record(ctx)
    server.wake(wake)


@contextmanager
def exactly_once(server: FhirServer, payload: dict[str, Any]) -> Iterator[Context | None]:
    """``exactly_once_each`` for one event: its Context, or None when it was handled before."""
    with exactly_once_each(server, [payload]) as (ctx, fresh):
        yield ctx if fresh else None
