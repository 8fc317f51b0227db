"""``ResourceIndexer``: the typed index rows of a resource, from every SearchParameter that applies to its type.

Plans are compiled once per resource type on first use (or all at once with ``compile_all``, ~0.3 s for every R4
type) and shared by threads; ``rows`` only runs the compiled extractors of the keys the resource has.

Rows are not deduplicated (a city that is also the district gives two equal string rows): searches must test for
existence, never count rows. Composite components are ``<code>$<i>`` rows numbered ``grp`` 0, 1, ... per parameter
and resource, one group per base element in which every component has a value.
"""

from __future__ import annotations

import threading
from typing import Any

from fhir_server.definitions.registry import Definitions
from fhir_server.search.index.date_spans import finish_dates
from fhir_server.search.index.emit import EmitterTable
from fhir_server.search.index.model import TypeModel
from fhir_server.search.index.plan import FALLBACK, ParamStatus, PlanBuilder, TypePlan
from fhir_server.search.index.references import ReferenceParser
from fhir_server.search.index.rows import IndexRows


class ResourceIndexer:
    """Extracts ``IndexRows`` from resources as the SearchParameters of ``definitions`` define them."""

    def __init__(self, definitions: Definitions, *, fallback: bool = True, base_url: str | None = None) -> None:
        """``base_url``: this server's base, whose absolute URLs are indexed as local (relative) references."""
        self.definitions = definitions
        self.model = TypeModel(definitions)
        self.parser = ReferenceParser(definitions.resource_types, base_url)
        self.emitters = EmitterTable(self.parser)
        self._builder = PlanBuilder(definitions, self.model, self.emitters, fallback)
        self._plans: dict[str, TypePlan] = {}
        self._lock = threading.Lock()

    def rows(self, resource: dict[str, Any]) -> IndexRows:
        """Every index row of ``resource`` (an unknown resource type gives no rows)."""
        rows = IndexRows()
        plan = self._plans.get(resource.get("resourceType"))  # type: ignore[arg-type]
        if plan is None:
            resource_type = resource.get("resourceType")
            if not isinstance(resource_type, str) or resource_type not in self.definitions.resource_types:
                return rows
            plan = self.plan(resource_type)
        by_key = plan.by_key
        for key, value in resource.items():
            extractors = by_key.get(key)
            if extractors is not None:
                for extract in extractors:
                    extract(value, resource, rows)
        for extract_root in plan.root:
            extract_root(resource, rows)
        if rows.dates:
            rows.dates = finish_dates(rows.dates)
        return rows

    def plan(self, resource_type: str) -> TypePlan:
        """The compiled plan of a resource type (built on first use, thread-safe)."""
        plan = self._plans.get(resource_type)
        if plan is None:
            with self._lock:
                plan = self._plans.get(resource_type)
                if plan is None:
                    plan = self._builder.build(resource_type)
                    self._plans[resource_type] = plan
        return plan

    def compile_all(self) -> list[ParamStatus]:
        """Compile every resource type up front; returns the status of every (type, parameter)."""
        statuses: list[ParamStatus] = []
        for resource_type in sorted(self.definitions.resource_types):
            statuses.extend(self.plan(resource_type).status)
        return statuses

    def fallbacks(self) -> list[ParamStatus]:
        """The parameters evaluated by fhirpathpy instead of compiled code (compiles every type)."""
        return [status for status in self.compile_all() if status.mode == FALLBACK]
