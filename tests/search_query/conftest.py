"""Fixtures for the query builder: resources and index rows written straight into a migrated database.

``seed`` gives each test a fresh id prefix, so tests sharing the session database (SQLite and PostgreSQL, from
``tests/conftest.py``) never see each other's resources: searches are limited to the test's own ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from fhir_server.definitions.registry import Definitions
from fhir_server.search.index.date_spans import finish_dates
from fhir_server.search.index.rows import (
    DateRow,
    NumberRow,
    QuantityRow,
    ReferenceRow,
    StringRow,
    TokenRow,
    UriRow,
)
from fhir_server.search.query import SearchParameterRegistry, SearchPlan, build_conditions
from fhir_server.server import FhirServer
from fhir_server.storage.schema import (
    resource,
    search_date,
    search_number,
    search_quantity,
    search_reference,
    search_string,
    search_token,
    search_uri,
)
from tests.conftest import BASE_URL

_TABLES = {
    TokenRow: search_token,
    StringRow: search_string,
    ReferenceRow: search_reference,
    DateRow: search_date,
    NumberRow: search_number,
    QuantityRow: search_quantity,
    UriRow: search_uri,
}
NOW = datetime(2026, 1, 1, 12, 0, 0)


@pytest.fixture(scope="session")
def registry(definitions: Definitions) -> SearchParameterRegistry:
    return SearchParameterRegistry(definitions)


class Seed:
    """Writes resources with hand-made index rows; searches among them only."""

    def __init__(self, server: FhirServer, registry: SearchParameterRegistry) -> None:
        self.server = server
        self.registry = registry
        self.prefix = f"t{uuid.uuid4().hex[:10]}-"

    def id(self, local: str) -> str:
        return self.prefix + local

    def ref(self, param: str, target_type: str, local: str, **kw: Any) -> ReferenceRow:
        return ReferenceRow(param, target_type, self.id(local), **kw)

    def add(
        self,
        resource_type: str,
        local: str,
        *rows: Any,
        last_updated: datetime = datetime(2025, 6, 1, 12, 0, 0),
        deleted: bool = False,
    ) -> int:
        with self.server.db.writing() as conn:
            rid = conn.execute(
                resource.insert()
                .values(
                    resource_type=resource_type,
                    id=self.id(local),
                    version_id=1,
                    last_updated=last_updated,
                    deleted=deleted,
                    content=None if deleted else {"resourceType": resource_type, "id": self.id(local)},
                )
                .returning(resource.c.rid)
            ).scalar_one()
            dates = finish_dates([row for row in rows if isinstance(row, DateRow)])  # as the indexer writes them
            for row in [*(row for row in rows if not isinstance(row, DateRow)), *dates]:
                conn.execute(_TABLES[type(row)].insert().values(rid=rid, resource_type=resource_type, **row._asdict()))
        return rid

    def plan(self, resource_type: str | None, params: Sequence[tuple[str, str]], **kw: Any) -> SearchPlan:
        kw.setdefault("strict", True)
        kw.setdefault("base_url", BASE_URL)
        kw.setdefault("now", NOW)
        kw.setdefault("dialect", self.server.db.dialect)
        return build_conditions(resource_type, list(params), self.registry, **kw)

    def ids(self, resource_type: str | None, params: Sequence[tuple[str, str]] | str, **kw: Any) -> set[str]:
        """Local ids of this test's resources matching ``params`` (a list of pairs or ``a=b&c=d``)."""
        if isinstance(params, str):
            params = [tuple(p.split("=", 1)) for p in params.split("&")]  # type: ignore[misc]
        plan = self.plan(resource_type, params, **kw)  # type: ignore[arg-type]
        query = select(resource.c.id).where(*plan.conditions, resource.c.id.startswith(self.prefix))
        with self.server.db.reading() as conn:
            return {row.id[len(self.prefix) :] for row in conn.execute(query)}


@pytest.fixture
def seed(server: FhirServer, registry: SearchParameterRegistry) -> Seed:
    return Seed(server, registry)
