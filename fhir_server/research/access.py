"""What a researcher's request may touch, as the query layer applies it: the same interface as a unit's
``Ownership`` (a condition per resource type, over any type, one resource), answered by the data release's scope
(``scope.py``). Researchers never write, and have no history (earlier versions may hold what was corrected or
withdrawn)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, false, or_, select

from fhir_server.auth.ownership import Ownership
from fhir_server.errors import FhirError, Issue
from fhir_server.research import scope
from fhir_server.research.release import Release, release_of, study_id_of
from fhir_server.research.rules import ReleaseRules, release_rules
from fhir_server.storage.schema import resource


@dataclass(frozen=True)
class ResearchAccess(Ownership):
    server: Any = None
    release: Release | None = None
    rules: ReleaseRules | None = None
    conn: Any = None

    @property
    def sees_all(self) -> bool:
        return False

    def condition(self, resource_type: str) -> ColumnElement[bool] | None:
        assert self.release is not None and self.rules is not None
        return scope.condition(self.server, self.release, self.rules, resource_type)

    def any_type_condition(self, table: FromClause = resource) -> ColumnElement[bool] | None:
        assert self.rules is not None
        if table is not resource:
            return false()  # no history
        clauses: list[ColumnElement[bool]] = [resource.c.resource_type.in_(sorted(self.rules.shared))]
        for kind in sorted(self.rules.released):
            restriction = self.condition(kind)
            kind_rows = resource.c.resource_type == kind
            clauses.append(kind_rows if restriction is None else and_(kind_rows, restriction))
        return or_(*clauses)

    def sees(self, resource_type: str, content: dict[str, Any] | None) -> bool:
        assert self.rules is not None
        if resource_type in self.rules.shared:
            return True
        if content is None or resource_type not in self.rules.released or self.conn is None:
            return False
        restriction = self.condition(resource_type)
        query = select(resource.c.rid).where(
            resource.c.resource_type == resource_type, resource.c.id == str(content.get("id")), ~resource.c.deleted
        )
        if restriction is not None:
            query = query.where(restriction)
        return self.conn.execute(query.limit(1)).first() is not None

    def stamp(self, resource_type: str, content: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        raise FhirError(403, [Issue("forbidden", "Access denied: researchers do not write")])

    def claimable(self, resource_type: str, params: Any) -> bool:
        return False

    def shown(self, body: dict[str, Any] | None) -> dict[str, Any] | None:
        return body  # de-identified by the research gateway, which also records the pseudonyms it hands out


def research_access(server: Any, conn: Any, study: str | None) -> ResearchAccess:
    """The access of a researcher whose token names ``study``, read on ``conn``; 403 unless the release grants
    it today."""
    from fhir_server.storage.store import ResourceStore

    study_id = study_id_of(study, server.settings)
    found = ResourceStore(conn).current("ResearchStudy", study_id)
    content = found.content if found is not None and not found.deleted else None
    release = release_of(server.settings, study_id, content, server.clock().date())
    return ResearchAccess(None, server, release, release_rules(), conn)
