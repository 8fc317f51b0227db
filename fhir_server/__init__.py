"""Ryggrad: a FHIR R4 server for Norwegian medical quality registries."""

FHIR_VERSION = "4.0.1"
__version__ = "0.1.0"
