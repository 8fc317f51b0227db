"""Kinds of resources by what they are for: definitions (conformance and knowledge resources that describe how
data looks or is computed) as opposed to the records they describe."""

from __future__ import annotations

#: Resource types that define rather than record: the conformance package, and what every unit reads.
CONFORMANCE_TYPES = frozenset(
    {
        "ActivityDefinition",
        "CapabilityStatement",
        "CodeSystem",
        "CompartmentDefinition",
        "ConceptMap",
        "GraphDefinition",
        "ImplementationGuide",
        "Library",
        "Measure",
        "MessageDefinition",
        "NamingSystem",
        "OperationDefinition",
        "PlanDefinition",
        "Questionnaire",
        "SearchParameter",
        "StructureDefinition",
        "StructureMap",
        "TerminologyCapabilities",
        "ValueSet",
    }
)
