"""The query builder: FHIR search parameters → SQL conditions over the typed index tables.

``build_conditions(resource_type, params, SearchParameterRegistry(definitions), strict=…, base_url=…)`` → a
``SearchPlan`` whose ``conditions`` filter ``resource``; see ``builder`` for the contract and the type modules
(``string``, ``token``, ``reference``, ``date``, ``number``, ``quantity``, ``uri``, ``composite``, ``special``,
``has``) for each parameter type's semantics.
"""

from fhir_server.search.query.builder import CONTROL_PARAMETERS, SUPPORTED_MODIFIERS, SearchPlan, build_conditions
from fhir_server.search.query.registry import SearchParam, SearchParameterRegistry

__all__ = [
    "CONTROL_PARAMETERS",
    "SUPPORTED_MODIFIERS",
    "SearchParam",
    "SearchParameterRegistry",
    "SearchPlan",
    "build_conditions",
]
