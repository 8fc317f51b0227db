"""R4 websocket Subscriptions: ``[base]/websocket``, the bind-with-id flow.

The client connects (with its access token in the ``Authorization`` header of the upgrade request), sends
``bind <Subscription id>`` for each Subscription it may read whose channel is ``websocket``, gets ``bound <id>``,
and then a ``ping <id>`` for every event the Subscription gets — its cue to search for what changed. Workers
number the events (as for every channel); this process watches each bound Subscription's event count and pings
as it grows. Missed pings are replayed with ``$events``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect

from fhir_server.auth.principal import Principal
from fhir_server.errors import FhirError
from fhir_server.rest.messages import FhirRequest
from fhir_server.server import FhirServer
from fhir_server.storage.schema import subscription_state

log = logging.getLogger(__name__)

POLL_S = 0.1
CREDENTIALS = ("authorization", "dpop")


def _counts(server: FhirServer, ids: list[str]) -> dict[str, int]:
    s = subscription_state.c
    with server.db.reading() as conn:
        rows = conn.execute(select(s.id, s.events_since_start).where(s.id.in_(ids))).all()
    return {row.id: row.events_since_start for row in rows}


def _may_bind(server: FhirServer, principal: Principal, subscription_id: str) -> bool:
    """Whether the caller may read the Subscription and it is a websocket one."""
    try:
        response = server.execute(FhirRequest("GET", f"Subscription/{subscription_id}", principal=principal))
    except FhirError:
        return False
    channel = (response.resource or {}).get("channel") or {}
    return response.status == 200 and channel.get("type") == "websocket"


async def subscription_websocket(websocket: WebSocket) -> None:
    server: FhirServer = websocket.app.state.server
    headers = {name: websocket.headers[name] for name in CREDENTIALS if name in websocket.headers}
    try:
        principal = await run_in_threadpool(server.authenticator.authenticate, "GET", "websocket", headers)
    except FhirError:
        await websocket.close(code=1008)  # policy violation: no valid token
        return
    await websocket.accept()
    bound: dict[str, int] = {}  # Subscription id → the event count pinged so far

    async def pump() -> None:
        while True:
            await asyncio.sleep(POLL_S)
            if not bound:
                continue
            counts = await run_in_threadpool(_counts, server, list(bound))
            for sid, count in counts.items():
                seen = bound.get(sid)
                if seen is not None and count > seen:
                    bound[sid] = count
                    for _ in range(count - seen):
                        await websocket.send_text(f"ping {sid}")

    pumping = asyncio.create_task(pump())
    try:
        while True:
            message = (await websocket.receive_text()).strip()
            verb, _, sid = message.partition(" ")
            sid = sid.strip()
            if verb != "bind" or not sid:
                await websocket.send_text("error expected 'bind <Subscription id>'")
                continue
            if not await run_in_threadpool(_may_bind, server, principal, sid):
                await websocket.send_text(
                    f"error Subscription/{sid} is not a websocket Subscription the caller may read"
                )
                continue
            bound[sid] = (await run_in_threadpool(_counts, server, [sid])).get(sid, 0)
            await websocket.send_text(f"bound {sid}")
    except WebSocketDisconnect:
        pass
    finally:
        pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pumping
