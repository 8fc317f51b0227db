"""The server's own changes of a Subscription's status (requested → active, active ↔ error, → off at its end),
written as new versions of the resource so that clients see them, with ``error`` saying why."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from fhir_server.rest.context import Context
from fhir_server.rest.resources import update_resource, write_with_retries
from fhir_server.subscriptions.outbox import record

if TYPE_CHECKING:
    from fhir_server.server import FhirServer

#: The statuses each server change may start from (a client's ``off`` or new request always wins).
FROM = {"active": ("requested", "error"), "error": ("requested", "active"), "off": ("requested", "active", "error")}


def set_status(server: FhirServer, subscription_id: str, status: str, error: str | None = None) -> bool:
    """Move the Subscription to ``status`` if it is in a status that allows it; whether it moved."""
    with server.db.writing() as conn:
        ctx = Context(server, conn)
        ctx.subscription_status_write = True

        def attempt() -> bool:
            current = ctx.store.current("Subscription", subscription_id)
            if current is None or current.deleted or current.content is None:
                return False
            if current.content.get("status") not in FROM[status]:
                return False
            content = copy.deepcopy(current.content)
            content["status"] = status
            if error:
                content["error"] = error
            else:
                content.pop("error", None)
            _, changed = update_resource(ctx, current, content, "PUT")
            return changed

        moved = write_with_retries(ctx, attempt)
        wake = record(ctx)
    server.wake(wake)
    return moved
