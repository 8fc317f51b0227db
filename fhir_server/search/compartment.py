"""Compartments (``Patient/123/Observation``), from the core CompartmentDefinitions: a resource is in the
compartment when one of the definition's parameters for its type references the compartment's owner."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import ColumnElement, and_, false, or_, select

from fhir_server.definitions.registry import Definitions
from fhir_server.errors import bad_request
from fhir_server.storage.schema import resource, search_reference

COMPARTMENT_URL = "http://hl7.org/fhir/CompartmentDefinition/{}"
OWNER_ITSELF = "{def}"  # the compartment owner is in its own compartment


class Compartments:
    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self.members = lru_cache(maxsize=None)(self._members)

    def _members(self, compartment_type: str) -> dict[str, tuple[str, ...]]:
        """Resource type → the parameters that put it in a ``compartment_type`` compartment."""
        definition = self.definitions.resource(
            "CompartmentDefinition", COMPARTMENT_URL.format(compartment_type.lower())
        )
        if definition is None or definition.get("code") != compartment_type:
            raise bad_request(
                f"{compartment_type} is not a compartment (Patient, Encounter, RelatedPerson, Practitioner, Device)"
            )
        return {r["code"]: tuple(r.get("param") or ()) for r in definition.get("resource", [])}

    def condition(self, compartment_type: str, owner_id: str, resource_type: str) -> ColumnElement[bool]:
        """Resources of ``resource_type`` in the compartment of ``compartment_type/owner_id``."""
        params = self.members(compartment_type).get(resource_type, ())
        ref = search_reference.c
        clauses: list[ColumnElement[bool]] = []
        index_params = [p for p in params if p != OWNER_ITSELF]
        if index_params:
            clauses.append(
                resource.c.rid.in_(
                    select(ref.rid).where(
                        ref.resource_type == resource_type,
                        ref.param.in_(index_params),
                        ref.target_type == compartment_type,
                        ref.target_id == owner_id,
                    )
                )
            )
        if resource_type == compartment_type:
            clauses.append(resource.c.id == owner_id)
        return and_(resource.c.resource_type == resource_type, or_(*clauses) if clauses else false())

    def resource_types(self, compartment_type: str) -> list[str]:
        return sorted(t for t, params in self.members(compartment_type).items() if params or t == compartment_type)
