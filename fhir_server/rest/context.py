"""What an interaction works with: one database transaction, the definitions, the validator, one clock reading."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from fhir_server.storage.store import ResourceStore

if TYPE_CHECKING:
    from fhir_server.server import FhirServer


def utc_now() -> datetime:
    """Naive UTC, as stored."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Context:
    server: FhirServer
    conn: Connection
    now: datetime = field(default_factory=utc_now)
    in_bundle: bool = False
    store: ResourceStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = ResourceStore(self.conn)

    @property
    def base_url(self) -> str:
        return self.server.settings.base_url.rstrip("/")
