"""The Subscriptions that are not ``off``, as specs: read from the database at each write transaction (another API
process may have just created one), parsed once per version and kept."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, select

from fhir_server.errors import FhirError
from fhir_server.storage.schema import resource, subscription_state
from fhir_server.subscriptions.spec import SubscriptionSpec, parse_spec

if TYPE_CHECKING:
    from fhir_server.subscriptions.topics import Topics

log = logging.getLogger(__name__)

_LIVE = (
    select(subscription_state.c.id, resource.c.version_id)
    .join(
        resource,
        and_(resource.c.resource_type == "Subscription", resource.c.id == subscription_state.c.id),
    )
    .where(subscription_state.c.status != "off", resource.c.deleted.is_(False))
)


class ActiveSubscriptions:
    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self._parsed: dict[tuple[str, int], SubscriptionSpec | None] = {}
        self._lock = threading.Lock()

    def load(self, conn: Connection) -> list[SubscriptionSpec]:
        rows = conn.execute(_LIVE).all()
        specs = []
        for row in rows:
            key = (row.id, row.version_id)
            if key not in self._parsed:
                self._parse(conn, key)
            spec = self._parsed.get(key)
            if spec is not None:
                specs.append(spec)
        return specs

    def spec(self, conn: Connection, subscription_id: str) -> SubscriptionSpec | None:
        """The current version's spec (None: deleted, unknown or no longer valid)."""
        version = conn.execute(
            select(resource.c.version_id).where(
                resource.c.resource_type == "Subscription",
                resource.c.id == subscription_id,
                resource.c.deleted.is_(False),
            )
        ).scalar()
        if version is None:
            return None
        key = (subscription_id, version)
        if key not in self._parsed:
            self._parse(conn, key)
        return self._parsed.get(key)

    def _parse(self, conn: Connection, key: tuple[str, int]) -> None:
        row = conn.execute(
            select(resource.c.content, resource.c.version_id).where(
                resource.c.resource_type == "Subscription", resource.c.id == key[0]
            )
        ).first()
        if row is None or not isinstance(row.content, dict):
            return
        spec: SubscriptionSpec | None = None
        try:
            spec = parse_spec(key[0], row.version_id, row.content, self.topics)
        except FhirError as error:  # e.g. a topic no longer offered: the Subscription matches nothing
            log.warning("Subscription/%s cannot be used: %s", key[0], error.issues[0].diagnostics)
        with self._lock:
            if len(self._parsed) > 10_000:
                self._parsed.clear()
            self._parsed[(key[0], row.version_id)] = spec
