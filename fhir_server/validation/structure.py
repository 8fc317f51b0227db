"""Structural validation of FHIR R4 resources: is this JSON a valid R4 resource?

Two layers:

* **R4 rules** (always): compiled once per type from the R4 core StructureDefinition snapshots (``rules.py``) and
  applied by a plain JSON walk (``walker.py``): unknown elements (so R4B-only elements are rejected), min/max
  cardinality inside present parents (datatypes and backbone elements included), array vs single value, choice
  types, primitives (JSON type, the R4 regex, calendar dates, integer ranges), required bindings to enumerable
  ValueSets, and contained / ``Bundle.entry.resource`` / ``Parameters`` resources as resources of their own type.
* **R4B pydantic models** (``check_models=True``; the server's setting ``validate_with_models``, off by default):
  ``fhir.resources.R4B`` as a second opinion, with the known R4B-vs-R4 differences removed (``model_check.py``).
  They cost ~350 µs per typical resource against ~50 µs for the rules, which already cover everything the models
  check for R4 (15,000 random mutations of Synthea resources: the models caught nothing the rules missed, the
  rules caught 1,600 the models let through).

Only errors make a resource invalid; warnings (severity "warning") are informative.
"""

from __future__ import annotations

from fhir_server.definitions.registry import Definitions
from fhir_server.errors import Issue
from fhir_server.validation.model_check import ModelChecker
from fhir_server.validation.rules import RuleCompiler
from fhir_server.validation.walker import StructureWalker


class ResourceValidator:
    """Validates resources against R4 (thread-safe; rules are compiled on first use of each type)."""

    def __init__(self, definitions: Definitions, *, check_models: bool = False) -> None:
        self.definitions = definitions
        self.compiler = RuleCompiler(definitions)
        self._walker = StructureWalker(self.compiler)
        self._models = ModelChecker() if check_models else None

    def validate(self, resource: object) -> list[Issue]:
        """Issues found in ``resource`` (a parsed JSON object); no error-severity issue means valid R4."""
        issues: list[Issue] = []
        self._walker.resource(resource, None, issues)
        if self._models is not None:
            reported = {expression for issue in issues for expression in issue.expression}
            issues.extend(
                issue for issue in self._models.check(resource) if not reported.intersection(issue.expression)
            )
        return issues

    def is_valid(self, resource: object) -> bool:
        return not any(issue.severity in ("error", "fatal") for issue in self.validate(resource))

    def warm_up(self) -> int:
        """Compile the rules (and import the models) of every resource type now rather than on first use."""
        if self._models is not None:
            self._models.warm_up(self.definitions.resource_types)
        return self.compiler.compile_all()
