"""Per-institution isolation: every resource of registry data belongs to one or more units (a security label in
``meta.security``: system ``OWNER_SYSTEM``, code = the unit's organisasjonsnummer), and a unit's users see and
change only what their unit owns (rule N20).

- Writes stamp the label: a unit's user creates resources owned by their unit; an update keeps the owners the
  resource has (a client can neither drop nor add one). The registry administration and the server itself (its
  workers) write labels as given, and an update without any keeps the current ones.
- Reads, searches, includes, chains, ``_has``, histories and conditional interactions are restricted in the
  database query (``condition`` and ``any_type_condition``); a resource of another unit answers 404, as if it did
  not exist.
- The same person treated at two units is one Patient with two owners: a unit's conditional create (or
  conditional reference) by the national identity number claims the existing Patient for the unit
  (``claimable``) instead of creating a duplicate. Knowing the number, the unit learns nothing new.
- A unit's user never sees another unit's label (``shown``: which other clinics treat a person is health
  information) and cannot search by labels (``_security``).
- Conformance resources (Questionnaires, ValueSets …) and the directory (Organizations, Practitioners,
  Locations …) are shared: every unit reads them; who writes them is the role's business (``roles``).

The label is indexed like any other (``_security``), so the restriction is one more set of index rows, merged
with the search's own in ``rid`` order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause, exists, or_, select

from fhir_server.auth.principal import UNIT_ROLES, Principal
from fhir_server.definitions.kinds import CONFORMANCE_TYPES
from fhir_server.errors import FhirError, Issue
from fhir_server.norway.identifiers import DNR_SYSTEM, FNR_SYSTEM
from fhir_server.storage.schema import resource, search_token

OWNER_SYSTEM = "https://ryggrad.no/fhir/CodeSystem/owner"
OWNER_PARAM = "_security"

DIRECTORY_TYPES = frozenset(
    {
        "Endpoint",
        "HealthcareService",
        "Location",
        "Medication",
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "Substance",
    }
)
#: Read by every unit; never labelled with an owner.
SHARED_TYPES = CONFORMANCE_TYPES | DIRECTORY_TYPES

#: Identifier systems by which a unit may claim a Patient another unit registered.
NATIONAL_IDENTITY_SYSTEMS = (FNR_SYSTEM, DNR_SYSTEM)


def owners(content: dict[str, Any] | None) -> set[str]:
    """The units ``content``'s owner labels name."""
    meta = (content or {}).get("meta")
    labels = meta.get("security") if isinstance(meta, dict) else None
    if not isinstance(labels, list):
        return set()
    return {
        str(label["code"])
        for label in labels
        if isinstance(label, dict) and label.get("system") == OWNER_SYSTEM and label.get("code")
    }


def with_owners(content: dict[str, Any], units: Iterable[str]) -> dict[str, Any]:
    """A copy of ``content`` whose owner labels are exactly ``units`` (sorted), its other labels kept in place."""
    meta = dict(content.get("meta") or {})
    labels = meta.get("security") if isinstance(meta.get("security"), list) else []
    kept = [label for label in labels if not (isinstance(label, dict) and label.get("system") == OWNER_SYSTEM)]
    kept += [{"system": OWNER_SYSTEM, "code": unit} for unit in sorted(set(units))]
    if kept:
        meta["security"] = kept
    else:
        meta.pop("security", None)
    stamped = dict(content)
    if meta:
        stamped["meta"] = meta
    else:
        stamped.pop("meta", None)
    return stamped


def is_owned_type(resource_type: str) -> bool:
    return resource_type not in SHARED_TYPES


def _owned_rows(unit: str, rid: Any) -> Any:
    """EXISTS an owner label of ``unit`` on the resource ``rid`` (a correlated column)."""
    t = search_token.c
    return exists().where(t.rid == rid, t.param == OWNER_PARAM, t.code == unit, t.system == OWNER_SYSTEM)


