"""What an interaction works with: one database transaction, the definitions, the validator, one clock reading."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from fhir_server.auth.ownership import Ownership
from fhir_server.storage.store import ResourceStore

if TYPE_CHECKING:
    from fhir_server.auth.principal import Principal
    from fhir_server.server import FhirServer


#: Readable by the registry's administration only.
AUDIT_ONLY_TYPES = frozenset({"AuditEvent"})


def utc_now() -> datetime:
    """Naive UTC, as stored."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Context:
    server: FhirServer
    conn: Connection
    now: datetime = field(default_factory=utc_now)
    in_bundle: bool = False
    principal: Principal | None = None  # the caller; None: the server itself (workers, loaders)
    store: ResourceStore = field(init=False)
    ownership: Ownership = field(init=False)  # the unit the caller acts for, and what it may see
    _patient_ids: list[str] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.store = ResourceStore(self.conn)
        self.ownership = Ownership.of(self.principal)

    @property
    def is_patient(self) -> bool:
        return self.principal is not None and self.principal.role == "patient"

    def patient_ids(self) -> list[str]:
        """The caller's own Patient ids (role patient: found by the token's person number)."""
        if self._patient_ids is None:
            from fhir_server.auth.patient_scope import own_patient_ids

            self._patient_ids = own_patient_ids(self.conn, self.principal.pid if self.principal else None)
        return self._patient_ids

    @property
    def hidden_types(self) -> frozenset[str]:
        """Types the caller may not see even through system-wide searches, compartments and includes: the audit
        trail, except for the registry's administration (and the server itself)."""
        if self.principal is None or self.principal.role == "registry-admin":
            return frozenset()
        return AUDIT_ONLY_TYPES

    @property
    def base_url(self) -> str:
        return self.server.settings.base_url.rstrip("/")
