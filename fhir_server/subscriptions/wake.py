"""Waking the workers after a commit: the Subscriptions that got events are sent, coalesced, as ``ryggrad.deliver``
tasks from a background thread, so a request never waits on the broker. A wake-up that cannot be sent (the broker
is down) is only latency: the scheduler's sweep finds the events in the outbox."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fhir_server.settings import Settings

log = logging.getLogger(__name__)

DELIVER = "ryggrad.deliver"


class Waker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pending: set[str] = set()
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._app: Any = None

    @property
    def app(self) -> Any:
        if self._app is None:
            from workers.celery_app import make_app

            self._app = make_app(self.settings)
        return self._app

    def wake(self, subscription_ids: Iterable[str]) -> None:
        ids = set(subscription_ids)
        if not ids:
            return
        with self._cond:
            if self._closed:
                return
            self._pending |= ids
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ryggrad-waker", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending and self._closed:
                    return
                ids, self._pending = self._pending, set()
            self.send(ids)

    def send(self, ids: Iterable[str]) -> None:
        for sid in sorted(ids):
            try:
                self.app.send_task(DELIVER, args=[sid], retry=False)
            except Exception as exc:  # the sweep will find the events
                log.warning("could not wake a worker for Subscription/%s: %s", sid, type(exc).__name__)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._app is not None:
            self._app.close()
