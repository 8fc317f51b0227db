"""What an interaction works with: one database transaction, the definitions, the validator, one clock reading."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from fhir_server.auth.ownership import Ownership
from fhir_server.storage.store import ResourceStore, StoredVersion

if TYPE_CHECKING:
    from fhir_server.auth.principal import Principal
    from fhir_server.server import FhirServer


#: Readable by the registry's administration only.
AUDIT_ONLY_TYPES = frozenset({"AuditEvent"})


def utc_now() -> datetime:
    """Naive UTC, as stored."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Change:
    """One new version written in a transaction: ``previous`` the content it replaced (None for a create),
    ``matched`` what subscriptions matched a deleted resource just before its index rows went."""

    version: StoredVersion
    previous: dict[str, Any] | None
    action: str  # create | update | delete
    matched: frozenset[str] | None = None


@dataclass
class Context:
    server: FhirServer
    conn: Connection
    now: datetime = field(default=None)  # type: ignore[assignment]  # default: the server's clock
    in_bundle: bool = False
    principal: Principal | None = None  # the caller; None: the server itself (workers, loaders)
    store: ResourceStore = field(init=False)
    ownership: Ownership = field(init=False)  # the unit the caller acts for, and what it may see
    _patient_ids: list[str] | None = field(default=None, init=False)
    # what this transaction changed, for the subscriptions' outbox (``fhir_server.subscriptions.outbox``)
    changes: list[Change] = field(default_factory=list, init=False)
    #: set by the server's own Subscription status changes (active, error), which are not a client's request
    subscription_status_write: bool = False
    subscription_secrets: dict[str, str] = field(default_factory=dict, init=False)  # id → new signing secret
    active_subscriptions: list[Any] | None = field(default=None, init=False)  # read once per transaction

    def __post_init__(self) -> None:
        if self.now is None:
            self.now = self.server.clock()
        self.store = ResourceStore(self.conn)
        if self.principal is not None and self.principal.role == "researcher":
            from fhir_server.research.access import research_access

            self.ownership = research_access(self.server, self.conn, self.principal.study)
        else:
            self.ownership = Ownership.of(self.principal)

    @property
    def is_patient(self) -> bool:
        return self.principal is not None and self.principal.role == "patient"

    def patient_ids(self) -> list[str]:
        """The caller's own Patient ids (role patient: found by the token's person number)."""
        if self._patient_ids is None and self.principal is not None and self.principal.patient is not None:
            self._patient_ids = [self.principal.patient]  # a clinic tablet's session: the patient of its one Task
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
        if self.principal.role == "researcher":  # everything not released to researchers
            from fhir_server.research.rules import hidden_types

            return hidden_types(self.server.resource_types) | AUDIT_ONLY_TYPES
        return AUDIT_ONLY_TYPES

    @property
    def base_url(self) -> str:
        return self.server.settings.base_url.rstrip("/")