@dataclass(frozen=True)
class Ownership:
    """The unit a request acts for; ``unit`` None sees every unit (the registry administration, the server)."""

    unit: str | None = None

    @classmethod
    def of(cls, principal: Principal | None) -> Ownership:
        """The unit a caller acts for: staff of a unit; everyone else (the registry administration, the server
        itself, patients — whom ``patient_scope`` restricts further) is bound to no unit."""
        bound = principal is not None and principal.role in UNIT_ROLES
        return cls(principal.org if bound and principal is not None else None)

    @property
    def sees_all(self) -> bool:
        return self.unit is None

    def condition(self, resource_type: str) -> ColumnElement[bool] | None:
        """Rows of ``resource_type`` the unit may see (None: all of them)."""
        if self.unit is None or not is_owned_type(resource_type):
            return None
        t = search_token.c
        owned = select(t.rid).where(
            t.resource_type == resource_type, t.param == OWNER_PARAM, t.code == self.unit, t.system == OWNER_SYSTEM
        )
        return resource.c.rid.in_(owned.correlate(None))

    def any_type_condition(self, table: FromClause = resource) -> ColumnElement[bool] | None:
        """The same over resources of any type: shared types, or a ``_security`` row naming the unit. ``table``:
        ``resource``, or ``resource_history`` (whose rows are checked through the resource's current labels)."""
        if self.unit is None:
            return None
        shared = table.c.resource_type.in_(sorted(SHARED_TYPES))
        if table is resource:
            return or_(shared, _owned_rows(self.unit, resource.c.rid))
        current = resource.alias("owned_current")
        owned = (
            exists()
            .where(current.c.resource_type == table.c.resource_type, current.c.id == table.c.id)
            .where(_owned_rows(self.unit, current.c.rid))
        )
        return or_(shared, owned)

    def sees(self, resource_type: str, content: dict[str, Any] | None) -> bool:
        """Whether the unit may see a resource whose (latest) content is ``content``."""
        return self.unit is None or not is_owned_type(resource_type) or self.unit in owners(content)

    def stamp(self, resource_type: str, content: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        """``content`` with the owner labels it is written with (``current``: the content it replaces, if any)."""
        if not is_owned_type(resource_type):
            return with_owners(content, ()) if owners(content) else content
        if self.unit is None:
            given = owners(content)
            return content if given or current is None else with_owners(content, owners(current))
        return with_owners(content, owners(current) if current is not None else {self.unit})

    def claimable(self, resource_type: str, params: Sequence[tuple[str, str]]) -> bool:
        """Whether a conditional match on ``params`` may find another unit's resource, to claim it: a Patient
        by national identity number (``identifier=<FNR or DNR system>|<number>``) and nothing else."""
        if self.unit is None or resource_type != "Patient" or not params:
            return False
        for name, value in params:
            system, bar, code = value.partition("|")
            if name != "identifier" or not bar or system not in NATIONAL_IDENTITY_SYSTEMS or not code or "," in value:
                return False
        return True

    def shown(self, body: dict[str, Any] | None) -> dict[str, Any] | None:
        """A response body as the unit may see it: no other unit's owner label on any resource in it (a Bundle's
        entries included), since which other clinics treat a person is itself health information."""
        if self.unit is None or not isinstance(body, dict):
            return body
        if body.get("resourceType") == "Bundle" and isinstance(body.get("entry"), list):
            body = {**body, "entry": [self._shown_entry(entry) for entry in body["entry"]]}
        theirs = owners(body) - {self.unit}
        return with_owners(body, owners(body) & {self.unit}) if theirs else body

    def _shown_entry(self, entry: Any) -> Any:
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
            return {**entry, "resource": self.shown(entry["resource"])}
        return entry

    def claim(self, content: dict[str, Any]) -> dict[str, Any]:
        """``content`` owned by the unit as well."""
        assert self.unit is not None
        return with_owners(content, owners(content) | {self.unit})


def refuse_label_searches(params: Sequence[tuple[str, str]]) -> None:
    """403 for a search by (or sorted by) ``_security``, anywhere in a chain or ``_has``: for a unit's user the
    owner labels would tell which other units treat the person."""
    for name, value in params:
        parts = re.split(r"[.:]", name)
        sorted_by = [v.strip().lstrip("-") for v in value.split(",")] if name == "_sort" else []
        if OWNER_PARAM in parts or OWNER_PARAM in sorted_by:
            raise FhirError(403, [Issue("forbidden", "Access denied: a unit's users do not search by security labels")])
